//! The pictures of the SHO fit, made from its results groups (`<dataset>-SHO_Fit_NNN`): one
//! field of `Fit` (or `Guess`) over the position grid (`plot --map --field`), and one pixel's
//! measured spectrum with the model curve of its `Fit` record (`plot --pixel --sho`) — the
//! model being [`crate::sho::response`], the one the fit itself uses.

use std::path::Path;

use ndarray::s;
use num_complex::Complex64;

use super::fitted::{FitFigure, Parts};
use super::peaks::{base_name, chosen_column, grid_figure, Found, Process};
use super::{MapFigure, PlotError};
use crate::peaks::PixelQuery;
use crate::sho::{response, Sho, ShoFit, STATUS_DATASETS};
use crate::usid::results::{self, ResultsGroup};
use crate::usid::select::{open_main, select_spectra, Pixel};
use crate::usid::{self, MainDataset, Rows, SpectraLayout};

/// The SHO fit's groups.
pub(super) const SHO: Process = Process { name: ShoFit::NAME, status: STATUS_DATASETS, command: "sho" };

/// The field a map of the SHO fit shows when none is asked for: the resonance frequency, what
/// a Band Excitation map is first looked at for.
pub const DEFAULT_SHO_FIELD: &str = "Frequency [Hz]";

/// A field of the SHO record: its stored name and how to read it from a record.
type Field = (&'static str, fn(&Sho) -> f64);

/// BGlib's fields of an SHO record, as stored, with the value each names.
const FIELDS: [Field; 5] = [
    ("Amplitude [V]", |r| r.amplitude),
    ("Frequency [Hz]", |r| r.frequency),
    ("Quality Factor", |r| r.quality),
    ("Phase [rad]", |r| r.phase),
    ("R2 Criterion", |r| r.r2),
];

/// A field's name before its unit (`Frequency`) and the unit (`Hz`; empty without one).
fn name_and_units(field: &str) -> (&str, &str) {
    match field.split_once(" [") {
        Some((name, units)) => (name, units.trim_end_matches(']')),
        None => (field, ""),
    }
}

/// The stored name of the SHO record field `wanted` names: its name before the unit
/// (`Frequency`, `Quality Factor`, `R2 Criterion`), the whole stored name, or the start of
/// either, in any case. Anything else is a usage error listing the fields.
pub fn sho_field(wanted: &str) -> Result<&'static str, PlotError> {
    let w = wanted.trim().to_lowercase();
    let matches = |field: &str| {
        let name = name_and_units(field).0.to_lowercase();
        !w.is_empty() && (name == w || field.to_lowercase() == w || name.starts_with(&w))
    };
    match FIELDS.iter().find(|(f, _)| matches(f)) {
        Some((f, _)) => Ok(f),
        None => {
            let names: Vec<&str> = FIELDS.iter().map(|(f, _)| name_and_units(f).0).collect();
            Err(PlotError::usage(format!(
                "--field {wanted:?}: the SHO fit's records have the fields {}",
                names.join(", ")
            )))
        }
    }
}

/// The map of one field of an SHO group's `Fit` (`guess`: `Guess`) records, `field` as
/// [`sho_field`] matches it (`None`: [`DEFAULT_SHO_FIELD`]); the title names the records and
/// the field. A spectrum that was not fitted (NaN) is a grey cell.
pub(super) fn sho_map(
    found: Found,
    field: Option<&str>,
    guess: bool,
    steps: &[(&str, usize)],
) -> Result<MapFigure, PlotError> {
    let field = field.map_or(Ok(DEFAULT_SHO_FIELD), sho_field)?;
    let fallback: fn(&Sho) -> f64 = |r| r.frequency;
    let value = FIELDS.iter().find(|(f, _)| *f == field).map_or(fallback, |(_, v)| *v);
    let records = if guess { "Guess" } else { "Fit" };
    let path = found.at(records);
    let main = MainDataset::open_records(&found.file, &path)?;
    found.check_pixels(main.n_positions)?;
    let along = found.group.attr("along").unwrap_or("Frequency").to_string();
    let (column, label) = chosen_column(&main, &along, steps)?;
    let all = read_records(&found.file, &path, None, column..column + 1)?;
    let values: Vec<f64> = all.iter().map(value).collect();
    let mut figure = grid_figure(&main, values)?;
    let (name, units) = name_and_units(field);
    figure.title = format!(
        "{}: SHO {records} {name}{label} ({})",
        base_name(&found.group.source_dataset),
        base_name(&found.group.path)
    );
    figure.value_name = format!("{records} {name}");
    figure.value_units = units.to_string();
    figure.missing_meaning = "not fitted (NaN)".into();
    Ok(figure)
}

/// The records of `path` in `file` in the rows (positions) `rows` (`None`: all) and columns
/// `cols`, row-major.
fn read_records(
    file: &hdf5::File,
    path: &str,
    rows: Option<std::ops::Range<usize>>,
    cols: std::ops::Range<usize>,
) -> Result<Vec<Sho>, PlotError> {
    let read = file.dataset(path).and_then(|d| {
        let rows = rows.unwrap_or(0..d.shape().first().copied().unwrap_or(0));
        d.read_slice_2d::<Sho, _>(s![rows, cols])
    });
    read.map(|a| a.iter().copied().collect())
        .map_err(|e| PlotError::input(format!("{}: {path}: {}", file.filename(), crate::error::one_line(e))))
}

