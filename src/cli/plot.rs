//! `usid-peaks plot`: look at the data and the results without Python — one pixel's spectrum
//! with its peaks (`--pixel`), or the newest results over the position grid (`--map`).

use std::path::{Path, PathBuf};

use usid_peaks::peaks::{Component, PeakFinding};
use usid_peaks::plot::{self, MapFigure, PlotError, SpectrumFigure};
use usid_peaks::usid::results::{self, ResultsGroup};
use usid_peaks::usid::{self, MainDataset};

use super::params::CwtArgs;
use super::pixel::{open_main, read_pixel, resolve, resolve_steps, select_spectra, PixelTarget};
use super::{CliError, Exit};

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["pixel", "index", "map"])))]
pub struct Args {
    /// The file, the dataset, and with --pixel/--index the pixel whose spectrum and peaks to draw.
    #[command(flatten)]
    pub target: PixelTarget,
    /// Draw the newest complete results of `usid-peaks find` over the position grid. FILE may be
    /// the source map or a file `find -o` wrote.
    #[arg(long)]
    pub map: bool,
    /// With --map: the results are in this file (what `find -o FILE` wrote), FILE is the source.
    #[arg(long, value_name = "RESULTS.h5", requires = "map")]
    pub results: Option<PathBuf>,
    /// With --map: what each pixel shows — its first peak's frequency (spectroscopic value) or
    /// bin index, or its number of peaks.
    #[arg(long, value_enum, default_value = "frequency", requires = "map")]
    pub of: MapOf,
    /// The picture to write: SVG when the name ends in .svg, PNG otherwise.
    #[arg(short, long, value_name = "OUT.png")]
    pub output: PathBuf,
    /// Picture size in pixels.
    #[arg(long, value_name = "WxH", default_value = "1000x750")]
    pub size: String,
    #[command(flatten)]
    pub cwt: CwtArgs,
}

/// What `--map` shows per pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MapOf {
    /// The first peak's spectroscopic value (e.g. frequency).
    Frequency,
    /// The first peak's bin index.
    Index,
    /// The number of peaks.
    Count,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let size = parse_size(&args.size)?;
    if args.map {
        let figure = map_figure(&args)?;
        save(&figure, &args.output, size)
    } else {
        let (_file, main) = open_main(&args.target.file, args.target.dataset.as_deref())?;
        let figure = spectrum_figure(&args, &main)?;
        save(&figure, &args.output, size)
    }
}

fn save<F: plot::Figure>(figure: &F, out: &Path, size: plot::Size) -> Result<(), CliError> {
    plot::save(figure, out, size).map_err(plot_error)?;
    usid_peaks::say!("wrote {}", out.display());
    Ok(())
}

/// A drawing error, with the class it carries.
pub(crate) fn plot_error(e: PlotError) -> CliError {
    CliError::new(e.class, e.message)
}

/// `WxH` → (W, H).
pub(crate) fn parse_size(s: &str) -> Result<plot::Size, CliError> {
    s.split_once(['x', 'X'])
        .and_then(|(w, h)| Some((w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?)))
        .filter(|&(w, h)| w >= plot::MIN_SIZE.0 && h >= plot::MIN_SIZE.1 && w <= 16384 && h <= 16384)
        .ok_or_else(|| {
            CliError::usage(format!(
                "--size {s:?}: expected WIDTHxHEIGHT in pixels, from {}x{} to 16384x16384, like 1000x750",
                plot::MIN_SIZE.0,
                plot::MIN_SIZE.1
            ))
        })
}

