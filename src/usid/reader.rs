//! The one reader of spectra: runs of positions (pixels) of a main dataset, read as the spectra a
//! [`SpectraLayout`] describes — through HDF5's hyperslab reads, or for a gzip/shuffle-chunked
//! dataset through the chunk decoder, which inflates chunks on the caller's rayon pool
//! (`super::chunked`).
//!
//! This is the engine's "reader of position slabs": the engine opens the file (through the MPI-IO
//! driver when ranks share it), hands it here with the validated dataset and its layout, and asks
//! for batches of positions; it never sees the file's layout.
use std::ops::Range;

use hdf5::Dataset;

use super::chunked::{ChunkedRows, RowValue};
use super::spectra::{SpectraBlock, SpectraLayout, Values};
use super::{ElementType, MainDataset, UsidError};
use crate::error::{one_line, Class};

/// Why spectra could not be read, with its class as a value: a dataset or chunk that cannot be
/// read or decoded is the input's ([`Class::Input`]); a read that fills fewer values than it
/// should is a bug ([`Class::Internal`]).
#[derive(Debug)]
pub struct ReadError {
    pub class: Class,
    /// One line naming the dataset, and the chunk where there is one.
    pub message: String,
}

impl ReadError {
    pub(crate) fn internal(message: String) -> Self {
        ReadError { class: Class::Internal, message }
    }
}

impl From<UsidError> for ReadError {
    fn from(e: UsidError) -> Self {
        ReadError { class: Class::Input, message: e.0 }
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for ReadError {}

/// Reads the spectra of runs of positions of one main dataset. Made once per run; every read is
/// called from the one thread that talks to HDF5.
pub struct SpectraReader {
    dataset: Dataset,
    dtype: ElementType,
    layout: SpectraLayout,
    /// The fast path for a gzip/shuffle-chunked dataset: chunks decoded on the caller's pool.
    chunked: Option<ChunkedRows>,
    /// An NSID dataset's spectra: hyperslabs of its N-D array arranged into spectra
    /// ([`crate::nsid::Spectra::read`]) instead of rows of a 2-D main dataset.
    nsid: Option<crate::nsid::Spectra>,
    /// The file the dataset was opened through, kept open while the reader reads.
    _file: Option<hdf5::File>,
}

impl SpectraReader {
    /// The reader of `main`'s spectra laid out by `layout`, through `main`'s own handle.
    pub fn new(main: &MainDataset, layout: &SpectraLayout) -> SpectraReader {
        Self::of(main.dataset().clone(), main.dtype, layout, None)
    }

    /// [`SpectraReader::new`] through `file`, another handle on `main`'s file (e.g. opened with
    /// the MPI-IO driver, collectively on every rank). The dataset was validated through `main`'s
    /// handle already and is only opened here: the ancillary datasets are not read again (through
    /// MPI-IO their small strided reads cost one system call each).
    pub fn through(
        file: hdf5::File,
        main: &MainDataset,
        layout: &SpectraLayout,
    ) -> Result<SpectraReader, UsidError> {
        let dataset = file.dataset(&main.path).map_err(|e| {
            UsidError(format!("{}: cannot open {} ({})", file.filename(), main.path, one_line(e)))
        })?;
        Ok(Self::of(dataset, main.dtype, layout, Some(file)))
    }

    /// The reader of the spectra of `dataset`, an NSID dataset of element type `dtype` laid out by
    /// `spectra` (values handed out as [`ElementType::read_as`]), through `file` when it is another
    /// handle than the one the dataset was validated through. HDF5 reads (and inflates) every
    /// hyperslab: the chunk decoder is for 2-D rows.
    pub(crate) fn nsid(
        dataset: Dataset,
        dtype: ElementType,
        spectra: &crate::nsid::Spectra,
        file: Option<hdf5::File>,
    ) -> SpectraReader {
        SpectraReader {
            dataset,
            dtype,
            layout: spectra.layout(),
            chunked: None,
            nsid: Some(spectra.clone()),
            _file: file,
        }
    }

    fn of(
        dataset: Dataset,
        dtype: ElementType,
        layout: &SpectraLayout,
        file: Option<hdf5::File>,
    ) -> SpectraReader {
        SpectraReader {
            chunked: ChunkedRows::open(&dataset, dtype),
            dataset,
            dtype,
            layout: layout.clone(),
            nsid: None,
            _file: file,
        }
    }

    /// This reader with HDF5 decoding every chunk itself, on the calling thread: the path the
    /// chunk decoder replaces, for benchmarks against it.
    pub fn without_chunk_decoder(mut self) -> SpectraReader {
        self.chunked = None;
        self
    }

    /// The chunk shape (rows, columns) when chunks are decoded on the pool; `None` when HDF5 reads.
    pub fn decoded_chunks(&self) -> Option<(u64, usize)> {
        self.chunked.as_ref().map(ChunkedRows::chunk_shape)
    }

    /// The spectra of the positions `positions` (sorted, disjoint row ranges), one position after
    /// the other: every position gives [`SpectraLayout::per_pixel`] spectra of
    /// [`SpectraLayout::len`] values. A chunked, compressed dataset's chunks are decoded on
    /// `pool`, this thread waiting for them.
    pub fn read(
        &self,
        positions: &[Range<usize>],
        pool: &rayon::ThreadPool,
    ) -> Result<SpectraBlock, ReadError> {
        match (&self.chunked, &self.nsid) {
            (_, Some(spectra)) => self.read_from(&Slabs { spectra, dataset: &self.dataset }, positions),
            (Some(chunked), None) => self.read_from(&Decoded { chunked, pool }, positions),
            (None, None) => Ok(self.read_from(&Library(&self.dataset), positions)?),
        }
    }

    /// The spectra of one run of positions through HDF5's reads on this thread (a pixel or a
    /// few: no pool to decode chunks on).
    pub fn read_range(&self, positions: Range<usize>) -> Result<SpectraBlock, UsidError> {
        let positions = std::slice::from_ref(&positions);
        match &self.nsid {
            Some(spectra) => self
                .read_from(&Slabs { spectra, dataset: &self.dataset }, positions)
                .map_err(|e| UsidError(e.message)),
            None => self.read_from(&Library(&self.dataset), positions),
        }
    }

    fn read_from<S: RowSource>(
        &self,
        source: &S,
        positions: &[Range<usize>],
    ) -> Result<SpectraBlock, S::Error> {
        let (layout, n) = (&self.layout, self.layout.values_per_position());
        let values = match self.dtype.read_as() {
            ElementType::Complex64 => Values::C32(layout.arrange(source.rows(positions, n)?)),
            ElementType::Complex128 => Values::C64(layout.arrange(source.rows(positions, n)?)),
            ElementType::Float32 => Values::F32(layout.arrange(source.rows(positions, n)?)),
            _ => Values::F64(layout.arrange(source.rows(positions, n)?)),
        };
        Ok(SpectraBlock { values, len: layout.len() })
    }
}

/// Where the rows of a batch come from, one after the other, as the file stores them.
trait RowSource {
    type Error;
    /// The rows `pixels` (in order), `n_bins` values each, as `T`.
    fn rows<T: RowValue>(&self, pixels: &[Range<usize>], n_bins: usize) -> Result<Vec<T>, Self::Error>;
}

/// The library's hyperslab reads, on the calling thread.
struct Library<'a>(&'a Dataset);

impl RowSource for Library<'_> {
    type Error = UsidError;
    fn rows<T: RowValue>(&self, pixels: &[Range<usize>], n_bins: usize) -> Result<Vec<T>, UsidError> {
        let total: usize = pixels.iter().map(|r| r.len()).sum();
        let mut out = Vec::with_capacity(total * n_bins);
        for r in pixels {
            read_rows_into(self.0, r.clone(), &mut out)?;
        }
        Ok(out)
    }
}

