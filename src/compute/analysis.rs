//! What a per-pixel analysis is to the engine.
//!
//! The engine knows nothing of peaks: it hands an [`Analysis`] blocks of spectra (1-D runs along
//! one spectroscopic dimension, see [`crate::usid::SpectraLayout`]) and collects, for every
//! spectrum, a variable-length list of plain items (peak indices, fit parameters,
//! …). Items travel between ranks and into checkpoints as bytes, so they must be [`bytemuck::Pod`].
//! How the items become datasets is the analysis's business ([`Analysis::write`]).

pub use crate::params::Param;
pub use crate::usid::Rows;
use crate::usid::{MainDataset, UsidError};

/// The results of consecutive spectra ("rows" of results): row `i` owns
/// `items[offset(i) .. offset(i) + counts[i]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RowItems<T> {
    /// Number of items of each row.
    pub counts: Vec<u32>,
    /// All rows' items, row after row.
    pub items: Vec<T>,
}

impl<T> Default for RowItems<T> {
    fn default() -> Self {
        RowItems { counts: Vec::new(), items: Vec::new() }
    }
}

impl<T: Copy> RowItems<T> {
    /// Empty, with room for `rows` rows.
    pub fn with_capacity(rows: usize) -> Self {
        RowItems { counts: Vec::with_capacity(rows), items: Vec::with_capacity(rows) }
    }
    /// Append one row's items.
    pub fn push_row(&mut self, items: &[T]) {
        self.counts.push(items.len() as u32);
        self.items.extend_from_slice(items);
    }
    /// Append all rows of `other`.
    pub fn extend(&mut self, other: &RowItems<T>) {
        self.counts.extend_from_slice(&other.counts);
        self.items.extend_from_slice(&other.items);
    }
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.counts.len()
    }
    /// Iterate over the rows' item slices, in order.
    pub fn rows(&self) -> impl Iterator<Item = &[T]> + '_ {
        let mut at = 0usize;
        self.counts.iter().map(move |&c| {
            let row = &self.items[at..at + c as usize];
            at += c as usize;
            row
        })
    }
}

/// Where and how the results of a run are written: the engine opens the results group and
/// prepares the position ancillary datasets; the analysis writes its datasets into it.
pub struct WriteTarget<'a> {
    /// The new results group (`<dataset>-<name>_NNN`), attributes already written.
    pub group: &'a hdf5::Group,
    /// The source main dataset (as opened from the target file when results go beside it).
    pub source: &'a MainDataset,
    /// Position_Indices/Position_Values to link every results dataset to (the source's own, or
    /// copies in the output file).
    pub position_indices: &'a hdf5::Dataset,
    pub position_values: &'a hdf5::Dataset,
}

/// Where the results of a run over an NSID dataset are written: the engine makes the results
/// group (pyNSID's `Log_<name>_NNN`, beside the source's group, attributes written); the
/// analysis writes each result into it as an NSID dataset
/// ([`crate::nsid::create_nsid_dataset`]) over [`NsidWriteTarget::dims`] and its own axes.
pub struct NsidWriteTarget<'a> {
    /// The new results group.
    pub group: &'a hdf5::Group,
    /// The source dataset's path, for each result's `source` attribute.
    pub source: &'a str,
    /// The dimensions every per-spectrum result keeps, slowest first: the source's SPATIAL axes,
    /// then its other axes but the one the spectra run along, in the source's order. Row-major
    /// over them is the order of the results' rows (spectra).
    pub dims: &'a [crate::nsid::Dimension],
    /// How many of `dims`, the first ones, are the positions (pixels): a writer's pixels are
    /// numbered row-major over them ([`crate::nsid::write_positions`]).
    pub position_axes: usize,
}

impl NsidWriteTarget<'_> {
    /// The sizes of the position axes, slowest first.
    pub fn position_shape(&self) -> Vec<usize> {
        self.dims.iter().take(self.position_axes).map(crate::nsid::Dimension::size).collect()
    }

    /// The spectra of each position (the product of the other axes' sizes).
    pub fn per_position(&self) -> usize {
        self.dims.iter().skip(self.position_axes).map(crate::nsid::Dimension::size).product()
    }
}

/// A per-spectrum analysis the engine can run over a main dataset.
///
/// Implement this for a new analysis (a SHO fit, a filter, …) and [`crate::compute::run`] maps
/// it over every pixel on every rank and thread, with batching, checkpoints and resume.
pub trait Analysis: Sync {
    /// One element of a row's result (e.g. a peak index).
    type Item: bytemuck::Pod + Send + Sync + PartialEq + std::fmt::Debug;
    /// Per-thread working memory, reused from one block of rows to the next.
    type Scratch: Send;
    /// Whether it takes complex spectra only (a fit of a complex model): a dataset of real values
    /// is then refused before the analysis is made, as an input error.
    const COMPLEX_ONLY: bool = false;

