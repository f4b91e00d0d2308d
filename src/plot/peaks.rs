//! The pictures of peak finding, made from the files: one pixel's spectrum with its peaks, and a
//! results group over the position grid (`usid-peaks plot --pixel` and `--map`).

use std::path::Path;

use super::{si_scale, MapFigure, PlotError, SpectrumFigure};
use crate::compute::ComputeError;
use crate::compute::Source;
use crate::error::Class;
use crate::peaks::{Component, PeakFinding, PeakParams, PixelQuery, PixelSource};
use crate::usid::results::{self, ResultsGroup};
use crate::usid::select::{only_source_dataset, resolve_steps, SelectError};
use crate::usid::{self, MainDataset, UsidError};

impl From<UsidError> for PlotError {
    fn from(e: UsidError) -> Self {
        PlotError { class: Class::Input, message: e.to_string() }
    }
}

impl From<SelectError> for PlotError {
    fn from(e: SelectError) -> Self {
        PlotError { class: e.class(), message: e.to_string() }
    }
}

impl From<ComputeError> for PlotError {
    fn from(e: ComputeError) -> Self {
        PlotError { class: e.class(), message: e.to_string() }
    }
}

/// One spectrum of one pixel with its peaks: the first of the spectra `query.steps` selects, of
/// a USID or an NSID dataset.
pub fn spectrum_figure(query: &PixelQuery<'_>, params: PeakParams) -> Result<SpectrumFigure, PlotError> {
    let component = params.options.component;
    let at = PixelSource::open(query)?;
    let (layout, pixel) = (&at.layout, at.pixel);
    let spectrum = at.chosen.first().copied().unwrap_or(0);
    let finding = PeakFinding::new(layout, params)?;
    let block = at.read()?;
    let peaks = finding.find_one(block.spectrum(spectrum));
    let mut y = Vec::new();
    finding.component_values(block.spectrum(spectrum), &mut y);
    let x = finding.axis().to_vec();
    let (name, units) = finding.axis_label();
    let (y_name, y_units) = component_label(at.quantity(), component);
    Ok(SpectrumFigure {
        title: format!(
            "{}  pixel (row {}, col {}) = index {}{}",
            base_name(at.source.path()),
            pixel.row,
            pixel.col,
            pixel.index,
            if layout.per_pixel() > 1 { format!(", {}", layout.label(spectrum)) } else { String::new() }
        ),
        subtitle: peaks_line(&peaks, &x, units),
        x,
        x_name: name.to_string(),
        x_units: units.to_string(),
        y,
        y_name,
        y_units,
        peaks: peaks.iter().map(|&p| p as usize).collect(),
    })
}

/// `3 peaks: bins 40, 60, 80 = 340.2, 350.3, 360.1 kHz`: the peaks in the axis's prefixed units.
fn peaks_line(peaks: &[u32], x: &[f64], units: &str) -> String {
    let scale = si_scale(units, x.iter().fold(0f64, |m, v| if v.is_finite() { m.max(v.abs()) } else { m }));
    let bins: Vec<String> = peaks.iter().map(|p| p.to_string()).collect();
    let values: Vec<String> = peaks
        .iter()
        .map(|&p| x.get(p as usize).map_or("?".into(), |v| trim_zeros(&format!("{:.2}", v * scale.factor))))
        .collect();
    match peaks.len() {
        0 => "no peaks found".to_string(),
        n => format!(
            "{n} peak{}: bin{} {} = {} {}",
            if n == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" },
            short_list(&bins, 8),
            short_list(&values, 8),
            scale.units
        ),
    }
}

/// `|quantity|`, `Re quantity`, … and its units: the y axis of a spectrum of `(quantity, units)`.
fn component_label((quantity, units): (&str, &str), c: Component) -> (String, String) {
    let q = if quantity.is_empty() { "value" } else { quantity };
    match c {
        Component::Abs => (format!("|{q}|"), units.to_string()),
        Component::Real => (format!("Re {q}"), units.to_string()),
        Component::Imag => (format!("Im {q}"), units.to_string()),
        Component::Phase => (format!("phase of {q}"), "rad".into()),
    }
}

