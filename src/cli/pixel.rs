//! `usid-peaks pixel`: the peaks of one pixel's spectrum — the seed's "try the function on one
//! spectrum first" step.

use std::path::PathBuf;

use usid_peaks::peaks::{pixel_peaks, PixelPeaks, PixelQuery};
use usid_peaks::usid::select::PixelChoice;

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

impl PixelTarget {
    /// `--pixel ROW,COL` or `--index N`.
    pub fn choice(&self) -> Result<PixelChoice, CliError> {
        match (&self.pixel, self.index) {
            (Some(p), _) => p
                .split_once(',')
                .and_then(|(r, c)| Some((r.trim().parse::<usize>().ok()?, c.trim().parse::<usize>().ok()?)))
                .map(|(row, col)| PixelChoice::Grid { row, col })
                .ok_or_else(|| CliError::usage(format!("--pixel {p:?}: expected ROW,COL, like 103,19"))),
            (None, Some(i)) => Ok(PixelChoice::Index(i)),
            (None, None) => Err(CliError::usage("give --pixel ROW,COL or --index N")),
        }
    }

    /// `--step DIM=STEP` options as (dimension, step).
    pub fn steps(&self) -> Result<Vec<(&str, usize)>, CliError> {
        parse_steps(&self.step)
    }

    /// The library's question: this file, dataset, pixel and `--along`, and `steps` (from
    /// [`Self::steps`]).
    pub fn query<'a>(&'a self, steps: &'a [(&'a str, usize)]) -> Result<PixelQuery<'a>, CliError> {
        Ok(PixelQuery {
            file: &self.file,
            dataset: self.dataset.as_deref(),
            pixel: self.choice()?,
            along: self.along.along.as_deref(),
            steps,
        })
    }
}

/// `DIM=STEP` options (`--step`) as (dimension, step).
pub fn parse_steps(steps: &[String]) -> Result<Vec<(&str, usize)>, CliError> {
    steps
        .iter()
        .map(|s| {
            s.split_once('=')
                .and_then(|(n, i)| Some((n.trim(), i.trim().parse::<usize>().ok()?)))
                .ok_or_else(|| CliError::usage(format!("--step {s:?}: expected DIM=STEP, like DC_Offset=3")))
        })
        .collect()
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

pub fn run(args: Args) -> Result<(), CliError> {
    let params = args.cwt.params()?;
    let t = &args.target;
    let steps = t.steps()?;
    let found = pixel_peaks(&t.query(&steps)?, params)?;
    if args.json {
        return super::print_stdout(&format!("{}\n", found.to_json(&t.file.display().to_string())));
    }
    super::print_stdout(&listing(&found))
}

/// The human-readable listing of a pixel's peaks.
fn listing(found: &PixelPeaks) -> String {
    use std::fmt::Write as _;
    let (p, axis, units) = (&found.pixel, &found.axis, &found.units);
    let mut out = String::new();
    let _ = writeln!(out, "{}  pixel (row {}, col {}) = index {}", found.dataset, p.row, p.col, p.index);
    if found.per_pixel > 1 {
        let _ =
            writeln!(out, "{} spectra along {axis} ({units}); bins: peaks = {axis} values", found.per_pixel);
        for f in &found.spectra {
            let bins: Vec<String> = f.peaks.iter().map(|p| p.to_string()).collect();
            let values: Vec<String> = f.values.iter().map(|v| v.to_string()).collect();
            let _ = match f.peaks.len() {
                0 => writeln!(out, "{}: no peaks", f.label),
                _ => writeln!(out, "{}: bins {} = {}", f.label, bins.join(", "), values.join(", ")),
            };
        }
        return out;
    }
    let peaks = found.spectra.first().map(|f| (f.peaks.as_slice(), f.values.as_slice())).unwrap_or_default();
    if peaks.0.is_empty() {
        out.push_str("no peaks\n");
        return out;
    }
    let _ = writeln!(out, "{:>6}  {axis} ({units})", "bin");
    for (p, v) in peaks.0.iter().zip(peaks.1) {
        let _ = writeln!(out, "{p:>6}  {v}");
    }
    out
}
