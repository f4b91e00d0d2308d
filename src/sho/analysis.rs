//! The SHO fit as an engine [`Analysis`]: every spectrum of a Band Excitation map through
//! [`ShoFitter`], written as BGlib 0.0.6's `BESHOfitter` writes its results, so that BGlib's
//! `BELoopFitter` (and anything else that reads BGlib's groups) takes ours as its own.
//!
//! `<dataset>-SHO_Fit_NNN` holds `Guess` and `Fit`: compound main datasets of [`Sho`] records
//! (`Amplitude [V]`, `Frequency [Hz]`, `Quality Factor`, `Phase [rad]`, `R2 Criterion`, float64),
//! (positions × spectra per pixel), linked to the source's positions and to spectroscopic
//! datasets of the source's other dimensions (the frequency one removed, in the source's order:
//! BEPS's DC_Offset × Field × Cycle) — pyUSID's `Single_Step` when there is none (BE-line), as
//! its `write_reduced_anc_dsets` writes it. The group carries the status datasets
//! `completed_guess_positions` and `completed_fit_positions`, `last_pixel` (the engine's), and
//! BGlib's parameter attributes (`guess-method`, `guess-algorithm`, …, also on `Guess` and `Fit`).
//! A group written into another file than the source's (`--output`) gets the attributes BGlib's
//! loop fitter is told from the source: the file's `data_type`, and the measurement group's
//! `VS_mode` and `VS_cycle_fraction`.
//!
//! For an NSID source the same records go into pyNSID's layout instead
//! ([`Analysis::begin_write_nsid`]):
//! `Log_SHO_Fit_NNN` beside the source's group, `Guess/Guess` and `Fit/Fit` NSID datasets of
//! [`Sho`] records over the source's SPATIAL axes then its other axes (each with its dimension
//! scale), BGlib's parameter attributes on the group and on both. Both formats are written batch
//! by batch: as rank 0 gathers them with `--output`, from the checkpoint at the end in place.

use super::{FitStatus, Sho, ShoFitter, ShoGuess, ShoOutcome, ShoParams, ShoScratch};
use crate::compute::{
    write_whole, Analysis, ComputeError, NsidWriteTarget, ResultsWriter, RowItems, Rows, WriteTarget,
};
use crate::nsid::{create_nsid_dataset, data_type_of, write_positions, NsidSpec};
use crate::params::{Param, Parameters};
use crate::usid::write::{self, Ancillary, DimSpec, MainSpec};
use crate::usid::{attr, results, SpectraLayout, UsidError};

/// The status datasets of an SHO results group, as BGlib's fitter names them.
pub const STATUS_DATASETS: &[&str] = &["completed_guess_positions", "completed_fit_positions"];
/// The results' datasets (USID and NSID alike): BGlib's names.
const GUESS: &str = "Guess";
const FIT: &str = "Fit";

/// Attributes of the source's measurement group that BGlib's loop fitter is given, copied with a
/// group written into another file.
const MEASUREMENT_ATTRS: &[&str] = &["VS_mode", "VS_cycle_fraction"];

/// The SHO fit of every spectrum of a main dataset; its items are two [`Sho`] records per
/// spectrum, the guess then the fit.
pub struct ShoFit {
    params: ShoParams,
    fitter: ShoFitter,
    axis_name: String,
    /// The source's other spectroscopic dimensions (fastest first), the results' columns.
    others: Vec<DimSpec>,
}

impl ShoFit {
    /// The process name of its results groups (`<dataset>-SHO_Fit_NNN`), BGlib's.
    pub const NAME: &'static str = "SHO_Fit";

    /// The fit of the spectra of `layout`, whose axis is the frequency (Hz). Parameters that
    /// cannot plan a fit are a usage error; an axis that cannot be a frequency axis (a value ≤ 0
    /// or not finite) an input error.
    pub fn new(layout: &SpectraLayout, params: ShoParams) -> Result<Self, ComputeError> {
        params.check().map_err(|e| ComputeError::Usage(e.0))?;
        ShoFitter::check_frequencies(&layout.axis).map_err(|e| {
            ComputeError::Input(UsidError(format!("{} as the frequency axis: {e}", layout.along_dim.name)))
        })?;
        let fitter = ShoFitter::new(&layout.axis, &params).map_err(|e| ComputeError::Usage(e.0))?;
        Ok(ShoFit { params, fitter, axis_name: layout.along_dim.name.clone(), others: layout.others.clone() })
    }

