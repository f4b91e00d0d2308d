//! The rows this rank reads, as spectra: a thin handle over the one reader in
//! [`crate::usid::SpectraLayout::read`] — or, for a gzip/shuffle-chunked dataset,
//! [`crate::usid::SpectraLayout::read_chunked`], which decodes the chunks on the rank's pool.

use std::path::Path;

use super::plan::RowSet;
use super::world::World;
use super::ComputeError;
use crate::usid::chunked::ChunkedRows;
use crate::usid::{ElementType, MainDataset, SpectraBlock, SpectraLayout};

/// The input as this rank reads it: through the mpio driver when several ranks share the file.
pub(crate) struct Reader {
    _file: hdf5::File,
    dataset: hdf5::Dataset,
    dtype: ElementType,
    layout: SpectraLayout,
    /// The fast path for a gzip/shuffle-chunked dataset: chunks decoded on the compute pool.
    chunked: Option<ChunkedRows>,
}

/// The reader of the rows: a plain run keeps the handle it validated the dataset with; an MPI job
/// reopens the file through the mpio driver (a collective open on every rank).
pub(crate) fn open_reader(
    world: &World,
    file: hdf5::File,
    main: &MainDataset,
    layout: &SpectraLayout,
    input: &Path,
) -> Result<Reader, ComputeError> {
    let layout = layout.clone();
    #[cfg(feature = "mpi")]
    if let Some(comm) = world.raw_comm() {
        drop(file);
        let shared =
            hdf5::File::with_options().with_fapl(|p| p.mpio(comm, None)).open(input).map_err(|e| {
                ComputeError::Input(crate::usid::UsidError(format!(
                    "{}: cannot open with MPI-IO: {e}",
                    input.display()
                )))
            })?;
        // The dataset was validated through `file` already: open it, do not check the ancillary
        // datasets again through MPI-IO, whose small strided reads cost one system call each.
        let dataset = shared.dataset(&main.path).map_err(|e| {
            ComputeError::Input(crate::usid::UsidError(format!(
                "{}: cannot open {} with MPI-IO: {e}",
                input.display(),
                main.path
            )))
        })?;
        return Ok(Reader::new(shared, dataset, main.dtype, layout));
    }
    let _ = (world, input);
    Ok(Reader::new(file, main.dataset().clone(), main.dtype, layout))
}

impl Reader {
    /// The reader of `dataset`'s rows through `file` (which must stay open while it reads).
    fn new(file: hdf5::File, dataset: hdf5::Dataset, dtype: ElementType, layout: SpectraLayout) -> Reader {
        Reader { chunked: ChunkedRows::open(&dataset, dtype), dataset, dtype, layout, _file: file }
    }
}

/// The spectra of one batch's rows (pixels), or `None` for an empty batch (a rank with nothing
/// left to do). Called from the thread that talks to HDF5 and MPI; a chunked, compressed
/// dataset's chunks are decoded on `pool` (the rank's compute pool), this thread waiting for them.
pub(crate) fn read_block(
    reader: &Reader,
    rows: &RowSet,
    pool: &rayon::ThreadPool,
) -> Result<Option<SpectraBlock>, ComputeError> {
    if rows.is_empty() {
        return Ok(None);
    }
    let ranges: Vec<std::ops::Range<usize>> =
        rows.ranges().iter().map(|r| r.start as usize..r.end as usize).collect();
    let block = match &reader.chunked {
        Some(chunked) => reader.layout.read_chunked(chunked, pool, reader.dtype, &ranges)?,
        None => reader.layout.read(&reader.dataset, reader.dtype, &ranges)?,
    };
    Ok(Some(block))
}