    /// The process name in the results group's name, pyUSID style: `Peak_Finding` (no `-`; see
    /// [`crate::usid::results`] for the rule).
    fn name(&self) -> &str;
    /// The status datasets that mark its results groups complete, each one uint8 per position,
    /// all 1 once every position is computed: pyUSID's `completed_positions`, unless the analysis
    /// keeps its own (an SHO fit: `completed_guess_positions` and `completed_fit_positions`).
    fn status_datasets(&self) -> &'static [&'static str] {
        &[crate::usid::results::STATUS]
    }
    /// Every parameter that changes the results, recorded on the results group; two runs with the
    /// same name and parameters on the same data give the same results (which is what reuse and
    /// resume rely on). An analysis with a [`crate::params::Description`] records its values
    /// (defaults derived from the data filled in).
    fn parameters(&self) -> Vec<(String, Param)>;
    /// The part of [`Analysis::parameters`] that decides whether two runs' results are
    /// interchangeable (the reuse and resume key): all of them, unless the analysis leaves out
    /// parameters added later while they have their default
    /// ([`crate::params::Description::key`]), so that earlier groups stay reusable.
    fn reuse_key(&self) -> Vec<(String, Param)> {
        self.parameters()
    }
    /// Scratch for one thread.
    fn new_scratch(&self) -> Self::Scratch;
    /// Process a block of spectra (each of the layout's `len` values, ordered along its
    /// dimension) and push each spectrum's items to `out`, one `push_row` per spectrum, in order.
    /// Must give each spectrum the same items whatever block it came in.
    fn process(&self, rows: Rows<'_>, scratch: &mut Self::Scratch, out: &mut RowItems<Self::Item>);
    /// Write the results into `target.group`: all spectra of the dataset, pixel after pixel, and
    /// within a pixel in the order of [`crate::usid::SpectraLayout::others`] (fastest first).
    fn write(&self, results: &RowItems<Self::Item>, target: &WriteTarget<'_>) -> Result<(), UsidError>;
    /// Whether [`Analysis::begin_write`] is the analysis's own: the engine then writes a USID
    /// run's results (as every NSID run's, [`Analysis::begin_write_nsid`]) batch by batch as
    /// rank 0 gathers them (on a thread of its own, overlapped with the next batches), so rank 0
    /// holds one batch at a time whatever the map's size. An
    /// analysis that does not (the default) is written whole by [`Analysis::write`] at the end,
    /// every spectrum's items assembled in rank 0's memory first.
    fn streams(&self) -> bool {
        false
    }
    /// Start writing the results into `target.group` batch by batch: the writer is given every
    /// pixel's rows once, in any order, then finished, and must write what [`Analysis::write`]
    /// writes ([`write_whole`] makes one from the other).
    fn begin_write<'t>(
        &'t self,
        target: &'t WriteTarget<'t>,
    ) -> Result<Box<dyn ResultsWriter<Self::Item> + 't>, UsidError> {
        Err(UsidError(format!("{}: {} writes its results whole only", target.group.name(), self.name())))
    }
    /// Whether [`Analysis::begin_write_nsid`] is the analysis's own (asked before a run over an
    /// NSID dataset computes anything).
    fn writes_nsid(&self) -> bool {
        false
    }
    /// The names [`Analysis::begin_write_nsid`] gives in the results group: its datasets and the
    /// axes it adds. Each of the source's kept axes becomes a scale of its name beside every
    /// result, so a source with an axis of one of these names is refused before computing.
    fn nsid_names(&self) -> &'static [&'static str] {
        &[]
    }
    /// [`Analysis::begin_write`] for an NSID source: the results as NSID datasets that pyNSID
    /// reads, each over `target.dims` (and axes of its own), written batch by batch as the engine
    /// writes every NSID run (whole only through [`write_whole`]). An analysis that does not
    /// write NSID results leaves the default, which says so.
    fn begin_write_nsid<'t>(
        &'t self,
        target: &'t NsidWriteTarget<'t>,
    ) -> Result<Box<dyn ResultsWriter<Self::Item> + 't>, UsidError> {
        Err(UsidError(format!(
            "{}: {} does not write results for NSID datasets (yet)",
            target.source,
            self.name()
        )))
    }
    /// The number of items in a results group this analysis wrote earlier (for the summary of a
    /// reused group); `None` if it cannot tell.
    fn count_items(&self, _group: &hdf5::Group) -> Option<u64> {
        None
    }
}

/// An analysis's results being written batch by batch ([`Analysis::begin_write`]).
pub trait ResultsWriter<T> {
    /// Write the results of the pixels `pixels`: `counts` holds the item count of each of their
    /// spectra (spectra per pixel × pixels, pixel after pixel), `items` all their items in order.
    fn write_rows(
        &mut self,
        pixels: std::ops::Range<u64>,
        counts: &[u32],
        items: &[T],
    ) -> Result<(), UsidError>;
    /// Every pixel is written: complete what depends on all of them (the peak-slot axis).
    fn finish(self: Box<Self>) -> Result<(), UsidError>;
}

/// Write `results` (every spectrum, in order) whole through a streamed writer: what an analysis's
/// [`Analysis::write`] can be when it has one, so both write the same.
pub fn write_whole<T>(
    writer: Box<dyn ResultsWriter<T> + '_>,
    results: &RowItems<T>,
    n_pixels: u64,
) -> Result<(), UsidError> {
    let mut writer = writer;
    writer.write_rows(0..n_pixels, &results.counts, &results.items)?;
    writer.finish()
}
