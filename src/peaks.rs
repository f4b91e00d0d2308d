//! Peak finding as the engine's first [`Analysis`]: scipy's `find_peaks_cwt` on one component
//! (|z| by default) of every spectrum, written as `Peak_Indices`, `Peak_Frequencies` and
//! `Peak_Count` main datasets.

use ndarray::Array2;
use num_complex::ComplexFloat;

use crate::compute::{Analysis, ComputeError, Param, RowItems, Rows, WriteTarget};
use crate::cwt::{CwtParams, PeakFinder, Scratch, SnrFrom};
use crate::usid::write::{Ancillary, DimSpec};
use crate::usid::{self, MainDataset, UsidError};

/// Which real number of each (possibly complex) value the peaks are found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    /// |z| (the seed's `np.abs`); for real data |x|.
    Abs,
    /// Re z; for real data x itself.
    Real,
    /// Im z; zero for real data.
    Imag,
    /// arg z in radians (`np.angle`).
    Phase,
}

impl Component {
    /// The component's name as recorded in results: `abs`, `real`, `imag`, `phase`.
    pub fn name(self) -> &'static str {
        match self {
            Component::Abs => "abs",
            Component::Real => "real",
            Component::Imag => "imag",
            Component::Phase => "phase",
        }
    }
}

/// `find_peaks_cwt` over every spectrum of a main dataset.
pub struct PeakFinding {
    params: CwtParams,
    component: Component,
    finder: PeakFinder,
    n_bins: usize,
    /// The spectroscopic values along the bins (the first spectroscopic dimension), to give
    /// peaks in physical units.
    axis: Vec<f64>,
    axis_name: String,
    axis_units: String,
}

/// Per-thread working memory: the component as f64 and the kernel's scratch.
pub struct PeakScratch {
    values: Vec<f64>,
    cwt: Scratch,
}

impl PeakFinding {
    /// Prepare peak finding on `main` (builds the wavelet bank for its spectrum length once).
    pub fn new(main: &MainDataset, params: CwtParams, component: Component) -> Result<Self, ComputeError> {
        let finder = PeakFinder::new(main.n_bins, &params).map_err(|e| ComputeError::Usage(e.to_string()))?;
        let axis = main.spectroscopic_axis(0)?.to_vec();
        let dim = main.spectroscopic_dims.first();
        Ok(PeakFinding {
            params,
            component,
            finder,
            n_bins: main.n_bins,
            axis,
            axis_name: dim.map(|d| d.name.clone()).unwrap_or_else(|| "Bin".into()),
            axis_units: dim.map(|d| d.units.clone()).unwrap_or_default(),
        })
    }

    /// The peaks of one spectrum given in the dataset's element type (`n_bins` values).
    pub fn find_one(&self, row: Rows<'_>) -> Vec<u32> {
        let mut scratch = self.new_scratch();
        let mut out = RowItems::with_capacity(1);
        self.process(row, &mut scratch, &mut out);
        out.items
    }

    /// The spectroscopic value (e.g. frequency in Hz) of each bin.
    pub fn axis(&self) -> &[f64] {
        &self.axis
    }

    /// Name and units of the spectroscopic axis, e.g. (`Frequency`, `Hz`).
    pub fn axis_label(&self) -> (&str, &str) {
        (&self.axis_name, &self.axis_units)
    }