    /// The plan every spectrum goes through.
    pub fn fitter(&self) -> &ShoFitter {
        &self.fitter
    }

    /// BGlib's parameter attributes (its `parms_dict` of the guess, then of the fit).
    fn bglib_attrs(&self) -> Vec<(&'static str, Param)> {
        let mut out = vec![("guess-method", Param::Str("pycroscopy BESHO".into()))];
        match self.params.guess {
            ShoGuess::ComplexGaussian => {
                out.push(("guess-algorithm", Param::Str("complex_gaussian".into())));
                let points = i64::try_from(self.params.num_points).unwrap_or(i64::MAX);
                out.push(("guess-complex_gaussian-num_points", Param::Int(points)));
            }
            ShoGuess::WaveletPeaks => {
                out.push(("guess-algorithm", Param::Str("wavelet_peaks".into())));
                out.push(("guess-wavelet_peaks-peak_widths", Param::Floats(self.params.peak_widths.clone())));
            }
        }
        out.push(("fit-method", Param::Str("pycroscopy BESHO".into())));
        out.push(("fit-algorithm", Param::Str("levenberg_marquardt".into())));
        out
    }
}

/// Write `value` as the attribute `name` of `obj`.
fn write_param(obj: &hdf5::Location, name: &str, value: &Param) -> Result<(), UsidError> {
    match value {
        Param::Str(s) => write::write_str_attr(obj, name, s),
        Param::Float(v) => write::write_f64_attr(obj, name, *v),
        Param::Int(v) => write::write_i64_attr(obj, name, *v),
        Param::Floats(v) => write::write_f64_array_attr(obj, name, v),
    }
}

impl Analysis for ShoFit {
    type Item = Sho;
    type Scratch = ShoScratch;
    const COMPLEX_ONLY: bool = true;

    fn name(&self) -> &str {
        ShoFit::NAME
    }

    fn status_datasets(&self) -> &'static [&'static str] {
        STATUS_DATASETS
    }

    fn parameters(&self) -> Vec<(String, Param)> {
        let mut all = vec![
            ("algorithm".into(), Param::Str("SHO fit".into())),
            ("along".into(), Param::Str(self.axis_name.clone())),
        ];
        all.extend(self.params.values());
        all
    }

    fn reuse_key(&self) -> Vec<(String, Param)> {
        ShoParams::DESCRIPTION.key(self.parameters())
    }

    fn new_scratch(&self) -> ShoScratch {
        self.fitter.new_scratch()
    }

    fn process(&self, rows: Rows<'_>, scratch: &mut ShoScratch, out: &mut RowItems<Sho>) {
        let mut emit = |_: usize, o: &ShoOutcome| out.push_row(&[o.guess, o.fit]);
        match rows {
            Rows::Complex32(v) => self.fitter.fit_batch(v, scratch, &mut emit),
            Rows::Complex64(v) => self.fitter.fit_batch(v, scratch, &mut emit),
            // Refused before the analysis is made (`COMPLEX_ONLY`); marked unfitted if ever given.
            Rows::Float32(_) | Rows::Float64(_) => {
                let nan =
                    ShoOutcome { guess: Sho::NAN, fit: Sho::NAN, status: FitStatus::Failed, evaluations: 0 };
                (0..rows.len() / self.fitter.spectrum_len().max(1)).for_each(|i| emit(i, &nan));
            }
        }
    }

    fn write(&self, results: &RowItems<Sho>, t: &WriteTarget<'_>) -> Result<(), UsidError> {
        write_whole(Box::new(ShoWriter::begin(self, t)?), results, t.source.n_positions as u64)
    }

    fn streams(&self) -> bool {
        true
    }

    fn begin_write<'t>(
        &'t self,
        target: &'t WriteTarget<'t>,
    ) -> Result<Box<dyn ResultsWriter<Sho> + 't>, UsidError> {
        Ok(Box::new(ShoWriter::begin(self, target)?))
    }

    fn writes_nsid(&self) -> bool {
        true
    }

    fn nsid_names(&self) -> &'static [&'static str] {
        &[GUESS, FIT]
    }

    fn begin_write_nsid<'t>(
        &'t self,
        target: &'t NsidWriteTarget<'t>,
    ) -> Result<Box<dyn ResultsWriter<Sho> + 't>, UsidError> {
        Ok(Box::new(ShoWriter::begin_nsid(self, target)?))
    }

    fn count_items(&self, group: &hdf5::Group) -> Option<u64> {
        // Two records per spectrum, as a run counts them: its guess and its fit (USID: the
        // dataset itself; NSID: pyNSID's `<name>/<name>`).
        let fit = group.dataset("Fit").or_else(|_| group.dataset("Fit/Fit")).ok()?;
        Some(2 * fit.size() as u64)
    }
}

