//! `usid-peaks plot`: look at the data and the results without Python — one pixel's spectrum
//! with its peaks (`--pixel`) or its SHO fit (`--pixel --sho`), or the newest results over the
//! position grid (`--map`: peak finding's, or a field of the SHO fit's with `--field`).

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
    /// Draw the newest complete results over the position grid: of `usid-peaks find` (when
    /// there are some) or of `usid-peaks sho`. FILE may be the source map or a file `find -o`
    /// or `sho -o` wrote.
    #[arg(long)]
    pub map: bool,
    /// The results are in this file (what `find -o FILE` or `sho -o FILE` wrote), FILE is the
    /// source.
    #[arg(long, value_name = "RESULTS.h5")]
    pub results: Option<PathBuf>,
    /// With --map, of peak finding: what each pixel shows — its first peak's frequency
    /// (spectroscopic value) or bin index, or its number of peaks [default: frequency].
    #[arg(long, value_enum, requires = "map", conflicts_with_all = ["sho", "field", "guess"])]
    pub of: Option<MapOf>,
    /// Draw the SHO fit (`usid-peaks sho`): with --map one field of its records, with --pixel
    /// the measured spectrum and the fitted model curve.
    #[arg(long)]
    pub sho: bool,
    /// With --map: the SHO records' field to show, by its name before the unit — Amplitude,
    /// Frequency, Quality Factor, Phase or R2 Criterion [default: Frequency].
    #[arg(long, value_name = "NAME", requires = "map")]
    pub field: Option<String>,
    /// With --map: the SHO fit's `Guess` records instead of its `Fit`.
    #[arg(long, requires = "map")]
    pub guess: bool,
    /// With --pixel --sho: the panels — amplitude and phase, or real and imaginary part.
    #[arg(long, value_enum, default_value = "amp-phase", requires = "sho")]
    pub parts: PartsArg,
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

/// The panels of `--pixel --sho`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PartsArg {
    /// |r| and its phase.
    AmpPhase,
    /// Re r and Im r.
    ReIm,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let size = parse_size(&args.size)?;
    let t = &args.target;
    let steps = t.steps()?;
    if args.map {
        let sho = args.sho || args.field.is_some() || args.guess;
        let what = match (sho, args.of) {
            (true, _) => plot::MapWhat::Sho { field: args.field.as_deref(), guess: args.guess },
            (false, Some(of)) => plot::MapWhat::Peaks(of.into()),
            (false, None) => plot::MapWhat::Auto,
        };
        let query = plot::MapQuery {
            file: &t.file,
            dataset: t.dataset.as_deref(),
            results: args.results.as_deref(),
            what,
            steps: &steps,
        };
        let figure = plot::map_figure(&query).map_err(plot_error)?;
        // The field nobody asked for is said, with how to choose another.
        let default = plot::DEFAULT_SHO_FIELD.split(" [").next().unwrap_or_default();
        let shows = |records: &str| figure.value_name == format!("{records} {default}");
        if args.field.is_none() && (shows("Fit") || shows("Guess")) {
            usid_peaks::say!("drawing {} (--field picks another)", figure.value_name);
        }
        save(&figure, &args.output, size)
    } else if args.sho {
        let parts = match args.parts {
            PartsArg::AmpPhase => plot::Parts::AmplitudePhase,
            PartsArg::ReIm => plot::Parts::RealImaginary,
        };
        let query = plot::ShoPixelQuery { pixel: t.query(&steps)?, results: args.results.as_deref(), parts };
        save(&plot::sho_spectrum_figure(&query).map_err(plot_error)?, &args.output, size)
    } else {
        if args.results.is_some() {
            return Err(CliError::usage(
                "--results: a pixel's peaks are found in the source; give --map or --sho",
            ));
        }
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