/// `|quantity|`, `Re quantity`, … and its units: the y axis of a spectrum.
fn component_label(main: &MainDataset, c: Component) -> (String, String) {
    let q = if main.quantity.is_empty() { "value" } else { main.quantity.as_str() };
    match c {
        Component::Abs => (format!("|{q}|"), main.units.clone()),
        Component::Real => (format!("Re {q}"), main.units.clone()),
        Component::Imag => (format!("Im {q}"), main.units.clone()),
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

fn spectrum_figure(args: &Args, main: &MainDataset) -> Result<SpectrumFigure, CliError> {
    let params = args.cwt.params()?;
    let pixel = resolve(main, args.target.pixel.as_deref(), args.target.index)?;
    let layout = args.target.along.layout(main)?;
    // One spectrum per picture: the first that --step selects.
    let spectrum = select_spectra(&layout, &args.target.step)?.first().copied().unwrap_or(0);
    let finder = PeakFinding::new(&layout, params, args.cwt.component)?;
    let block = read_pixel(main, &layout, pixel.index)?;
    let peaks = finder.find_one(block.spectrum(spectrum));
    let mut y = Vec::new();
    finder.component_values(block.spectrum(spectrum), &mut y);
    let x = finder.axis().to_vec();
    let (name, units) = finder.axis_label();

    // The title gives the frequencies in the same prefixed units as the axis.
    let scale =
        plot::si_scale(units, x.iter().fold(0f64, |m, v| if v.is_finite() { m.max(v.abs()) } else { m }));
    let bins: Vec<String> = peaks.iter().map(|p| p.to_string()).collect();
    let values: Vec<String> = peaks
        .iter()
        .map(|&p| x.get(p as usize).map_or("?".into(), |v| format!("{:.2}", v * scale.factor)))
        .map(|s| trim_zeros(&s))
        .collect();
    let subtitle = match peaks.len() {
        0 => "no peaks found".to_string(),
        n => format!(
            "{n} peak{}: bin{} {} = {} {}",
            if n == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" },
            short_list(&bins, 8),
            short_list(&values, 8),
            scale.units
        ),
    };
    let (y_name, y_units) = component_label(main, args.cwt.component);
    Ok(SpectrumFigure {
        title: format!(
            "{}  pixel (row {}, col {}) = index {}{}",
            dataset_name(&main.path),
            pixel.row,
            pixel.col,
            pixel.index,
            step_suffix(&layout, spectrum)
        ),
        subtitle,
        x,
        x_name: name.to_string(),
        x_units: units.to_string(),
        y,
        y_name,
        y_units,
        peaks: peaks.iter().map(|&p| p as usize).collect(),
    })
}

/// `, DC_Offset=-2.5 V` for a spectrum among several of a pixel; nothing with one.
fn step_suffix(layout: &usid_peaks::usid::SpectraLayout, spectrum: usize) -> String {
    if layout.per_pixel() > 1 {
        format!(", {}", layout.label(spectrum))
    } else {
        String::new()
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

fn dataset_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The newest complete peak-finding group to draw, and the file it is in: beside the source
/// dataset of FILE (in FILE, or in `--results`), or — when FILE holds no source dataset, as a
/// file `find -o` wrote — the newest complete one in FILE.
fn results_to_draw(args: &Args) -> Result<(hdf5::File, ResultsGroup, Option<usize>), CliError> {
    let t = &args.target;
    let file = usid::open_file(&t.file)?;
    let has_source = t.dataset.is_some()
        || usid::find_main_datasets(&file)?.iter().any(|p| !usid::select::is_in_results_group(p));
    let (rfile, rpath, group, pixels) = if has_source {
        let (_f, main) = open_main(&t.file, t.dataset.as_deref())?;
        let rpath = args.results.clone().unwrap_or_else(|| t.file.clone());
        let rfile = if args.results.is_some() { usid::open_file(&rpath)? } else { file };
        let hint = match &args.results {
            Some(r) => format!("run usid-peaks find {} -o {} first", t.file.display(), r.display()),
            None => format!(
                "run usid-peaks find {} first (or give --results with the file find -o wrote)",
                t.file.display()
            ),
        };
        let Some(group) = results::newest_group_where(&rfile, &main.path, PROCESS, |g| g.complete) else {
            return Err(CliError::new(
                Exit::Input,
                format!("{}: no complete results for {} — {hint}", rpath.display(), main.path),
            ));
        };
        (rfile, rpath, Some(group), Some(main.n_positions))
    } else {
        let tag = format!("-{PROCESS}_");
        let group = results::all_groups(&file)
            .into_iter()
            .rev()
            .filter(|g| g.path.rsplit('/').next().is_some_and(|n| n.contains(&tag)))
            .find(|g| g.complete);
        (file, t.file.clone(), group, None)
    };
    let group = group.ok_or_else(|| {
        CliError::new(
            Exit::Input,
            format!(
                "{}: has no USID source dataset and no complete results of usid-peaks find",
                rpath.display()
            ),
        )
    })?;
    Ok((rfile, group, pixels))
}

/// The name of the process whose groups `plot --map` draws.
const PROCESS: &str = PeakFinding::NAME;

/// The map of one results group, drawn from the group alone: Peak_Count's position dimensions
/// give the grid and its spectroscopic dimensions (the source's other dims) the `--step` choice;
/// Peak_Frequencies says the along dimension's name and units.
fn map_figure(args: &Args) -> Result<MapFigure, CliError> {
    let (file, group, source_pixels) = results_to_draw(args)?;
    let group_path = group.path.clone();
    let shown = file.filename();
    let input = |what: &str, e: &dyn std::fmt::Display| {
        CliError::new(
            Exit::Input,
            format!("{shown}: {group_path}/{what}: {}", usid_peaks::error::one_line(e)),
        )
    };
    let count = MainDataset::open(&file, &format!("{group_path}/Peak_Count"))?;
    let freqs = MainDataset::open(&file, &format!("{group_path}/Peak_Frequencies"))?;
    if let Some(n) = source_pixels.filter(|&n| n != count.n_positions) {
        return Err(CliError::new(
            Exit::Input,
            format!(
                "{shown}: {group_path} has {} pixels but the source dataset has {n}; are these its results?",
                count.n_positions
            ),
        ));
    }
    // Which column of Peak_Count: its spectroscopic dims are the source's other dims (or a
    // one-bin `Count` axis with a single spectroscopic dimension).
    let per_pixel = count.n_bins.max(1);
    let others: Vec<(String, usize)> = if count.spectroscopic_dims.iter().any(|d| d.name == "Count") {
        Vec::new()
    } else {
        count.spectroscopic_dims.iter().map(|d| (d.name.clone(), d.size)).collect()
    };
    let wanted = resolve_steps(&args.target.step, &others, &freqs.quantity)?;
    let idx = count.spectroscopic_indices()?;
    let vals = count.spectroscopic_values()?;
    let column = (0..per_pixel)
        .find(|&c| wanted.iter().enumerate().all(|(d, w)| w.is_none_or(|w| idx[[d, c]] == w as f64)))
        .unwrap_or(0);
    let label = if others.is_empty() {
        String::new()
    } else {
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
        format!(", {}", parts.join(", "))
    };
    let counts: Vec<u32> =
        count.dataset().read_2d::<u32>().map_err(|e| input("Peak_Count", &e))?.column(column).to_vec();
    // The first peak of the chosen spectrum: its column, the peak slot varying fastest.
    let first_column = |name: &str| -> Result<Vec<f64>, CliError> {
        let d = file.group(&group_path).and_then(|g| g.dataset(name)).map_err(|e| input(name, &e))?;
        let a = d.read_2d::<f64>().map_err(|e| input(name, &e))?;
        let width = a.ncols() / per_pixel;
        Ok(a.column(column * width).to_vec())
    };
    let along = freqs.quantity.clone();
    let (values, value_name, value_units): (Vec<f64>, String, String) = match args.of {
        MapOf::Frequency => {
            (first_column("Peak_Frequencies")?, format!("first peak's {along}"), freqs.units.clone())
        }
        MapOf::Index => (
            first_column("Peak_Indices")?.into_iter().map(|i| if i < 0.0 { f64::NAN } else { i }).collect(),
            "first peak's bin index".into(),
            String::new(),
        ),
        MapOf::Count => (
            counts.iter().map(|&c| if c == 0 { f64::NAN } else { c as f64 }).collect(),
            "number of peaks".into(),
            String::new(),
        ),
    };

    let main = &count;
    let dims = &main.position_dims;
    if dims.is_empty() || dims.len() > 2 {
        return Err(CliError::usage(format!(
            "plot --map draws 1-D or 2-D position grids; {} has {} position dimensions",
            main.path,
            dims.len()
        )));
    }
    let pos = main.position_values()?;
    if pos.nrows() != main.n_positions || pos.ncols() != dims.len() {
        return Err(CliError::new(
            Exit::Input,
            format!("{}: Position_Values does not match {} pixels", main.path, main.n_positions),
        ));
    }
    let fast = main.fastest_position_dim()?;
    let slow = 1 - fast;
    let nx = dims[fast].size.max(1);
    let ny = if dims.len() == 2 { dims[slow].size.max(1) } else { 1 };
    if nx * ny != main.n_positions {
        return Err(CliError::new(
            Exit::Input,
            format!(
                "{}: the position grid {ny} x {nx} does not match {} pixels",
                main.path, main.n_positions
            ),
        ));
    }
    let x: Vec<f64> = (0..nx).map(|c| pos[[c, fast]]).collect();
    let (y, y_name, y_units) = if dims.len() == 2 {
        ((0..ny).map(|r| pos[[r * nx, slow]]).collect(), dims[slow].name.clone(), dims[slow].units.clone())
    } else {
        (vec![0.0], String::new(), String::new())
    };
    let what = match args.of {
        MapOf::Frequency => format!("first peak's {along}"),
        MapOf::Index => "first peak's bin".into(),
        MapOf::Count => "peak count".into(),
    };
    Ok(MapFigure {
        title: format!(
            "{}: {what}{label} ({})",
            dataset_name(&group.source_dataset),
            dataset_name(&group_path)
        ),
        x,
        y,
        x_name: dims[fast].name.clone(),
        x_units: dims[fast].units.clone(),
        y_name,
        y_units,
        values,
        value_name,
        value_units,
        missing_meaning: "no peak, e.g. a dead pixel".into(),
        integers: args.of != MapOf::Frequency,
    })
}
