//! The engine's way in, and its only contact with the file format: the file → the validated
//! dataset → its spectra along one dimension ([`SpectraLayout`], what the analysis sees) → the
//! reader of runs of positions ([`SpectraReader`], opened through the handle this rank should
//! use). A USID main dataset today; an NSID dataset is to give the same view and a reader of
//! the same kind, and nothing after this module tells them apart.

use std::path::{Path, PathBuf};

use super::engine::Job;
use super::world::World;
use super::ComputeError;
use crate::usid::{self, MainDataset, SpectraLayout, SpectraReader, UsidError};

/// A validated dataset seen as spectra.
pub(crate) struct Input {
    /// The input file as the dataset was validated through; let go when the reader opens.
    file: Option<hdf5::File>,
    path: PathBuf,
    main: MainDataset,
    /// The spectra every analysis gets: along which dimension, their values, the other dimensions.
    pub layout: SpectraLayout,
}

impl Input {
    /// Open `job.input` and its dataset (the file's only source dataset when `job.dataset` is
    /// `None`), validated, and lay its spectra out along `job.along` (the fastest dimension when
    /// `None`). A dataset without a spectrum to analyse is refused here, rather than in the writer,
    /// which cannot make an empty results dataset.
    pub(crate) fn open(job: &Job) -> Result<Input, ComputeError> {
        super::output::check_not_open_for_writing(&job.input)?;
        let file = usid::open_file(&job.input)?;
        let dataset = match &job.dataset {
            Some(p) => p.clone(),
            None => usid::select::only_source_dataset(&file, &job.input)
                .map_err(|e| ComputeError::of_class(e.class(), e.to_string()))?,
        };
        let main = MainDataset::open(&file, &dataset)?;
        if main.n_positions == 0 || main.n_bins == 0 {
            return Err(ComputeError::Input(UsidError(format!(
                "{}: {} has shape ({}, {}): no {} to analyse",
                job.input.display(),
                main.path,
                main.n_positions,
                main.n_bins,
                if main.n_positions == 0 { "pixels" } else { "spectral bins" }
            ))));
        }
        let layout = SpectraLayout::named(&main, job.along.as_deref())?.map_err(ComputeError::Usage)?;
        Ok(Input { file: Some(file), path: job.input.clone(), main, layout })
    }

    /// The input file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The dataset's path in the file (canonical: absolute).
    pub(crate) fn dataset(&self) -> &str {
        &self.main.path
    }

    /// The dataset's shape as stored.
    pub(crate) fn shape(&self) -> Vec<usize> {
        self.main.shape().to_vec()
    }

    /// numpy's name of the element type.
    pub(crate) fn dtype(&self) -> &'static str {
        self.main.dtype.name()
    }

    /// Positions (pixels): the rows the engine plans, batches and checkpoints.
    pub(crate) fn n_positions(&self) -> u64 {
        self.main.n_positions as u64
    }

    /// What one position costs in memory while in flight: its spectra in the batch being computed
    /// and in the next one being read, and its items.
    pub(crate) fn bytes_in_flight_per_position(&self) -> u64 {
        (self.main.n_bins * self.main.dtype.value_bytes() * 2 + 64) as u64
    }

    /// The reader of this rank's positions: a single process keeps the handle it validated the
    /// dataset with; an MPI job reopens the file through the mpio driver (a collective open on
    /// every rank), the validating handle let go first.
    pub(crate) fn open_reader(&mut self, world: &World) -> Result<SpectraReader, ComputeError> {
        let file = self.file.take();
        #[cfg(feature = "mpi")]
        if let Some(comm) = world.raw_comm() {
            drop(file);
            let input = &self.path;
            let shared =
                hdf5::File::with_options().with_fapl(|p| p.mpio(comm, None)).open(input).map_err(|e| {
                    ComputeError::Input(UsidError(format!(
                        "{}: cannot open with MPI-IO: {e}",
                        input.display()
                    )))
                })?;
            return SpectraReader::through(shared, &self.main, &self.layout)
                .map_err(|UsidError(e)| ComputeError::Input(UsidError(format!("{e} with MPI-IO"))));
        }
        let _ = (world, file);
        Ok(SpectraReader::new(&self.main, &self.layout))
    }
}
