//! `usid-peaks sho`: the SHO fit of every spectrum, all cores, all MPI ranks, one results group as
//! BGlib writes it (`<DSET>-SHO_Fit_NNN` with `Guess` and `Fit`).

use std::time::Instant;

use usid_peaks::sho::{ShoFit, ShoParams};

use super::find::{run_analysis, InputArgs, RunArgs};
use super::params::ParamArgs;
use super::CliError;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub sho: ParamArgs<ShoParams>,
    #[command(flatten)]
    pub run: RunArgs,
}

pub fn run(args: Args, started: Instant) -> Result<(), CliError> {
    let params = args.sho.params()?;
    let fitted =
        |s: &usid_peaks::compute::Summary| format!("{} spectra fitted", s.pixels * s.spectra_per_pixel);
    run_analysis(&args.input, &args.run, started, fitted, |layout| ShoFit::new(layout, params))
}
