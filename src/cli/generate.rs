//! `usid-peaks generate`: write the synthetic Band Excitation PFM map.
use usid_peaks::usid::generate::{self, GenerateParams, RAW_DATA_PATH};

use super::{CliError, Exit};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The HDF5 file to write (replaced if it exists).
    pub file: std::path::PathBuf,
    /// Scan lines (the Y dimension).
    #[arg(long, default_value_t = GenerateParams::default().rows)]
    pub rows: usize,
    /// Pixels per line (the X dimension, varying fastest).
    #[arg(long, default_value_t = GenerateParams::default().cols)]
    pub cols: usize,
    /// Frequency bins per spectrum (320-380 kHz).
    #[arg(long, default_value_t = GenerateParams::default().bins)]
    pub bins: usize,
    /// Seed of the noise and of the dead pixels; the same seed gives the same data.
    #[arg(long, default_value_t = GenerateParams::default().seed)]
    pub seed: u64,
    /// A BEPS-like map: 16 DC bias steps (DC_Offset, -10 to +10 V) after the frequency sweep.
    #[arg(long, conflicts_with = "spec_dims")]
    pub beps: bool,
    /// The spectroscopic dimensions, fastest first: Frequency:BINS[,DC_Offset:STEPS], e.g.
    /// Frequency:119,DC_Offset:16.
    #[arg(long, value_name = "DIMS", conflicts_with = "bins")]
    pub spec_dims: Option<String>,
}

/// DC steps of `--beps`: as many as a typical BEPS sweep has.
const BEPS_DC_STEPS: usize = 16;

/// `Frequency:119,DC_Offset:16` → (119, 16).
fn parse_spec_dims(s: &str) -> Result<(usize, usize), CliError> {
    let bad = || {
        CliError::usage(format!(
            "--spec-dims {s:?}: expected Frequency:BINS or Frequency:BINS,DC_Offset:STEPS (fastest first), like Frequency:119,DC_Offset:16"
        ))
    };
    let mut dims = s.split(',').map(|d| d.trim().split_once(':'));
    let size = |d: Option<Option<(&str, &str)>>, name: &str| -> Result<Option<usize>, CliError> {
        match d {
            None => Ok(None),
            Some(Some((n, v))) if n.trim() == name => match v.trim().parse::<usize>() {
                Ok(size) if size >= 1 => Ok(Some(size)),
                _ => Err(bad()),
            },
            Some(_) => Err(bad()),
        }
    };
    let bins = size(dims.next(), "Frequency")?.ok_or_else(bad)?;
    let steps = size(dims.next(), "DC_Offset")?.unwrap_or(1);
    if dims.next().is_some() {
        return Err(bad());
    }
    Ok((bins, steps))
}

pub fn run(args: Args) -> Result<(), CliError> {
    let (bins, dc_steps) = match &args.spec_dims {
        Some(d) => parse_spec_dims(d)?,
        None => (args.bins, if args.beps { BEPS_DC_STEPS } else { 1 }),
    };
    let params = GenerateParams { rows: args.rows, cols: args.cols, bins, seed: args.seed, dc_steps };
    generate::validate(&params).map_err(|e| CliError::usage(e.0))?;
    let s = generate::generate(&args.file, &params).map_err(|e| CliError::new(Exit::Output, e.0))?;
    usid_peaks::say!(
        "wrote {}:{RAW_DATA_PATH}: {} x {} pixels x {} bins{}, complex64, {:.1} MiB, {} dead pixels, in {:.2} s",
        s.path.display(),
        params.rows,
        params.cols,
        s.n_bins,
        if dc_steps > 1 { format!(" ({bins} Frequency x {dc_steps} DC_Offset)") } else { String::new() },
        s.data_bytes as f64 / (1u64 << 20) as f64,
        s.dead_pixels.len(),
        s.seconds
    );
    Ok(())
}