    /// The component of each value of `rows`, as f64, in `out` (numpy's arithmetic: |z| of a
    /// complex64 is computed in float32, then widened, as `np.abs` then scipy's promotion do).
    pub fn component_values(&self, rows: Rows<'_>, out: &mut Vec<f64>) {
        out.clear();
        let c = self.component;
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

impl Analysis for PeakFinding {
    type Item = u32;
    type Scratch = PeakScratch;

    fn name(&self) -> &str {
        "Peak_Finding"
    }

    fn parameters(&self) -> Vec<(String, Param)> {
        let r = self.params.resolved(self.n_bins);
        vec![
            ("algorithm".into(), Param::Str("find_peaks_cwt".into())),
            ("component".into(), Param::Str(self.component.name().into())),
            ("widths".into(), Param::Floats(self.params.widths.clone())),
            ("max_distances".into(), Param::Floats(r.max_distances.clone())),
            ("gap_thresh".into(), Param::Float(r.gap_thresh)),
            ("min_length".into(), Param::Int(r.min_length as i64)),
            ("min_snr".into(), Param::Float(self.params.min_snr)),
            ("noise_perc".into(), Param::Float(self.params.noise_perc)),
            ("window_size".into(), Param::Int(r.window_size as i64)),
            (
                "snr_from".into(),
                Param::Str(match self.params.snr_from {
                    SnrFrom::RidgeEnd => "ridge-end".into(),
                    SnrFrom::RidgeMax => "ridge-max".into(),
                }),
            ),
        ]
    }

    fn new_scratch(&self) -> PeakScratch {
        PeakScratch { values: Vec::new(), cwt: self.finder.new_scratch() }
    }

    fn process(&self, rows: Rows<'_>, scratch: &mut PeakScratch, out: &mut RowItems<u32>) {
        self.component_values(rows, &mut scratch.values);
        self.finder.find_batch(&scratch.values, &mut scratch.cwt, |_, peaks| out.push_row(peaks));
    }

    fn write(&self, results: &RowItems<u32>, target: &WriteTarget<'_>) -> Result<(), UsidError> {
        let n = results.n_rows();
        // HDF5 datasets need at least one column, even when no pixel has a peak.
        let width = results.counts.iter().copied().max().unwrap_or(0).max(1) as usize;
        let mut indices = Array2::<i32>::from_elem((n, width), -1);
        let mut freqs = Array2::<f64>::from_elem((n, width), f64::NAN);
        let mut counts = Array2::<u32>::zeros((n, 1));
        for (i, peaks) in results.rows().enumerate() {
            counts[[i, 0]] = peaks.len() as u32;
            for (j, &p) in peaks.iter().enumerate() {
                indices[[i, j]] = p as i32;
                freqs[[i, j]] = self.axis.get(p as usize).copied().unwrap_or(f64::NAN);
            }
        }
        let g = target.group;
        let pos = || Ancillary::Existing { indices: target.position_indices, values: target.position_values };
        let h5 = |what: &str, e: hdf5::Error| UsidError(format!("{}: {what}: {e}", g.name()));

        // Peak_Count has its own one-bin spectroscopic axis; its ancillary datasets are renamed so
        // the peak axis can take the standard names.
        let count_axis = Ancillary::New(vec![DimSpec::new("Count", "", vec![0.0])]);
        let ds = usid::write::create_main_dataset::<u32>(
            g,
            "Peak_Count",
            n,
            1,
            "Peak count",
            "",
            pos(),
            count_axis,
            None,
        )?;
        ds.write(&counts).map_err(|e| h5("cannot write Peak_Count", e))?;
        for name in ["Spectroscopic_Indices", "Spectroscopic_Values"] {
            g.relink(name, &format!("Count_{name}")).map_err(|e| h5("cannot rename the count axis", e))?;
        }

        let peak_axis = Ancillary::New(vec![DimSpec::linear("Peak", "", 0.0, 1.0, width)]);
        let ds = usid::write::create_main_dataset::<i32>(
            g,
            "Peak_Indices",
            n,
            width,
            "Peak index",
            "",
            pos(),
            peak_axis,
            None,
        )?;
        ds.write(&indices).map_err(|e| h5("cannot write Peak_Indices", e))?;

        let (si, sv) = (
            g.dataset("Spectroscopic_Indices").map_err(|e| h5("Spectroscopic_Indices", e))?,
            g.dataset("Spectroscopic_Values").map_err(|e| h5("Spectroscopic_Values", e))?,
        );
        let ds = usid::write::create_main_dataset::<f64>(
            g,
            "Peak_Frequencies",
            n,
            width,
            &self.axis_name,
            &self.axis_units,
            pos(),
            Ancillary::Existing { indices: &si, values: &sv },
            None,
        )?;
        ds.write(&freqs).map_err(|e| h5("cannot write Peak_Frequencies", e))?;
        Ok(())
    }

    fn count_items(&self, group: &hdf5::Group) -> Option<u64> {
        let counts = group.dataset("Peak_Count").ok()?.read_raw::<u32>().ok()?;
        Some(counts.iter().map(|&c| u64::from(c)).sum())
    }
}
