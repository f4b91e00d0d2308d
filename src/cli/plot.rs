//! `usid-peaks plot`: look at the data and the results without Python — one pixel's spectrum
//! with its peaks (`--pixel`), or the newest results over the position grid (`--map`).

use std::path::{Path, PathBuf};

use usid_peaks::plot::{self, PlotError};

use super::params::CwtArgs;
use super::pixel::PixelTarget;
use super::CliError;

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

impl From<MapOf> for plot::MapOf {
    fn from(of: MapOf) -> Self {
        match of {
            MapOf::Frequency => plot::MapOf::Frequency,
            MapOf::Index => plot::MapOf::Index,
            MapOf::Count => plot::MapOf::Count,
        }
    }
}

pub fn run(args: Args) -> Result<(), CliError> {
    let size = parse_size(&args.size)?;
    let t = &args.target;
    let steps = t.steps()?;
    if args.map {
        let query = plot::MapQuery {
            file: &t.file,
            dataset: t.dataset.as_deref(),
            results: args.results.as_deref(),
            of: args.of.into(),
            steps: &steps,
        };
        save(&plot::map_figure(&query).map_err(plot_error)?, &args.output, size)
    } else {
        let params = args.cwt.params()?;
        let figure = plot::spectrum_figure(&t.query(&steps)?, params).map_err(plot_error)?;
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