/// A list for a title: at most `max` items, then how many more.
fn short_list(items: &[String], max: usize) -> String {
    if items.len() <= max {
        items.join(", ")
    } else {
        format!("{}, … ({} more)", items[..max].join(", "), items.len() - max)
    }
}

/// `330.100000` → `330.1`.
fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

pub(super) fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// What a peak-finding map shows per pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapOf {
    /// The first peak's spectroscopic value (e.g. frequency).
    Frequency,
    /// The first peak's bin index.
    Index,
    /// The number of peaks.
    Count,
}

/// What [`map_figure`] draws of which results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapWhat<'a> {
    /// The newest complete peak-finding results when there are any (their first peak's
    /// frequency), else the newest complete SHO fit's `Fit` at its default field.
    Auto,
    /// Peak-finding results.
    Peaks(MapOf),
    /// The SHO fit: one field of its `Fit` records (`guess`: of its `Guess`), named as
    /// [`super::sho_field`] matches it (`None`: [`super::DEFAULT_SHO_FIELD`]).
    Sho { field: Option<&'a str>, guess: bool },
}

/// Which results [`map_figure`] draws.
#[derive(Debug, Clone, Copy)]
pub struct MapQuery<'a> {
    /// The source map, or a file `find -o`/`sho -o` wrote (then the newest complete group in
    /// it is drawn).
    pub file: &'a Path,
    /// The source dataset; `None`: the file's only source dataset.
    pub dataset: Option<&'a str>,
    /// The file the results are in, when not `file` (what `find -o` wrote).
    pub results: Option<&'a Path>,
    pub what: MapWhat<'a>,
    /// `(dimension, step)`: which spectrum of each pixel, with several (the first by default).
    pub steps: &'a [(&'a str, usize)],
}

/// An analysis whose results groups are drawn: its process name, its own status datasets, and
/// the command that writes them (for messages).
pub(super) struct Process {
    pub name: &'static str,
    pub status: &'static [&'static str],
    pub command: &'static str,
}

/// Peak finding's groups.
const PEAKS: Process = Process { name: PeakFinding::NAME, status: &[results::STATUS], command: "find" };

/// A results group to draw: the file it is in, the group, and the source's pixel count when
/// the source is known.
pub(super) struct Found {
    pub file: hdf5::File,
    pub group: ResultsGroup,
    pub source_pixels: Option<usize>,
}

impl Found {
    /// The path of member `name` of the group.
    pub(super) fn at(&self, name: &str) -> String {
        format!("{}/{name}", self.group.path)
    }

    /// Refuse results of another map than the source: `n` is the results' pixel count.
    pub(super) fn check_pixels(&self, n: usize) -> Result<(), PlotError> {
        match self.source_pixels.filter(|&s| s != n) {
            Some(s) => Err(PlotError::input(format!(
                "{}: {} has {n} pixels but the source dataset has {s}; are these its results?",
                self.file.filename(),
                self.group.path
            ))),
            None => Ok(()),
        }
    }
}

/// The newest complete group of process `p` to draw: beside the source dataset of `file` (in
/// `file`, or in `results`), or — when `file` holds no source dataset, as a file `find -o`
/// wrote — the newest complete one in `file`. `Ok(Err(..))`: the files read, and hold no such
/// group (the message says which command makes one).
pub(super) fn results_to_draw(q: &MapQuery<'_>, p: &Process) -> Result<Result<Found, PlotError>, PlotError> {
    let complete = |g: &ResultsGroup| g.process == p.name && g.complete_for(p.status);
    let file = usid::open_file(q.file)?;
    let mut datasets = usid::find_main_datasets(&file)?;
    datasets.extend(crate::nsid::find_nsid_datasets(&file).map_err(|e| PlotError::input(e.message))?);
    let has_source = q.dataset.is_some() || datasets.iter().any(|p| !results::is_in_results_group(p));
    if !has_source {
        let group = results::all_groups(&file).into_iter().rev().find(|g| complete(g)).ok_or_else(|| {
            PlotError::input(format!(
                "{}: has no USID or NSID source dataset and no complete results of usid-peaks {}",
                q.file.display(),
                p.command
            ))
        });
        return Ok(group.map(|group| Found { file, group, source_pixels: None }));
    }
    let dataset = match q.dataset {
        Some(d) => d.to_string(),
        None => only_source_dataset(&file, q.file)?,
    };
    // The source as the engine sees it (USID or NSID): its path and number of positions.
    let (source, _) = Source::open(&file, &dataset, None)?;
    let (path, n_positions) = (source.path().to_string(), source.n_positions());
    let rfile = match q.results {
        Some(r) => usid::open_file(r)?,
        None => file,
    };
    let hint = match q.results {
        Some(r) => format!("run usid-peaks {} {} -o {} first", p.command, q.file.display(), r.display()),
        None => format!(
            "run usid-peaks {} {} first (or give --results with the file {} -o wrote)",
            p.command,
            q.file.display(),
            p.command
        ),
    };
    let Some(group) = results::newest_group_where(&rfile, &path, p.name, complete) else {
        return Ok(Err(PlotError::input(format!(
            "{}: no complete {} results for {path} — {hint}",
            q.results.unwrap_or(q.file).display(),
            p.name,
        ))));
    };
    Ok(Ok(Found { file: rfile, group, source_pixels: Some(n_positions) }))
}

