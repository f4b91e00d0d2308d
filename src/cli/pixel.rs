//! `usid-peaks pixel`: the peaks of one pixel's spectrum — the seed's "try the function on one
//! spectrum first" step.

use std::path::PathBuf;

use usid_peaks::peaks::PeakFinding;
use usid_peaks::usid::{self, MainDataset, SpectraBlock, SpectraLayout};

use super::params::{AlongArg, CwtArgs};
use super::CliError;

/// The file, its main dataset and one pixel, as `pixel` and `plot` take them.
#[derive(clap::Args, Debug)]
pub struct PixelTarget {
    /// The HDF5 file.
    pub file: PathBuf,
    /// The main dataset [default: the file's only main dataset].
    pub dataset: Option<String>,
    /// The pixel as ROW,COL on the position grid (index = COL + ROW * number of columns, the
    /// columns being the position dimension that varies fastest, e.g. X).
    #[arg(long, value_name = "ROW,COL")]
    pub pixel: Option<String>,
    /// The pixel as its row index in the main dataset.
    #[arg(long, value_name = "N")]
    pub index: Option<usize>,
    #[command(flatten)]
    pub along: AlongArg,
    /// With several spectroscopic dimensions: only the spectra at this step of another
    /// dimension, as DIM=STEP (the step's index, from 0), e.g. DC_Offset=3. Repeatable.
    #[arg(long, value_name = "DIM=STEP")]
    pub step: Vec<String>,
}

/// `--step DIM=STEP` options resolved against the dimensions a choice is among (`dims`: name and
/// size of each, `along`: what the spectra run along, for the message): the wanted step of each
/// dimension, `None` where no `--step` names it.
pub fn resolve_steps(
    steps: &[String],
    dims: &[(String, usize)],
    along: &str,
) -> Result<Vec<Option<usize>>, CliError> {
    let mut wanted: Vec<Option<usize>> = vec![None; dims.len()];
    for s in steps {
        let (name, step) = s
            .split_once('=')
            .and_then(|(n, i)| Some((n.trim(), i.trim().parse::<usize>().ok()?)))
            .ok_or_else(|| CliError::usage(format!("--step {s:?}: expected DIM=STEP, like DC_Offset=3")))?;
        let Some(d) = dims.iter().position(|(n, _)| n == name) else {
            let names: Vec<&str> = dims.iter().map(|(n, _)| n.as_str()).collect();
            return Err(CliError::usage(format!(
                "--step {s}: the spectra run along {along}; the other spectroscopic dimensions are: {}",
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            )));
        };
        let size = dims[d].1;
        if step >= size {
            return Err(CliError::usage(format!("--step {s}: {name} has {size} steps (0 to {})", size - 1)));
        }
        wanted[d] = Some(step);
    }
    Ok(wanted)
}

/// The spectra of a pixel that `--step DIM=STEP` (every one given) selects, in order; all of
/// them without `--step`.
pub fn select_spectra(layout: &SpectraLayout, steps: &[String]) -> Result<Vec<usize>, CliError> {
    let dims: Vec<(String, usize)> = layout.others.iter().map(|d| (d.name.clone(), d.values.len())).collect();
    let wanted = resolve_steps(steps, &dims, &layout.along_dim.name)?;
    Ok((0..layout.per_pixel())
        .filter(|&sp| layout.steps_of(sp).iter().zip(&wanted).all(|(i, w)| w.is_none_or(|w| w == *i)))
        .collect())
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["pixel", "index"])))]
pub struct Args {
    #[command(flatten)]
    pub target: PixelTarget,
    #[command(flatten)]
    pub cwt: CwtArgs,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// A pixel chosen on the command line, resolved against a dataset's position grid.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct PixelRef {
    pub index: usize,
    pub row: usize,
    pub col: usize,
}

/// Turn `--pixel ROW,COL` or `--index N` into a row of `main`, checking it exists.
pub fn resolve(main: &MainDataset, pixel: Option<&str>, index: Option<usize>) -> Result<PixelRef, CliError> {
    let fast = main.fastest_position_dim()?;
    let n_cols = main.position_dims.get(fast).map(|d| d.size).unwrap_or(1).max(1);
    let r = match (pixel, index) {
        (Some(p), _) => {
            let (row, col) = p
                .split_once(',')
                .and_then(|(r, c)| Some((r.trim().parse::<usize>().ok()?, c.trim().parse::<usize>().ok()?)))
                .ok_or_else(|| CliError::usage(format!("--pixel {p:?}: expected ROW,COL, like 103,19")))?;
            if col >= n_cols {
                return Err(CliError::usage(format!(
                    "--pixel {p}: column {col} is outside the grid ({n_cols} columns along {})",
                    main.position_dims
                        .get(fast)
                        .map(|d| d.name.as_str())
                        .unwrap_or("the fastest position dimension")
                )));
            }
            PixelRef { index: col + row * n_cols, row, col }
        }
        (None, Some(i)) => PixelRef { index: i, row: i / n_cols, col: i % n_cols },
        (None, None) => return Err(CliError::usage("give --pixel ROW,COL or --index N")),
    };
    if r.index >= main.n_positions {
        return Err(CliError::usage(format!(
            "pixel ({}, {}) = index {} is outside {} ({} positions)",
            r.row, r.col, r.index, main.path, main.n_positions
        )));
    }
    Ok(r)
}

