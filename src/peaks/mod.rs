//! Peak finding as the engine's first [`Analysis`]: scipy's `find_peaks_cwt` on one component
//! (|z| by default) of every spectrum, written as `Peak_Indices`, `Peak_Frequencies` and
//! `Peak_Count` main datasets.
//!
//! The results keep the source's other spectroscopic dimensions the USID way: with spectra along
//! `Frequency` of a `Frequency × DC_Offset` source, `Peak_Count` is (positions × DC_Offset) and
//! `Peak_Indices`/`Peak_Frequencies` are (positions × Peak × DC_Offset), the peak slot fastest,
//! each with its own Spectroscopic_Indices/Values, so pyUSID's `get_n_dim_form` reshapes them.

use num_complex::ComplexFloat;

use crate::compute::Source;
use crate::compute::{
    write_whole, Analysis, ComputeError, NsidWriteTarget, ResultsWriter, RowItems, Rows, WriteTarget,
};
use crate::cwt::{CwtParams, PeakFinder, Scratch};
use crate::params::{
    choices, described, DefaultTo, Description, Kind, Param, ParamError, Parameters, Spec, Values,
};
use crate::usid::select::{only_source_dataset, select_spectra, Pixel, PixelChoice, SelectError};
use crate::usid::write::DimSpec;
use crate::usid::{self, SpectraLayout, UsidError};

mod stream;
use stream::{PeakNsidWriter, PeakWriter};

choices! {
    /// Which real number of each (possibly complex) value the peaks are found in.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub enum Component {
        #[default]
        Abs => "abs": "|z| (the seed's np.abs); for real data |x|",
        Real => "real": "Re z; for real data x itself",
        Imag => "imag": "Im z; zero for real data",
        Phase => "phase": "arg z in radians (np.angle)",
    }
}

described! {
    /// Peak finding's own parameters; the kernel's are [`CwtParams`].
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct PeakOptions {
        /// What of each value the peaks are found in (the seed's `np.abs` by default).
        pub component: Component = Spec::new(
            Kind::Choice(Component::CHOICES),
            DefaultTo::Text("abs"),
            "The real number of each value that peaks are found in",
        ),
    }
}

/// Everything peak finding is told: its own options and the kernel's parameters, described as
/// one (the command line's options, the Python keywords, the recorded attributes and the reuse
/// key, in this order).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PeakParams {
    pub options: PeakOptions,
    pub cwt: CwtParams,
}

impl Parameters for PeakParams {
    const DESCRIPTION: Description = Description {
        title: "Peak finding (scipy.signal.find_peaks_cwt)",
        parts: &[PeakOptions::SPECS, CwtParams::SPECS],
    };

    fn from_values(values: &Values) -> Result<Self, ParamError> {
        Ok(PeakParams { options: PeakOptions::from_values(values)?, cwt: CwtParams::from_values(values)? })
    }
}

impl PeakParams {
    /// What a results group records of them for spectra of `len` samples (derived defaults
    /// filled in), in the description's order.
    pub(crate) fn recorded(&self, len: usize) -> Vec<(String, Param)> {
        let mut all = self.options.values();
        all.extend(self.cwt.filled(len).values());
        all
    }
}

/// `find_peaks_cwt` over every spectrum of a main dataset.
pub struct PeakFinding {
    params: PeakParams,
    finder: PeakFinder,
    /// The length of a spectrum.
    n_bins: usize,
    /// The values of the dimension the spectra run along, by index, to give peaks in physical
    /// units.
    axis: Vec<f64>,
    axis_name: String,
    axis_units: String,
    /// The source's other spectroscopic dimensions (fastest first), kept in the results.
    others: Vec<DimSpec>,
}

/// Per-thread working memory: the component as f64 and the kernel's scratch.
pub struct PeakScratch {
    values: Vec<f64>,
    cwt: Scratch,
}

impl PeakFinding {
    /// The process name of its results groups (`<dataset>-Peak_Finding_NNN`).
    pub const NAME: &'static str = "Peak_Finding";

    /// Prepare peak finding on the spectra of `layout` (builds the wavelet bank for their length
    /// once).
    pub fn new(layout: &SpectraLayout, params: PeakParams) -> Result<Self, ComputeError> {
        let finder =
            PeakFinder::new(layout.len(), &params.cwt).map_err(|e| ComputeError::Usage(e.to_string()))?;
        Ok(PeakFinding {
            params,
            finder,
            n_bins: layout.len(),
            axis: layout.axis.clone(),
            axis_name: layout.along_dim.name.clone(),
            axis_units: layout.along_dim.units.clone(),
            others: layout.others.clone(),
        })
    }

    /// The peaks of one spectrum given in the dataset's element type (the layout's `len` values).
    pub(crate) fn find_one(&self, row: Rows<'_>) -> Vec<u32> {
        let mut scratch = self.new_scratch();
        let mut out = RowItems::with_capacity(1);
        self.process(row, &mut scratch, &mut out);
        out.items
    }

