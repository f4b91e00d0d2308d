//! Spectra: the 1-D runs along one spectroscopic dimension of a main dataset, and the one reader
//! that turns rows (pixels) of the file into them.
//!
//! A BEPS row holds `Frequency × DC_Offset` bins; its spectra are the frequency sweeps, one per DC
//! step. A [`SpectraLayout`] says which dimension a spectrum runs along (by default the
//! fastest-varying one), where each value of each spectrum sits in the row (the bins are ordered
//! by the dimension's index, whatever the storage order), and what the other dimensions are, so
//! results can keep them the USID way.

use std::ops::Range;

use hdf5::Dataset;
use num_complex::{Complex32, Complex64};

use super::chunked::{ChunkError, ChunkedRows, RowValue};
use super::write::DimSpec;
use super::{Dim, ElementType, MainDataset, UsidError};

/// A block of spectra in the dataset's own element type: `n_spectra × len`, spectrum after
/// spectrum, each ordered along its dimension.
///
/// Complex and float32 data come as they are stored, so an analysis can compute in the precision
/// numpy would; all other types (float64 and the integers) come converted to f64.
#[derive(Debug, Clone, Copy)]
pub enum Rows<'a> {
    Complex32(&'a [Complex32]),
    Complex64(&'a [Complex64]),
    Float32(&'a [f32]),
    Float64(&'a [f64]),
}

impl Rows<'_> {
    /// Number of values in the block (n_spectra × len).
    pub fn len(&self) -> usize {
        match self {
            Rows::Complex32(v) => v.len(),
            Rows::Complex64(v) => v.len(),
            Rows::Float32(v) => v.len(),
            Rows::Float64(v) => v.len(),
        }
    }
    /// Whether the block holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Spectra `start..end` of a block whose spectra have `len` values.
    pub fn slice_rows(&self, start: usize, end: usize, len: usize) -> Self {
        let (a, b) = (start * len, end * len);
        match self {
            Rows::Complex32(v) => Rows::Complex32(&v[a..b]),
            Rows::Complex64(v) => Rows::Complex64(&v[a..b]),
            Rows::Float32(v) => Rows::Float32(&v[a..b]),
            Rows::Float64(v) => Rows::Float64(&v[a..b]),
        }
    }
}

/// How the rows (pixels) of a main dataset split into spectra along one spectroscopic dimension.
#[derive(Debug, Clone)]
pub struct SpectraLayout {
    /// The index, in [`MainDataset::spectroscopic_dims`], of the dimension a spectrum runs along.
    pub along: usize,
    /// That dimension: its name, units and size (the length of a spectrum).
    pub along_dim: Dim,
    /// Its values by index, in its units: the x axis of every spectrum.
    pub axis: Vec<f64>,
    /// The other spectroscopic dimensions, fastest-varying first, with their values by index.
    /// Spectrum `s` of a pixel is at step `(s / stride) % size` of each, the stride being the
    /// product of the sizes before it.
    pub others: Vec<DimSpec>,
    /// The row's bin of value `j` of spectrum `s` is `order[s * len + j]`; `None` when the row
    /// already holds the spectra in that order (the common case: no copy when reading).
    order: Option<Vec<usize>>,
    n_bins: usize,
}

impl SpectraLayout {
    /// The layout of `main`'s spectra along spectroscopic dimension `along` (an index into
    /// `main.spectroscopic_dims`; `None`: the fastest-varying one, read from
    /// `Spectroscopic_Indices`, not assumed from the order of its rows).
    ///
    /// Fails, naming the dataset, when the spectroscopic indices are not a full grid (a Cartesian
    /// product of the dimensions, each combination once): the spectra would not be defined.
    pub fn new(main: &MainDataset, along: Option<usize>) -> Result<Self, UsidError> {
        let idx = main.spectroscopic_indices()?;
        let vals = main.spectroscopic_values()?;
        let (n_dims, n_bins) = (idx.nrows(), main.n_bins);
        let not_grid = |why: String| {
            UsidError(format!(
                "{}: the spectroscopic indices are not a full grid ({why}); spectra along one dimension are not defined",
                main.path
            ))
        };
        // Each bin's step along each dimension: the rank of its index among the distinct ones.
        let mut steps = vec![vec![0usize; n_bins]; n_dims];
        let mut sizes = vec![0usize; n_dims];
        for d in 0..n_dims {
            let row = idx.row(d);
            let mut distinct: Vec<f64> = row.to_vec();
            distinct.sort_unstable_by(f64::total_cmp);
            distinct.dedup_by(|a, b| a.total_cmp(b).is_eq());
            sizes[d] = distinct.len();
            for (b, v) in row.iter().enumerate() {
                steps[d][b] = distinct.binary_search_by(|x| x.total_cmp(v)).unwrap_or(0);
            }
        }
        let changes: Vec<usize> =
            steps.iter().map(|s| s.windows(2).filter(|w| w[0] != w[1]).count()).collect();
        let along = match along {
            Some(a) if a < n_dims => a,
            Some(a) => return Err(UsidError(format!("{}: no spectroscopic dimension {a}", main.path))),
            // The first of the dimensions that change most often: for a nested grid, the fastest.
            None => (0..n_dims).rev().max_by_key(|&d| (changes[d], std::cmp::Reverse(d))).unwrap_or(0),
        };
        let product = sizes.iter().try_fold(1usize, |acc, &s| acc.checked_mul(s));
        if product != Some(n_bins) {
            let dims: Vec<String> =
                main.spectroscopic_dims.iter().zip(&sizes).map(|(d, s)| format!("{} {s}", d.name)).collect();
            return Err(not_grid(format!("{n_bins} bins, but {}", dims.join(" × "))));
        }
        // The other dimensions, fastest first (most changes first; ties keep the file's order).
        let mut others: Vec<usize> = (0..n_dims).filter(|&d| d != along).collect();
        others.sort_by_key(|&d| std::cmp::Reverse(changes[d]));
        let len = sizes[along];
        let mut order = vec![usize::MAX; n_bins];
        // The first bin at each step of each dimension, to read the step's value.
        let mut first_bin: Vec<Vec<usize>> = sizes.iter().map(|&n| vec![usize::MAX; n]).collect();
        for b in 0..n_bins {
            let mut s = 0usize;
            let mut stride = 1usize;
            for &d in &others {
                s += steps[d][b] * stride;
                stride *= sizes[d];
            }
            let at = s * len + steps[along][b];
            if order[at] != usize::MAX {
                return Err(not_grid(format!("bins {} and {b} have the same indices", order[at])));
            }
            order[at] = b;
            for d in 0..n_dims {
                let f = &mut first_bin[d][steps[d][b]];
                if *f == usize::MAX {
                    *f = b;
                }
            }
        }
        let values_of = |d: usize| -> Vec<f64> { first_bin[d].iter().map(|&b| vals[[d, b]]).collect() };
        let dim = |d: usize| main.spectroscopic_dims.get(d).cloned();
        let along_dim = dim(along).map(|d| Dim { size: len, ..d }).unwrap_or_else(|| Dim {
            name: "Bin".into(),
            units: String::new(),
            size: len,
        });
        let others = others
            .iter()
            .map(|&d| {
                let (name, units) = dim(d).map(|x| (x.name, x.units)).unwrap_or_default();
                DimSpec::new(name, units, values_of(d))
            })
            .collect();
        let identity = order.iter().enumerate().all(|(i, &b)| i == b);
        Ok(SpectraLayout {
            along,
            along_dim,
            axis: values_of(along),
            others,
            order: if identity { None } else { Some(order) },
            n_bins,
        })
    }

    /// The layout along the dimension named `along` (`None`: the fastest-varying). `Ok(Err(..))`:
    /// the dataset has no such dimension — the caller's option is wrong, not the file; the message
    /// names the dimensions it has.
    pub fn named(main: &MainDataset, along: Option<&str>) -> Result<Result<Self, String>, UsidError> {
        let index = match along {
            None => None,
            Some(name) => match main.spectroscopic_dim_index(name) {
                Some(i) => Some(i),
                None => {
                    let names: Vec<&str> = main.spectroscopic_dims.iter().map(|d| d.name.as_str()).collect();
                    return Ok(Err(format!(
                        "--along {name}: {} has no spectroscopic dimension {name} (it has {})",
                        main.path,
                        names.join(", ")
                    )));
                }
            },
        };
        Self::new(main, index).map(Ok)
    }

    /// The number of values in a spectrum (the size of the along dimension).
    pub fn len(&self) -> usize {
        self.along_dim.size
    }

    /// Whether a spectrum has no values (an empty dataset).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of spectra in each pixel (the product of the other dimensions' sizes).
    pub fn per_pixel(&self) -> usize {
        self.n_bins.checked_div(self.len()).unwrap_or(0)
    }

    /// The step along each of [`Self::others`] (fastest first) of spectrum `s` of a pixel.
    pub fn steps_of(&self, s: usize) -> Vec<usize> {
        let mut rest = s;
        self.others
            .iter()
            .map(|d| {
                let n = d.values.len().max(1);
                let step = rest % n;
                rest /= n;
                step
            })
            .collect()
    }

    /// `DC_Offset=-2.5 V, Field=1` for spectrum `s`: the other dimensions' values, slowest first
    /// (as one reads a nested loop); empty with one spectroscopic dimension.
    pub fn label(&self, s: usize) -> String {
        let steps = self.steps_of(s);
        let parts: Vec<String> = self
            .others
            .iter()
            .zip(&steps)
            .rev()
            .map(|(d, &i)| {
                // Ancillary values are mostly float32: print them as such (-8.666667, not
                // -8.666666984558105).
                let v = d.values.get(i).copied().unwrap_or(f64::NAN) as f32;
                if d.units.is_empty() {
                    format!("{}={v}", d.name)
                } else {
                    format!("{}={v} {}", d.name, d.units)
                }
            })
            .collect();
        parts.join(", ")
    }

    /// Read the pixels `pixels` (row ranges, in order) of `dataset`, whose element type is
    /// `dtype`, as spectra: every pixel gives [`Self::per_pixel`] spectra of [`Self::len`] values.
    pub fn read(
        &self,
        dataset: &Dataset,
        dtype: ElementType,
        pixels: &[Range<usize>],
    ) -> Result<SpectraBlock, UsidError> {
        self.read_from(&Library(dataset), dtype, pixels)
    }

    /// [`Self::read`] through the chunk reader of a gzip/shuffle-chunked dataset
    /// ([`ChunkedRows::open`] gave it for this dataset and `dtype`): chunks are decoded on `pool`.
    /// Call it from the thread that talks to HDF5; it waits for the pool's tasks.
    pub fn read_chunked(
        &self,
        chunked: &ChunkedRows,
        pool: &rayon::ThreadPool,
        dtype: ElementType,
        pixels: &[Range<usize>],
    ) -> Result<SpectraBlock, ChunkError> {
        self.read_from(&Decoded { chunked, pool }, dtype, pixels)
    }

    /// [`Self::read`] of one run of pixels.
    pub fn read_range(
        &self,
        dataset: &Dataset,
        dtype: ElementType,
        pixels: Range<usize>,
    ) -> Result<SpectraBlock, UsidError> {
        self.read(dataset, dtype, std::slice::from_ref(&pixels))
    }

    fn read_from<S: RowSource>(
        &self,
        source: &S,
        dtype: ElementType,
        pixels: &[Range<usize>],
    ) -> Result<SpectraBlock, S::Error> {
        let values = match dtype {
            ElementType::Complex64 => Values::C32(self.arrange(source.rows(pixels, self.n_bins)?)),
            ElementType::Complex128 => Values::C64(self.arrange(source.rows(pixels, self.n_bins)?)),
            ElementType::Float32 => Values::F32(self.arrange(source.rows(pixels, self.n_bins)?)),
            _ => Values::F64(self.arrange(source.rows(pixels, self.n_bins)?)),
        };
        Ok(SpectraBlock { values, len: self.len() })
    }

    /// Rows as the file stores them turned into spectra, each ordered along its dimension (no
    /// copy when the rows already are).
    fn arrange<T: Copy>(&self, rows: Vec<T>) -> Vec<T> {
        match &self.order {
            None => rows,
            Some(order) => {
                rows.chunks_exact(self.n_bins).flat_map(|row| order.iter().map(|&b| row[b])).collect()
            }
        }
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

/// Chunks looked up on the calling thread and decoded on a pool.
struct Decoded<'a> {
    chunked: &'a ChunkedRows,
    pool: &'a rayon::ThreadPool,
}

impl RowSource for Decoded<'_> {
    type Error = ChunkError;
    fn rows<T: RowValue>(&self, pixels: &[Range<usize>], _: usize) -> Result<Vec<T>, ChunkError> {
        let ranges: Vec<Range<u64>> = pixels.iter().map(|r| r.start as u64..r.end as u64).collect();
        self.chunked.read(&ranges, self.pool)
    }
}

/// Append rows `rows` of the 2-D `dataset` to `out`, converted to `T` — every read of a main
/// dataset's rows goes through here.
pub fn read_rows_into<T: hdf5::H5Type + Copy>(
    dataset: &Dataset,
    rows: Range<usize>,
    out: &mut Vec<T>,
) -> Result<(), UsidError> {
    let part = dataset
        .as_reader()
        .conversion(hdf5::Conversion::Hard)
        .read_slice_2d::<T, _>(ndarray::s![rows.clone(), ..])
        .map_err(|e| {
            UsidError(format!(
                "{}: cannot read rows {rows:?} ({})",
                dataset.name(),
                crate::error::one_line(e)
            ))
        })?;
    out.extend(part);
    Ok(())
}

/// Spectra read from a file, owned, in the dataset's element type (integers as f64).
#[derive(Debug, Clone)]
pub struct SpectraBlock {
    values: Values,
    len: usize,
}

#[derive(Debug, Clone)]
enum Values {
    C32(Vec<Complex32>),
    C64(Vec<Complex64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl SpectraBlock {
    /// All spectra, spectrum after spectrum.
    pub fn rows(&self) -> Rows<'_> {
        match &self.values {
            Values::C32(v) => Rows::Complex32(v),
            Values::C64(v) => Rows::Complex64(v),
            Values::F32(v) => Rows::Float32(v),
            Values::F64(v) => Rows::Float64(v),
        }
    }
    /// Spectrum `s` alone.
    pub fn spectrum(&self, s: usize) -> Rows<'_> {
        self.rows().slice_rows(s, s + 1, self.len)
    }
    /// The number of values in a spectrum.
    pub fn spectrum_len(&self) -> usize {
        self.len
    }
    /// The number of spectra.
    pub fn n_spectra(&self) -> usize {
        self.rows().len().checked_div(self.len).unwrap_or(0)
    }
}

/// Bytes per value as a [`SpectraBlock`] holds it (integers are read as f64).
pub fn element_bytes(t: ElementType) -> usize {
    match t {
        ElementType::Complex128 => 16,
        ElementType::Complex64 | ElementType::Float64 => 8,
        ElementType::Float32 => 4,
        _ => 8,
    }
}