/// [`ShoFit`]'s results written batch by batch: `Guess` and `Fit` have one record per spectrum,
/// so both are made whole at the start and each batch's rows are written into them.
struct ShoWriter {
    guess: hdf5::Dataset,
    fit: hdf5::Dataset,
    layout: Layout,
}

/// How a [`ShoWriter`]'s datasets hold the spectra.
enum Layout {
    /// USID: (positions × spectra per pixel).
    Usid { per_pixel: usize },
    /// NSID: over the position axes of these sizes, then the other axes.
    Nsid { positions: Vec<usize> },
}

impl ShoWriter {
    fn begin(sho: &ShoFit, t: &WriteTarget<'_>) -> Result<Self, UsidError> {
        let per_pixel: usize = sho.others.iter().map(|d| d.values.len()).product();
        let g = t.group;
        let h5 = |what: &str, e: hdf5::Error| UsidError(format!("{}: {what}: {e}", g.name()));
        // pyUSID's reduced ancillary datasets when no dimension is left (BE-line).
        let columns = if sho.others.is_empty() {
            vec![DimSpec::new("Single_Step", "a. u.", vec![0.0])]
        } else {
            sho.others.clone()
        };
        let pos = || Ancillary::Existing { indices: t.position_indices, values: t.position_values };
        let spec = |name| MainSpec {
            name,
            n_positions: t.source.n_positions,
            n_bins: per_pixel,
            quantity: "SHO",
            units: "compound",
            pos: pos(),
            spec: Ancillary::New(Vec::new()),
            chunk_rows: None,
        };
        let guess =
            write::create_main_dataset::<Sho>(g, MainSpec { spec: Ancillary::New(columns), ..spec(GUESS) })?;
        let (si, sv) = (
            g.dataset("Spectroscopic_Indices").map_err(|e| h5("Spectroscopic_Indices", e))?,
            g.dataset("Spectroscopic_Values").map_err(|e| h5("Spectroscopic_Values", e))?,
        );
        let fit = write::create_main_dataset::<Sho>(
            g,
            MainSpec { spec: Ancillary::Existing { indices: &si, values: &sv }, ..spec(FIT) },
        )?;
        for (name, value) in sho.bglib_attrs() {
            write_param(g, name, &value)?;
            write_param(&guess, name, &value)?;
            write_param(&fit, name, &value)?;
        }
        copy_context(t)?;
        Ok(ShoWriter { guess, fit, layout: Layout::Usid { per_pixel } })
    }
}