    /// The spectroscopic value (e.g. frequency in Hz) of each bin.
    pub(crate) fn axis(&self) -> &[f64] {
        &self.axis
    }

    /// The axis's value at each peak, in its units (NaN for a bin outside it).
    fn values_at(&self, peaks: &[u32]) -> Vec<f64> {
        peaks.iter().map(|&p| self.axis.get(p as usize).copied().unwrap_or(f64::NAN)).collect()
    }

    /// The peaks of the `spectra` (indices among the pixel's, see
    /// [`crate::usid::select::select_spectra`]) of one pixel of `main`.
    pub(crate) fn pixel(
        &self,
        dataset: &str,
        reader: &usid::SpectraReader,
        layout: &SpectraLayout,
        pixel: Pixel,
        spectra: &[usize],
    ) -> Result<PixelPeaks, UsidError> {
        let block = reader.read_range(pixel.index..pixel.index + 1)?;
        let found = spectra
            .iter()
            .map(|&s| {
                let peaks = self.find_one(block.spectrum(s));
                SpectrumPeaks { label: layout.label(s), spectrum: s, values: self.values_at(&peaks), peaks }
            })
            .collect();
        Ok(PixelPeaks {
            dataset: dataset.to_string(),
            pixel,
            axis: self.axis_name.clone(),
            units: self.axis_units.clone(),
            per_pixel: layout.per_pixel(),
            spectra: found,
        })
    }

    /// Name and units of the spectroscopic axis, e.g. (`Frequency`, `Hz`).
    pub(crate) fn axis_label(&self) -> (&str, &str) {
        (&self.axis_name, &self.axis_units)
    }

    /// The component of each value of `rows`, as f64, in `out` (numpy's arithmetic: |z| of a
    /// complex64 is computed in float32, then widened, as `np.abs` then scipy's promotion do).
    pub(crate) fn component_values(&self, rows: Rows<'_>, out: &mut Vec<f64>) {
        out.clear();
        let c = self.params.options.component;
        match rows {
            Rows::Complex32(v) => out.extend(v.iter().map(|z| match c {
                Component::Abs => z.abs() as f64,
                Component::Real => z.re as f64,
                Component::Imag => z.im as f64,
                Component::Phase => z.arg() as f64,
            })),
            Rows::Complex64(v) => out.extend(v.iter().map(|z| match c {
                Component::Abs => z.abs(),
                Component::Real => z.re,
                Component::Imag => z.im,
                Component::Phase => z.arg(),
            })),
            Rows::Float32(v) => out.extend(v.iter().map(|&x| match c {
                Component::Abs => x.abs() as f64,
                Component::Real => x as f64,
                Component::Imag => 0.0,
                Component::Phase => 0f32.atan2(x) as f64,
            })),
            Rows::Float64(v) => out.extend(v.iter().map(|&x| match c {
                Component::Abs => x.abs(),
                Component::Real => x,
                Component::Imag => 0.0,
                Component::Phase => 0f64.atan2(x),
            })),
        }
    }
}

/// `find_peaks_cwt` over real spectra in memory — `data` holds `len` values per spectrum, one
/// after the other — on `threads` threads (`None`: rayon's global pool, every core), through the
/// engine's row mapper: each thread keeps one scratch, and the kernel gets blocks of spectra to
/// batch. Every spectrum's peaks (bins), in order; the same whatever the threads.
pub fn find_peaks_rows(
    data: &[f64],
    len: usize,
    params: &CwtParams,
    threads: Option<usize>,
) -> Result<RowItems<u32>, ComputeError> {
    if threads == Some(0) {
        return Err(ComputeError::Usage("threads must be at least 1".into()));
    }
    let kernel = InMemory(PeakFinder::new(len, params).map_err(|e| ComputeError::Usage(e.to_string()))?);
    let map = || {
        crate::compute::RowMapper::new(&kernel, rayon::current_num_threads()).map(Rows::Float64(data), len)
    };
    match threads {
        Some(n) => Ok(crate::compute::thread_pool(n, crate::compute::Binding::Auto, 1)
            .map_err(ComputeError::Launch)?
            .install(map)),
        None => Ok(map()),
    }
}

/// The kernel as an analysis of real spectra in memory, for the row mapper; it writes no files.
struct InMemory(PeakFinder);