/// The map of one results group: peak finding's (see [`peaks_map`]) or the SHO fit's (see
/// [`super::sho`]); [`MapWhat::Auto`] takes peak finding's when there is a complete group and
/// the SHO fit's otherwise.
pub fn map_figure(q: &MapQuery<'_>) -> Result<MapFigure, PlotError> {
    use super::sho::{sho_map, SHO};
    match q.what {
        MapWhat::Peaks(of) => peaks_map(results_to_draw(q, &PEAKS)??, of, q.steps),
        MapWhat::Sho { field, guess } => sho_map(results_to_draw(q, &SHO)??, field, guess, q.steps),
        MapWhat::Auto => match results_to_draw(q, &PEAKS)? {
            Ok(found) => peaks_map(found, MapOf::Frequency, q.steps),
            Err(none) => match results_to_draw(q, &SHO)? {
                Ok(found) => sho_map(found, None, false, q.steps),
                Err(_) => Err(PlotError::input(format!("{none} (or usid-peaks sho, for the SHO fit's map)"))),
            },
        },
    }
}

/// The map of one peak-finding group, drawn from the group alone: Peak_Count's position
/// dimensions give the grid and its spectroscopic dimensions (the source's other dims) the step
/// choice; Peak_Frequencies says the along dimension's name and units.
fn peaks_map(found: Found, of: MapOf, steps: &[(&str, usize)]) -> Result<MapFigure, PlotError> {
    if super::nsid::is_nsid_results(&found) {
        return super::nsid::peaks_map(found, of, steps);
    }
    let (file, group) = (&found.file, &found.group);
    let count = MainDataset::open(file, &found.at("Peak_Count"))?;
    let freqs = MainDataset::open(file, &found.at("Peak_Frequencies"))?;
    found.check_pixels(count.n_positions)?;
    let (column, label) = chosen_column(&count, &freqs.quantity, steps)?;
    let read = |name: &str| -> Result<ndarray::Array2<f64>, PlotError> {
        let d = file.dataset(&found.at(name)).and_then(|d| d.read_2d::<f64>());
        d.map_err(|e| {
            let e = crate::error::one_line(e);
            PlotError::input(format!("{}: {}: {e}", file.filename(), found.at(name)))
        })
    };
    let per_pixel = count.n_bins.max(1);
    // The first peak of the chosen spectrum: its column, the peak slot varying fastest.
    let first = |name: &str| read(name).map(|a| a.column(column * (a.ncols() / per_pixel)).to_vec());
    let along = freqs.quantity.clone();
    let (values, value_name, value_units, what) = match of {
        MapOf::Frequency => {
            let name = format!("first peak's {along}");
            (first("Peak_Frequencies")?, name.clone(), freqs.units.clone(), name)
        }
        MapOf::Index => {
            let v = first("Peak_Indices")?.into_iter().map(|i| if i < 0.0 { f64::NAN } else { i }).collect();
            (v, "first peak's bin index".into(), String::new(), "first peak's bin".into())
        }
        MapOf::Count => {
            let v = read("Peak_Count")?
                .column(column)
                .iter()
                .map(|&c| if c == 0.0 { f64::NAN } else { c })
                .collect();
            (v, "number of peaks".into(), String::new(), "peak count".into())
        }
    };
    let mut figure = grid_figure(&count, values)?;
    figure.title =
        format!("{}: {what}{label} ({})", base_name(&group.source_dataset), base_name(&group.path));
    figure.value_name = value_name;
    figure.value_units = value_units;
    figure.integers = of != MapOf::Frequency;
    Ok(figure)
}

