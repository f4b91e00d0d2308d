//! The engine's way in, and its only contact with the file format: the file → the validated
//! dataset, USID or NSID ([`Source`]) → its spectra along one dimension ([`SpectraLayout`], what
//! the analysis sees) → the reader of runs of positions ([`SpectraReader`], opened through the
//! handle this rank should use). Nothing after this module tells the formats apart, but the
//! final write (`output`), which writes each source's results its own way.

use std::path::{Path, PathBuf};

use super::engine::Job;
use super::world::World;
use super::ComputeError;
use crate::nsid::{has_dimension_scales, NsidDataset, NsidError, Spectra};
use crate::usid::{self, MainDataset, SpectraLayout, SpectraReader, UsidError};

/// A validated source dataset: a USID main dataset (positions × bins), or an NSID dataset
/// (N-D, positions on its SPATIAL axes) with the spectra it is read as.
#[allow(clippy::large_enum_variant)] // one per run: boxing would only add an indirection
pub(crate) enum Source {
    Usid(MainDataset),
    Nsid(NsidDataset, Spectra),
}

impl Source {
    /// The dataset at `path` in `file`, and its spectra along `along` (`None`: the default):
    /// a USID main dataset when it is one, else an NSID dataset when it has dimension scales,
    /// else USID's reason why it is not a main dataset.
    pub(crate) fn open(
        file: &hdf5::File,
        path: &str,
        along: Option<&str>,
    ) -> Result<(Source, SpectraLayout), ComputeError> {
        let usid_err = match MainDataset::open(file, path) {
            Ok(main) => {
                let layout = SpectraLayout::named(&main, along)?.map_err(ComputeError::Usage)?;
                return Ok((Source::Usid(main), layout));
            }
            Err(e) => e,
        };
        if !has_dimension_scales(file, path) {
            return Err(usid_err.into());
        }
        let ds = NsidDataset::open(file, path)?;
        let spectra = Spectra::named(&ds, along)?;
        let layout = spectra.layout();
        Ok((Source::Nsid(ds, spectra), layout))
    }

    /// The dataset's path in the file (canonical: absolute).
    pub(crate) fn path(&self) -> &str {
        match self {
            Source::Usid(m) => &m.path,
            Source::Nsid(ds, _) => &ds.path,
        }
    }

    /// The dataset's shape as stored.
    pub(crate) fn shape(&self) -> Vec<usize> {
        match self {
            Source::Usid(m) => m.shape().to_vec(),
            Source::Nsid(ds, _) => ds.shape.clone(),
        }
    }

    /// numpy's name of the stored element type.
    pub(crate) fn dtype(&self) -> &'static str {
        match self {
            Source::Usid(m) => m.dtype.name(),
            Source::Nsid(ds, _) => ds.element.name(),
        }
    }

    /// Positions (pixels): the rows the engine plans, batches and checkpoints.
    pub(crate) fn n_positions(&self) -> usize {
        match self {
            Source::Usid(m) => m.n_positions,
            Source::Nsid(_, spectra) => spectra.n_positions,
        }
    }

    /// The reader of this source's spectra, through `file` when it is another handle on the
    /// file than the one the source was validated through (e.g. opened with MPI-IO).
    pub(crate) fn reader(
        &self,
        layout: &SpectraLayout,
        file: Option<hdf5::File>,
    ) -> Result<SpectraReader, ComputeError> {
        match (self, file) {
            (Source::Usid(main), None) => Ok(SpectraReader::new(main, layout)),
            (Source::Usid(main), Some(file)) => Ok(SpectraReader::through(file, main, layout)?),
            (Source::Nsid(ds, spectra), file) => {
                let dataset = match &file {
                    None => ds.dataset().clone(),
                    Some(f) => f.dataset(&ds.path).map_err(|e| {
                        UsidError(format!(
                            "{}: cannot open {} ({})",
                            f.filename(),
                            ds.path,
                            crate::error::one_line(e)
                        ))
                    })?,
                };
                Ok(SpectraReader::nsid(dataset, ds.element, spectra, file))
            }
        }
    }
}

impl From<NsidError> for ComputeError {
    fn from(e: NsidError) -> Self {
        ComputeError::of_class(e.class, e.message)
    }
}

/// A validated dataset seen as spectra.
pub(crate) struct Input {
    /// The input file as the dataset was validated through; let go when the reader opens.
    file: Option<hdf5::File>,
    path: PathBuf,
    pub source: Source,
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
        let (source, layout) = Source::open(&file, &dataset, job.along.as_deref())?;
        let n_values = layout.len() * layout.per_pixel();
        if source.n_positions() == 0 || n_values == 0 {
            let shape: Vec<String> = source.shape().iter().map(|n| n.to_string()).collect();
            return Err(ComputeError::Input(UsidError(format!(
                "{}: {} has shape ({}): no {} to analyse",
                job.input.display(),
                source.path(),
                shape.join(", "),
                if source.n_positions() == 0 { "pixels" } else { "spectral bins" }
            ))));
        }
        Ok(Input { file: Some(file), path: job.input.clone(), source, layout })
    }

    /// The input file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The dataset's path in the file (canonical: absolute).
    pub(crate) fn dataset(&self) -> &str {
        self.source.path()
    }

    /// The dataset's shape as stored.
    pub(crate) fn shape(&self) -> Vec<usize> {
        self.source.shape()
    }

    /// numpy's name of the element type.
    pub(crate) fn dtype(&self) -> &'static str {
        self.source.dtype()
    }

    /// Positions (pixels): the rows the engine plans, batches and checkpoints.
    pub(crate) fn n_positions(&self) -> u64 {
        self.source.n_positions() as u64
    }

    /// What one position costs in memory while in flight: its spectra in the batch being computed
    /// and in the next one being read (and once more while an NSID read arranges a block that
    /// the file holds in another order), and its items.
    pub(crate) fn bytes_in_flight_per_position(&self) -> u64 {
        let values = self.layout.len() * self.layout.per_pixel();
        let (bytes, copies) = match &self.source {
            Source::Usid(m) => (m.dtype.value_bytes(), 2),
            Source::Nsid(ds, spectra) => {
                (ds.element.value_bytes(), if spectra.reads_in_place() { 2 } else { 3 })
            }
        };
        (values * bytes * copies + 64) as u64
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
            return self.source.reader(&self.layout, Some(shared)).map_err(|e| match e {
                ComputeError::Input(UsidError(m)) => {
                    ComputeError::Input(UsidError(format!("{m} with MPI-IO")))
                }
                other => other,
            });
        }
        let _ = (world, file);
        self.source.reader(&self.layout, None)
    }
}