impl ShoWriter {
    /// [`ShoFit`]'s results as NSID datasets, `Guess` and `Fit` over [`NsidWriteTarget::dims`],
    /// BGlib's parameter attributes on them and on the group.
    fn begin_nsid(sho: &ShoFit, t: &NsidWriteTarget<'_>) -> Result<Self, UsidError> {
        let source = format!("usid-peaks sho ({})", t.source);
        let make = |name| -> Result<hdf5::Dataset, UsidError> {
            let spec = NsidSpec {
                name,
                quantity: "SHO",
                units: "compound",
                data_type: data_type_of(t.dims),
                modality: "SHO fit of Band Excitation spectra (BGlib's BESHOfitter model)",
                source: &source,
                dims: t.dims,
                chunk: None,
            };
            let ds = create_nsid_dataset::<Sho>(t.group, &spec).map_err(|e| UsidError(e.message))?;
            for (key, value) in sho.bglib_attrs() {
                write_param(&ds, key, &value)?;
            }
            Ok(ds)
        };
        let (guess, fit) = (make(GUESS)?, make(FIT)?);
        for (key, value) in sho.bglib_attrs() {
            write_param(t.group, key, &value)?;
        }
        Ok(ShoWriter { guess, fit, layout: Layout::Nsid { positions: t.position_shape() } })
    }
}

impl ResultsWriter<Sho> for ShoWriter {
    fn write_rows(
        &mut self,
        pixels: std::ops::Range<u64>,
        counts: &[u32],
        items: &[Sho],
    ) -> Result<(), UsidError> {
        let rows = (pixels.end - pixels.start) as usize;
        let (guess, fit) = split_records(counts, items);
        let err = |what: &str, e: &dyn std::fmt::Display| UsidError(format!("cannot write {what}: {e}"));
        let (a, b) = (pixels.start as usize, pixels.end as usize);
        for (ds, values, what) in [(&self.guess, guess, "Guess"), (&self.fit, fit, "Fit")] {
            match &self.layout {
                Layout::Usid { per_pixel } => {
                    let block = ndarray::Array2::from_shape_vec((rows, *per_pixel), values)
                        .map_err(|e| err(what, &e))?;
                    ds.write_slice(&block, ndarray::s![a..b, ..]).map_err(|e| err(what, &e))?;
                }
                Layout::Nsid { positions } => {
                    write_positions(ds, positions, a..b, &values).map_err(|e| err(what, &e))?;
                }
            }
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), UsidError> {
        Ok(())
    }
}

/// Each spectrum's guess and fit (its two items; a spectrum without them is NaN records), in
/// the order of the spectra.
fn split_records(counts: &[u32], items: &[Sho]) -> (Vec<Sho>, Vec<Sho>) {
    let (mut guess, mut fit) = (Vec::with_capacity(counts.len()), Vec::with_capacity(counts.len()));
    let mut at = 0usize;
    for &c in counts {
        let (g, f) = match items.get(at..at + c as usize) {
            Some([g, f]) => (*g, *f),
            _ => (Sho::NAN, Sho::NAN),
        };
        guess.push(g);
        fit.push(f);
        at += c as usize;
    }
    (guess, fit)
}

/// Into a group written in another file than the source's: the source file's `data_type` on the
/// file, and `VS_mode`/`VS_cycle_fraction` of the source's ancestor groups on the same groups of
/// the target (the engine made them), as far as the source has them (strings).
fn copy_context(t: &WriteTarget<'_>) -> Result<(), UsidError> {
    let [pos_ind, ..] = t.source.ancillary_datasets();
    let (source, target) = (
        pos_ind.file().map_err(|e| UsidError(format!("{}: {e}", t.source.path)))?,
        t.group.file().map_err(|e| UsidError(format!("{}: {e}", t.group.name())))?,
    );
    if source.filename() == target.filename() {
        return Ok(());
    }
    let copy = |from: &hdf5::Location, to: &hdf5::Location, name: &str| -> Result<(), UsidError> {
        if let Ok(Some(a)) = attr::find(from, name) {
            if let Ok(text) = attr::scalar_string(&a) {
                write::write_str_attr(to, name, &text)?;
            }
        }
        Ok(())
    };
    copy(&source, &target, "data_type")?;
    let mut path = String::new();
    for part in results::parent_path(&t.source.path).split('/').filter(|part| !part.is_empty()) {
        path = format!("{path}/{part}");
        if let (Ok(from), Ok(to)) = (source.group(&path), target.group(&path)) {
            for name in MEASUREMENT_ATTRS {
                copy(&from, &to, name)?;
            }
        }
    }
    Ok(())
}
