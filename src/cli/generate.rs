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
}

pub fn run(args: Args) -> Result<(), CliError> {
    let params = GenerateParams { rows: args.rows, cols: args.cols, bins: args.bins, seed: args.seed };
    generate::validate(&params).map_err(|e| CliError::usage(e.0))?;
    let s = generate::generate(&args.file, &params).map_err(|e| CliError::new(Exit::Output, e.0))?;
    usid_peaks::say!(
        "wrote {}:{RAW_DATA_PATH}: {} x {} pixels x {} bins, complex64, {:.1} MiB, {} dead pixels, in {:.2} s",
        s.path.display(),
        params.rows,
        params.cols,
        s.n_bins,
        s.data_bytes as f64 / (1u64 << 20) as f64,
        s.dead_pixels.len(),
        s.seconds
    );
    Ok(())
}