/// One pixel's spectrum and the SHO fit of it to draw: the pixel, `--along` and `--step` as for
/// peaks (the along dimension is the fit's own when not given), the results in `results` when
/// they are not in the source file, and which two parts of the complex values to show.
#[derive(Debug, Clone, Copy)]
pub struct ShoPixelQuery<'a> {
    pub pixel: PixelQuery<'a>,
    pub results: Option<&'a Path>,
    pub parts: Parts,
}

/// The measured spectrum of one pixel (the first of the spectra `steps` select) with the model
/// curve of its record in the newest complete SHO fit of the dataset.
pub fn sho_spectrum_figure(q: &ShoPixelQuery<'_>) -> Result<FitFigure, PlotError> {
    let p = &q.pixel;
    let (_file, main) = open_main(p.file, p.dataset)?;
    let rfile = match q.results {
        Some(r) => usid::open_file(r)?,
        None => usid::open_file(p.file)?,
    };
    let complete = |g: &ResultsGroup| g.process == SHO.name && g.complete_for(SHO.status);
    let group = results::newest_group_where(&rfile, &main.path, SHO.name, complete).ok_or_else(|| {
        let results = q.results.unwrap_or(p.file).display();
        PlotError::input(format!(
            "{results}: no complete SHO_Fit results for {} — run usid-peaks sho {} first{}",
            main.path,
            p.file.display(),
            if q.results.is_some() { "" } else { " (or give --results with the file sho -o wrote)" }
        ))
    })?;
    let along = p.along.or(group.attr("along"));
    let layout = SpectraLayout::named(&main, along)?.map_err(PlotError::usage)?;
    let pixel = Pixel::resolve(&main, p.pixel)?;
    let spectrum = select_spectra(&layout, p.steps)?.first().copied().unwrap_or(0);
    let block = usid::SpectraReader::new(&main, &layout).read_range(pixel.index..pixel.index + 1)?;
    let measured: Vec<Complex64> = match block.spectrum(spectrum) {
        Rows::Complex32(v) => v.iter().map(|z| Complex64::new(z.re as f64, z.im as f64)).collect(),
        Rows::Complex64(v) => v.to_vec(),
        Rows::Float32(_) | Rows::Float64(_) => {
            return Err(PlotError::input(format!("{}: real values have no SHO fit", main.path)))
        }
    };
    let path = format!("{}/Fit", group.path);
    let fit = read_records(&rfile, &path, Some(pixel.index..pixel.index + 1), spectrum..spectrum + 1)?;
    let fit = fit.first().copied().unwrap_or(Sho::NAN);
    let x = layout.axis.clone();
    let (lo, hi) = x
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    // The model between the bins too: a resonance narrower than the bin spacing still shows.
    const CURVE_POINTS: usize = 600;
    let model_x: Vec<f64> = if fit.is_finite() && lo < hi {
        (0..CURVE_POINTS).map(|i| lo + (hi - lo) * i as f64 / (CURVE_POINTS - 1) as f64).collect()
    } else {
        Vec::new()
    };
    let model = model_x.iter().map(|&f| response(&fit, f)).collect();
    let step = if layout.per_pixel() > 1 { format!(", {}", layout.label(spectrum)) } else { String::new() };
    Ok(FitFigure {
        title: format!(
            "{} ({})  pixel (row {}, col {}) = index {}{step}",
            base_name(&main.path),
            if main.quantity.is_empty() { "response" } else { main.quantity.as_str() },
            pixel.row,
            pixel.col,
            pixel.index
        ),
        subtitle: fit_line(&fit, base_name(&group.path), &main.units),
        x,
        x_name: layout.along_dim.name.clone(),
        x_units: layout.along_dim.units.clone(),
        measured,
        model_x,
        model,
        units: main.units.clone(),
        parts: q.parts,
    })
}

/// `SHO_Fit_000 Fit: A = 1.234e-3 V, ω0 = 320.12 kHz, Q = 150.3, φ = 0.500 rad, R² = 0.9990`.
fn fit_line(fit: &Sho, group: &str, units: &str) -> String {
    if !fit.is_finite() {
        return format!("{group} Fit: not fitted (NaN record)");
    }
    let f = super::si_scale("Hz", fit.frequency.abs());
    format!(
        "{group} Fit: A = {:.4e} {units}, ω0 = {:.3} {}, Q = {:.1}, φ = {:.3} rad, R² = {:.4}",
        fit.amplitude,
        fit.frequency * f.factor,
        f.units,
        fit.quality,
        fit.phase,
        fit.r2
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_is_matched_by_its_name_before_the_unit_in_any_case() {
        assert_eq!(sho_field("Frequency").unwrap(), "Frequency [Hz]");
        assert_eq!(sho_field("quality factor").unwrap(), "Quality Factor");
        assert_eq!(sho_field("R2").unwrap(), "R2 Criterion");
        assert_eq!(sho_field("Phase [rad]").unwrap(), "Phase [rad]");
        assert_eq!(sho_field("amp").unwrap(), "Amplitude [V]");
    }

    #[test]
    fn an_unknown_field_is_a_usage_error_listing_the_fields() {
        let e = sho_field("Resonance").unwrap_err();
        assert_eq!(e.class, crate::error::Class::Usage);
        assert!(e.message.contains("Amplitude, Frequency, Quality Factor, Phase, R2 Criterion"), "{e}");
        assert!(sho_field("").is_err());
    }
}