impl Analysis for InMemory {
    type Item = u32;
    type Scratch = Scratch;
    fn name(&self) -> &str {
        PeakFinding::NAME
    }
    fn parameters(&self) -> Vec<(String, Param)> {
        Vec::new()
    }
    fn new_scratch(&self) -> Scratch {
        self.0.new_scratch()
    }
    fn process(&self, rows: Rows<'_>, scratch: &mut Scratch, out: &mut RowItems<u32>) {
        if let Rows::Float64(v) = rows {
            self.0.find_batch(v, scratch, |_, peaks| out.push_row(peaks));
        }
    }
    fn write(&self, _: &RowItems<u32>, target: &WriteTarget<'_>) -> Result<(), UsidError> {
        Err(UsidError(format!("{}: spectra in memory have no results group", target.group.name())))
    }
}

/// One spectrum's peaks.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SpectrumPeaks {
    /// The other spectroscopic dimensions' values, e.g. `DC_Offset=-2.5 V` (empty with one).
    pub label: String,
    /// The spectrum's index among the pixel's spectra.
    pub spectrum: usize,
    /// The peaks' bins, ascending.
    pub peaks: Vec<u32>,
    /// The along dimension's value at each peak, in its units.
    pub values: Vec<f64>,
}

/// One pixel's peaks: what `usid-peaks pixel` prints and `usid_peaks.pixel` returns.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelPeaks {
    /// The main dataset's path.
    pub dataset: String,
    pub pixel: Pixel,
    /// The name and units of the dimension the spectra run along.
    pub axis: String,
    pub units: String,
    /// The spectra per pixel of the dataset (more than were chosen, with `--step`).
    pub per_pixel: usize,
    /// The chosen spectra's peaks, in order.
    pub spectra: Vec<SpectrumPeaks>,
}

impl PixelPeaks {
    /// The JSON form (`pixel --json`): `file` (as given), `dataset`, `index`, `row`, `col`,
    /// `axis`, `units`, and with one spectrum per pixel its `peaks` and `values` (flat); with
    /// several, `spectra`: one `{label, spectrum, peaks, values}` per chosen spectrum.
    pub fn to_json(&self, file: &str) -> serde_json::Value {
        let mut j = serde_json::json!({
            "file": file, "dataset": self.dataset,
            "index": self.pixel.index, "row": self.pixel.row, "col": self.pixel.col,
            "axis": self.axis, "units": self.units,
        });
        match self.spectra.as_slice() {
            [one] if self.per_pixel == 1 => {
                j["peaks"] = serde_json::json!(one.peaks);
                j["values"] = serde_json::json!(one.values);
            }
            _ => j["spectra"] = serde_json::json!(self.spectra),
        }
        j
    }
}

/// Which pixel and spectra of which file [`pixel_peaks`] looks at.
#[derive(Debug, Clone, Copy)]
pub struct PixelQuery<'a> {
    pub file: &'a std::path::Path,
    /// The main dataset; `None`: the file's only source dataset.
    pub dataset: Option<&'a str>,
    pub pixel: PixelChoice,
    /// The spectroscopic dimension the spectra run along; `None`: the fastest-varying.
    pub along: Option<&'a str>,
    /// `(dimension, step)` choices among the pixel's spectra; none: every spectrum.
    pub steps: &'a [(&'a str, usize)],
}

/// What a [`PixelQuery`] names, opened: the source dataset (USID or NSID) with its spectra
/// along the chosen dimension, the pixel, and the chosen spectra among the pixel's.
pub(crate) struct PixelSource {
    pub source: Source,
    pub layout: SpectraLayout,
    pub pixel: Pixel,
    pub chosen: Vec<usize>,
}

impl PixelSource {
    /// Open the file, dataset, pixel and spectra `query` names; the pixel and the steps checked.
    pub(crate) fn open(query: &PixelQuery<'_>) -> Result<PixelSource, ComputeError> {
        let select = |e: SelectError| ComputeError::of_class(e.class(), e.to_string());
        let file = usid::open_file(query.file)?;
        let dataset = match query.dataset {
            Some(d) => d.to_string(),
            None => only_source_dataset(&file, query.file).map_err(select)?,
        };
        let (source, layout) = Source::open(&file, &dataset, query.along)?;
        let pixel = match &source {
            Source::Usid(main) => Pixel::resolve(main, query.pixel),
            Source::Nsid(ds, spectra) => {
                // Rows and columns: the last SPATIAL axis is the columns, as positions run row-major.
                let cols =
                    spectra.position_axes.last().map_or("the last SPATIAL axis", |&a| &ds.dims[a].name);
                let n_cols = spectra.position_shape().last().copied().unwrap_or(1);
                Pixel::on_grid(query.pixel, &ds.path, spectra.n_positions, n_cols, cols)
            }
        }
        .map_err(select)?;
        let chosen = select_spectra(&layout, query.steps).map_err(select)?;
        Ok(PixelSource { source, layout, pixel, chosen })
    }

    /// The pixel's spectra as read from the file.
    pub(crate) fn read(&self) -> Result<usid::SpectraBlock, ComputeError> {
        let reader = self.source.reader(&self.layout, None)?;
        Ok(reader.read_range(self.pixel.index..self.pixel.index + 1)?)
    }

