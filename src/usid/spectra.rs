//! Spectra: the 1-D runs along one dimension of a dataset — the view the engine and the analyses
//! have of the data, whatever file format holds it.
//!
//! A BEPS row holds `Frequency × DC_Offset` bins; its spectra are the frequency sweeps, one per DC
//! step. A [`SpectraLayout`] says which dimension a spectrum runs along (by default the
//! fastest-varying one), with its values, and what the other dimensions are, so results can keep
//! them; for a USID main dataset it also knows where each value of each spectrum sits in the row
//! (the bins are ordered by the dimension's index, whatever the storage order), which
//! [`super::SpectraReader`] applies. A [`SpectraBlock`] holds the spectra of a run of positions,
//! [`Rows`] borrows them.

use num_complex::{Complex32, Complex64};

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
    /// The dimension a spectrum runs along: its name, units and size (the length of a spectrum).
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
    /// Values per position (pixel): every spectrum of it.
    n_bins: usize,
}

/// Where each bin of a row lies along each spectroscopic dimension.
struct Grid {
    /// `steps[d][b]`: the step of bin `b` along dimension `d` (the rank of its index among the
    /// dimension's distinct ones).
    steps: Vec<Vec<usize>>,
    /// The number of distinct steps of each dimension.
    sizes: Vec<usize>,
    /// How often each dimension's step changes from one bin to the next.
    changes: Vec<usize>,
}

impl Grid {
    fn of(idx: &ndarray::Array2<f64>) -> Grid {
        let (n_dims, n_bins) = idx.dim();
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
        let changes = steps.iter().map(|s| s.windows(2).filter(|w| w[0] != w[1]).count()).collect();
        Grid { steps, sizes, changes }
    }

    /// The first of the dimensions that change most often: for a nested grid, the fastest.
    fn fastest(&self) -> usize {
        (0..self.sizes.len()).rev().max_by_key(|&d| (self.changes[d], std::cmp::Reverse(d))).unwrap_or(0)
    }
}

impl SpectraLayout {
    /// The layout of `main`'s spectra along spectroscopic dimension `along` (an index into
    /// `main.spectroscopic_dims`; `None`: the fastest-varying one, read from
    /// `Spectroscopic_Indices`, not assumed from the order of its rows).
    ///
    /// Fails, naming the dataset, when the spectroscopic indices are not a full grid (a Cartesian
    /// product of the dimensions, each combination once): the spectra would not be defined.
    pub fn new(main: &MainDataset, along: Option<usize>) -> Result<Self, UsidError> {
        let grid = Grid::of(&main.spectroscopic_indices()?);
        let vals = main.spectroscopic_values()?;
        if let Some(((d, bin), v)) = vals.indexed_iter().find(|(_, v)| !v.is_finite()) {
            let name = main.spectroscopic_dims.get(d).map_or("?", |x| x.name.as_str());
            let why = if main.spectroscopic_values_type() == Some(ElementType::Float16) {
                "; they are stored as float16, whose largest finite value is 65504"
            } else {
                ""
            };
            return Err(UsidError(format!(
                "{}: the spectroscopic values are not finite ({name} is {v} at bin {bin}{why}); a spectrum needs a finite axis",
                main.path
            )));
        }
        let (n_dims, n_bins) = (grid.sizes.len(), main.n_bins);
        let not_grid = |why: String| {
            UsidError(format!(
                "{}: the spectroscopic indices are not a full grid ({why}); spectra along one dimension are not defined",
                main.path
            ))
        };
        let along = match along {
            Some(a) if a < n_dims => a,
            Some(a) => return Err(UsidError(format!("{}: no spectroscopic dimension {a}", main.path))),
            None => grid.fastest(),
        };
        let product = grid.sizes.iter().try_fold(1usize, |acc, &s| acc.checked_mul(s));
        if product != Some(n_bins) {
            let dims: Vec<String> = main
                .spectroscopic_dims
                .iter()
                .zip(&grid.sizes)
                .map(|(d, s)| format!("{} {s}", d.name))
                .collect();
            return Err(not_grid(format!("{n_bins} bins, but {}", dims.join(" × "))));
        }
        // The other dimensions, fastest first (most changes first; ties keep the file's order).
        let mut others: Vec<usize> = (0..n_dims).filter(|&d| d != along).collect();
        others.sort_by_key(|&d| std::cmp::Reverse(grid.changes[d]));
        let (order, first_bin) = bin_order(&grid, along, &others, n_bins).map_err(not_grid)?;
        let values_of = |d: usize| -> Vec<f64> { first_bin[d].iter().map(|&b| vals[[d, b]]).collect() };
        let dim = |d: usize| main.spectroscopic_dims.get(d).cloned();
        let len = grid.sizes[along];
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
            along_dim,
            axis: values_of(along),
            others,
            order: if identity { None } else { Some(order) },
            n_bins,
        })
    }

    /// The layout of spectra that a reader hands out already arranged (no reordering of a
    /// row's values): along `along_dim` with values `axis`, one spectrum per combination of the
    /// steps of `others` (fastest first) at each position — an NSID dataset's, for one.
    pub(crate) fn arranged(along_dim: Dim, axis: Vec<f64>, others: Vec<DimSpec>) -> Self {
        let per_position: usize = others.iter().map(|d| d.values.len()).product();
        let n_bins = per_position * along_dim.size;
        SpectraLayout { along_dim, axis, others, order: None, n_bins }
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

    /// Values per position (pixel) of the dataset: every spectrum of it.
    pub(crate) fn values_per_position(&self) -> usize {
        self.n_bins
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

    /// Rows as the file stores them turned into spectra, each ordered along its dimension (no
    /// copy when the rows already are).
    pub(super) fn arrange<T: Copy>(&self, rows: Vec<T>) -> Vec<T> {
        match &self.order {
            None => rows,
            Some(order) => {
                rows.chunks_exact(self.n_bins).flat_map(|row| order.iter().map(|&b| row[b])).collect()
            }
        }
    }
}

/// The row's bin of value `j` of spectrum `s` (`order[s * len + j]`, spectra numbered over
/// `others`, fastest first), and the first bin at each step of each dimension (to read the
/// step's value); `Err` names two bins with the same indices.
fn bin_order(
    grid: &Grid,
    along: usize,
    others: &[usize],
    n_bins: usize,
) -> Result<(Vec<usize>, Vec<Vec<usize>>), String> {
    let len = grid.sizes[along];
    let mut order = vec![usize::MAX; n_bins];
    let mut first_bin: Vec<Vec<usize>> = grid.sizes.iter().map(|&n| vec![usize::MAX; n]).collect();
    for b in 0..n_bins {
        let mut s = 0usize;
        let mut stride = 1usize;
        for &d in others {
            s += grid.steps[d][b] * stride;
            stride *= grid.sizes[d];
        }
        let at = s * len + grid.steps[along][b];
        if order[at] != usize::MAX {
            return Err(format!("bins {} and {b} have the same indices", order[at]));
        }
        order[at] = b;
        for (d, first) in first_bin.iter_mut().enumerate() {
            let f = &mut first[grid.steps[d][b]];
            if *f == usize::MAX {
                *f = b;
            }
        }
    }
    Ok((order, first_bin))
}

/// Spectra read from a file, owned, in the dataset's element type (integers as f64).
#[derive(Debug, Clone)]
pub struct SpectraBlock {
    pub(super) values: Values,
    pub(super) len: usize,
}

#[derive(Debug, Clone)]
pub(super) enum Values {
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