/// Which column of a results dataset (which spectrum of each pixel) the `steps` choose, and its
/// label for the title (`, DC_Offset=-2.5 V`; empty with one spectrum per pixel). The results'
/// spectroscopic dims are the source's other dims, or a one-bin placeholder axis (`Count` of
/// Peak_Count, pyUSID's `Single_Step` of the SHO fit).
pub(super) fn chosen_column(
    count: &MainDataset,
    along: &str,
    steps: &[(&str, usize)],
) -> Result<(usize, String), PlotError> {
    let per_pixel = count.n_bins.max(1);
    let placeholder = |d: &crate::usid::Dim| d.size == 1 && (d.name == "Count" || d.name == "Single_Step");
    let others: Vec<(String, usize)> = if count.spectroscopic_dims.iter().any(placeholder) {
        Vec::new()
    } else {
        count.spectroscopic_dims.iter().map(|d| (d.name.clone(), d.size)).collect()
    };
    let wanted = resolve_steps(steps, &others, along)?;
    let idx = count.spectroscopic_indices()?;
    let vals = count.spectroscopic_values()?;
    let column = (0..per_pixel)
        .find(|&c| wanted.iter().enumerate().all(|(d, w)| w.is_none_or(|w| idx[[d, c]] == w as f64)))
        .unwrap_or(0);
    if others.is_empty() {
        return Ok((column, String::new()));
    }
    let parts: Vec<String> = count
        .spectroscopic_dims
        .iter()
        .enumerate()
        .map(|(d, dim)| {
            let v = vals[[d, column]] as f32;
            if dim.units.is_empty() {
                format!("{}={v}", dim.name)
            } else {
                format!("{}={v} {}", dim.name, dim.units)
            }
        })
        .collect();
    Ok((column, format!(", {}", parts.join(", "))))
}

/// A map of `values` (one per pixel of `main`) over its 1-D or 2-D position grid; the title and
/// the values' name and units are the caller's to fill in.
pub(super) fn grid_figure(main: &MainDataset, values: Vec<f64>) -> Result<MapFigure, PlotError> {
    let dims = &main.position_dims;
    if dims.is_empty() || dims.len() > 2 {
        return Err(PlotError::usage(format!(
            "plot --map draws 1-D or 2-D position grids; {} has {} position dimensions",
            main.path,
            dims.len()
        )));
    }
    let pos = main.position_values()?;
    if pos.nrows() != main.n_positions || pos.ncols() != dims.len() {
        return Err(PlotError::input(format!(
            "{}: Position_Values does not match {} pixels",
            main.path, main.n_positions
        )));
    }
    let fast = main.fastest_position_dim()?;
    let slow = 1 - fast;
    let nx = dims[fast].size.max(1);
    let ny = if dims.len() == 2 { dims[slow].size.max(1) } else { 1 };
    if nx * ny != main.n_positions {
        return Err(PlotError::input(format!(
            "{}: the position grid {ny} x {nx} does not match {} pixels",
            main.path, main.n_positions
        )));
    }
    let x: Vec<f64> = (0..nx).map(|c| pos[[c, fast]]).collect();
    let (y, y_name, y_units) = if dims.len() == 2 {
        ((0..ny).map(|r| pos[[r * nx, slow]]).collect(), dims[slow].name.clone(), dims[slow].units.clone())
    } else {
        (vec![0.0], String::new(), String::new())
    };
    Ok(MapFigure {
        title: String::new(),
        x,
        y,
        x_name: dims[fast].name.clone(),
        x_units: dims[fast].units.clone(),
        y_name,
        y_units,
        values,
        value_name: String::new(),
        value_units: String::new(),
        missing_meaning: "no peak, e.g. a dead pixel".into(),
        integers: false,
    })
}