    /// The quantity the dataset holds and its units, e.g. (`Deflection`, `V`).
    pub(crate) fn quantity(&self) -> (&str, &str) {
        match &self.source {
            Source::Usid(m) => (&m.quantity, &m.units),
            Source::Nsid(ds, _) => (&ds.quantity, &ds.units),
        }
    }
}

/// The peaks of one pixel's spectra, as `usid-peaks pixel` and `usid_peaks.pixel` find them.
pub fn pixel_peaks(query: &PixelQuery<'_>, params: PeakParams) -> Result<PixelPeaks, ComputeError> {
    let at = PixelSource::open(query)?;
    let finding = PeakFinding::new(&at.layout, params)?;
    let reader = at.source.reader(&at.layout, None)?;
    Ok(finding.pixel(at.source.path(), &reader, &at.layout, at.pixel, &at.chosen)?)
}

impl Analysis for PeakFinding {
    type Item = u32;
    type Scratch = PeakScratch;

    fn name(&self) -> &str {
        PeakFinding::NAME
    }

    fn parameters(&self) -> Vec<(String, Param)> {
        let mut all = vec![
            ("algorithm".into(), Param::Str("find_peaks_cwt".into())),
            ("along".into(), Param::Str(self.axis_name.clone())),
        ];
        all.extend(self.params.recorded(self.n_bins));
        all
    }

    fn reuse_key(&self) -> Vec<(String, Param)> {
        PeakParams::DESCRIPTION.key(self.parameters())
    }

    fn new_scratch(&self) -> PeakScratch {
        PeakScratch { values: Vec::new(), cwt: self.finder.new_scratch() }
    }

    fn process(&self, rows: Rows<'_>, scratch: &mut PeakScratch, out: &mut RowItems<u32>) {
        self.component_values(rows, &mut scratch.values);
        self.finder.find_batch(&scratch.values, &mut scratch.cwt, |_, peaks| out.push_row(peaks));
    }

    fn write(&self, results: &RowItems<u32>, target: &WriteTarget<'_>) -> Result<(), UsidError> {
        let writer = Box::new(PeakWriter::begin(self, target)?);
        write_whole(writer, results, target.source.n_positions as u64)
    }

    fn streams(&self) -> bool {
        true
    }

    fn begin_write<'t>(
        &'t self,
        target: &'t WriteTarget<'t>,
    ) -> Result<Box<dyn ResultsWriter<u32> + 't>, UsidError> {
        Ok(Box::new(PeakWriter::begin(self, target)?))
    }

    fn writes_nsid(&self) -> bool {
        true
    }

    fn nsid_names(&self) -> &'static [&'static str] {
        stream::NSID_NAMES
    }

    fn begin_write_nsid<'t>(
        &'t self,
        target: &'t NsidWriteTarget<'t>,
    ) -> Result<Box<dyn ResultsWriter<u32> + 't>, UsidError> {
        Ok(Box::new(PeakNsidWriter::begin(self, target)?))
    }

    fn count_items(&self, group: &hdf5::Group) -> Option<u64> {
        // USID: the dataset itself; NSID: pyNSID's `<name>/<name>`.
        let counts = group.dataset("Peak_Count").or_else(|_| group.dataset("Peak_Count/Peak_Count"));
        let counts = counts.ok()?.read_raw::<u32>().ok()?;
        Some(counts.iter().map(|&c| u64::from(c)).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spectra_in_memory_get_each_spectrums_own_peaks_whatever_the_threads() {
        // 300 spectra of 119 bins: more than one task per thread, a last task cut short.
        let len = 119;
        let data: Vec<f64> = (0..300 * len)
            .map(|i| {
                let (s, x) = ((i / len) as f64, (i % len) as f64);
                1.0 / (1.0 + ((x - 20.0 - s % 80.0) / 9.0).powi(2)) + 0.3 * (x * (0.3 + s / 700.0)).sin()
            })
            .collect();
        let params = CwtParams::default();
        let finder = PeakFinder::new(len, &params).unwrap();
        let mut scratch = finder.new_scratch();
        let one_by_one: Vec<Vec<u32>> = data.chunks(len).map(|s| finder.find(s, &mut scratch)).collect();
        assert!(one_by_one.iter().any(|p| p.len() > 1), "the spectra have peaks to find");
        for threads in [Some(1), Some(3), None] {
            let rows = find_peaks_rows(&data, len, &params, threads).unwrap();
            assert_eq!(rows.rows().map(<[u32]>::to_vec).collect::<Vec<_>>(), one_by_one, "{threads:?}");
        }
        assert!(find_peaks_rows(&data, len, &params, Some(0)).is_err(), "no pool of 0 threads");
        assert!(find_peaks_rows(&[], 0, &params, None).is_err(), "empty spectra are refused");
    }
}