/// Hyperslabs of an NSID dataset's positions, arranged into spectra (rows of a position's
/// spectra, as the layout of [`crate::nsid::Spectra::layout`] has them: no further order).
struct Slabs<'a> {
    spectra: &'a crate::nsid::Spectra,
    dataset: &'a Dataset,
}

impl RowSource for Slabs<'_> {
    type Error = ReadError;
    fn rows<T: RowValue>(&self, pixels: &[Range<usize>], _: usize) -> Result<Vec<T>, ReadError> {
        self.spectra
            .read::<T>(self.dataset, pixels)
            .map_err(|e| ReadError { class: e.class, message: e.message })
    }
}

/// Chunks looked up on the calling thread and decoded on a pool.
struct Decoded<'a> {
    chunked: &'a ChunkedRows,
    pool: &'a rayon::ThreadPool,
}

impl RowSource for Decoded<'_> {
    type Error = ReadError;
    fn rows<T: RowValue>(&self, pixels: &[Range<usize>], _: usize) -> Result<Vec<T>, ReadError> {
        let ranges: Vec<Range<u64>> = pixels.iter().map(|r| r.start as u64..r.end as u64).collect();
        self.chunked.read(&ranges, self.pool)
    }
}

/// Append rows `rows` of the 2-D `dataset` to `out`, converted to `T` — every read of a main
/// dataset's rows goes through here.
pub(super) fn read_rows_into<T: hdf5::H5Type + Copy>(
    dataset: &Dataset,
    rows: Range<usize>,
    out: &mut Vec<T>,
) -> Result<(), UsidError> {
    // Soft: HDF5 1.10 converts float16 in software (exactly: every float16 is a float64); the
    // other element types convert in hardware either way.
    let part = dataset
        .as_reader()
        .conversion(hdf5::Conversion::Soft)
        .read_slice_2d::<T, _>(ndarray::s![rows.clone(), ..])
        .map_err(|e| UsidError(format!("{}: cannot read rows {rows:?} ({})", dataset.name(), one_line(e))))?;
    out.extend(part);
    Ok(())
}
