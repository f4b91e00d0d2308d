//! The rows this rank reads, as spectra: the one reader, [`crate::usid::SpectraReader`], through
//! the file handle this rank should use.

use std::path::Path;

use super::plan::RowSet;
use super::world::World;
use super::ComputeError;
use crate::usid::{MainDataset, SpectraBlock, SpectraLayout, SpectraReader};

/// The reader of the rows: a plain run keeps the handle it validated the dataset with; an MPI job
/// reopens the file through the mpio driver (a collective open on every rank).
pub(crate) fn open_reader(
    world: &World,
    file: hdf5::File,
    main: &MainDataset,
    layout: &SpectraLayout,
    input: &Path,
) -> Result<SpectraReader, ComputeError> {
    #[cfg(feature = "mpi")]
    if let Some(comm) = world.raw_comm() {
        use crate::usid::UsidError;
        drop(file);
        let shared =
            hdf5::File::with_options().with_fapl(|p| p.mpio(comm, None)).open(input).map_err(|e| {
                ComputeError::Input(UsidError(format!("{}: cannot open with MPI-IO: {e}", input.display())))
            })?;
        return SpectraReader::through(shared, main, layout)
            .map_err(|UsidError(e)| ComputeError::Input(UsidError(format!("{e} with MPI-IO"))));
    }
    let _ = (world, input, file);
    Ok(SpectraReader::new(main, layout))
}

/// The spectra of one batch's rows (pixels), or `None` for an empty batch (a rank with nothing
/// left to do). Called from the thread that talks to HDF5 and MPI; a chunked, compressed
/// dataset's chunks are decoded on `pool` (the rank's compute pool), this thread waiting for them.
pub(crate) fn read_block(
    reader: &SpectraReader,
    rows: &RowSet,
    pool: &rayon::ThreadPool,
) -> Result<Option<SpectraBlock>, ComputeError> {
    if rows.is_empty() {
        return Ok(None);
    }
    let ranges: Vec<std::ops::Range<usize>> =
        rows.ranges().iter().map(|r| r.start as usize..r.end as usize).collect();
    Ok(Some(reader.read(&ranges, pool)?))
}