/// Open `file` and its main dataset (the only one when `dataset` is `None`).
pub fn open_main(
    file: &std::path::Path,
    dataset: Option<&str>,
) -> Result<(hdf5::File, MainDataset), CliError> {
    let f = usid::open_file(file)?;
    let path = match dataset {
        Some(p) => p.to_string(),
        None => usid::select::only_source_dataset(&f, file)
            .map_err(|e| CliError::new(e.class(), e.to_string()))?,
    };
    let main = MainDataset::open(&f, &path)?;
    Ok((f, main))
}

/// The spectra of pixel `index` of `main`.
pub fn read_pixel(
    main: &MainDataset,
    layout: &SpectraLayout,
    index: usize,
) -> Result<SpectraBlock, CliError> {
    Ok(layout.read_range(main.dataset(), main.dtype, index..index + 1)?)
}

/// One spectrum's peaks, for `--json`.
#[derive(serde::Serialize)]
struct SpectrumPeaks {
    /// The other spectroscopic dimensions' values, e.g. `DC_Offset=-2.5 V` (empty with one).
    label: String,
    /// The spectrum's index among the pixel's spectra.
    spectrum: usize,
    peaks: Vec<u32>,
    values: Vec<f64>,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let params = args.cwt.params()?;
    let t = &args.target;
    let (_file, main) = open_main(&t.file, t.dataset.as_deref())?;
    let pixel = resolve(&main, t.pixel.as_deref(), t.index)?;
    let layout = t.along.layout(&main)?;
    let chosen = select_spectra(&layout, &t.step)?;
    let finder = PeakFinding::new(&layout, params, args.cwt.component)?;
    let block = read_pixel(&main, &layout, pixel.index)?;
    let found: Vec<SpectrumPeaks> = chosen
        .iter()
        .map(|&s| {
            let peaks = finder.find_one(block.spectrum(s));
            let values =
                peaks.iter().map(|&p| finder.axis().get(p as usize).copied().unwrap_or(f64::NAN)).collect();
            SpectrumPeaks { label: layout.label(s), spectrum: s, peaks, values }
        })
        .collect();
    let (axis, units) = finder.axis_label();
    if args.json {
        // One spectrum per pixel keeps the flat form; several give one entry each.
        let mut j = serde_json::json!({
            "file": t.file.display().to_string(), "dataset": main.path,
            "index": pixel.index, "row": pixel.row, "col": pixel.col,
            "axis": axis, "units": units,
        });
        match found.as_slice() {
            [one] if layout.per_pixel() == 1 => {
                j["peaks"] = serde_json::json!(one.peaks);
                j["values"] = serde_json::json!(one.values);
            }
            _ => j["spectra"] = serde_json::json!(found),
        }
        return super::print_stdout(&format!("{j}\n"));
    }
    super::print_stdout(&listing(&main.path, &pixel, &layout, &found, axis, units))
}

/// The human-readable listing of a pixel's peaks.
fn listing(
    path: &str,
    pixel: &PixelRef,
    layout: &SpectraLayout,
    found: &[SpectrumPeaks],
    axis: &str,
    units: &str,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "{path}  pixel (row {}, col {}) = index {}", pixel.row, pixel.col, pixel.index);
    if layout.per_pixel() > 1 {
        let _ = writeln!(
            out,
            "{} spectra along {} ({units}); bins: peaks = {axis} values",
            layout.per_pixel(),
            axis
        );
        for f in found {
            let bins: Vec<String> = f.peaks.iter().map(|p| p.to_string()).collect();
            let values: Vec<String> = f.values.iter().map(|v| v.to_string()).collect();
            let _ = match f.peaks.len() {
                0 => writeln!(out, "{}: no peaks", f.label),
                _ => writeln!(out, "{}: bins {} = {}", f.label, bins.join(", "), values.join(", ")),
            };
        }
        return out;
    }
    let peaks = found.first().map(|f| (f.peaks.as_slice(), f.values.as_slice())).unwrap_or_default();
    if peaks.0.is_empty() {
        out.push_str("no peaks\n");
        return out;
    }
    let _ = writeln!(out, "{:>6}  {} ({units})", "bin", axis);
    for (p, v) in peaks.0.iter().zip(peaks.1) {
        let _ = writeln!(out, "{p:>6}  {v}");
    }
    out
}
