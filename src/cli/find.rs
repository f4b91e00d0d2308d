//! `usid-peaks find`: every pixel, all cores, all MPI ranks, one USID results group; and the run
//! options and summary every such command shares (`sho`).

use std::path::PathBuf;
use std::time::Instant;

use usid_peaks::compute::{self, Analysis, ComputeError, Job, ProgressMode, Summary, World};
use usid_peaks::peaks::PeakFinding;
use usid_peaks::usid::SpectraLayout;

use super::params::{AlongArg, BindArg, CwtArgs};
use super::CliError;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub cwt: CwtArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

/// What a run over every pixel reads: the options `find` and `sho` share.
#[derive(clap::Args, Debug)]
pub struct InputArgs {
    /// The HDF5 file.
    pub file: PathBuf,
    /// The main dataset [default: the file's only main dataset].
    pub dataset: Option<String>,
    #[command(flatten)]
    pub along: AlongArg,
}

/// How a run over every pixel goes and where its results go: the options `find` and `sho` share.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Write the results group into this file (created if missing) instead of into FILE.
    #[arg(short, long, value_name = "OUT.h5")]
    pub output: Option<PathBuf>,
    /// Threads per rank [default: SLURM_CPUS_PER_TASK, OMP_NUM_THREADS, or cores / ranks on the node].
    #[arg(long)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub bind: BindArg,
    /// Memory bound per rank for the rows in flight, in MiB.
    #[arg(long, value_name = "MB", default_value_t = 1024)]
    pub max_mem: u64,
    /// Seconds a rank waits on a silent one (a host or link lost) before it ends the job with
    /// exit 7, progress kept; a batch's exchange waits at least ten times the slowest batch so far.
    #[arg(long, value_name = "SECONDS", default_value_t = compute::DEFAULT_RANK_TIMEOUT_S)]
    pub rank_timeout: f64,
    /// Compute a new results group even if a complete one with the same parameters exists.
    #[arg(long)]
    pub force: bool,
    /// No progress and no summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, started: Instant) -> Result<(), CliError> {
    let params = args.cwt.params()?;
    run_analysis(
        &args.input,
        &args.run,
        started,
        |s| format!("{} peaks", s.items),
        |layout| PeakFinding::new(layout, params),
    )
}

/// Run the analysis `make` builds over every pixel of `input` as `run` says; rank 0 reports the
/// summary, with `found` saying what the items are (`12 peaks`).
pub fn run_analysis<A, F>(
    input: &InputArgs,
    run: &RunArgs,
    started: Instant,
    found: fn(&Summary) -> String,
    make: F,
) -> Result<(), CliError>
where
    A: Analysis,
    F: FnOnce(&SpectraLayout) -> Result<A, ComputeError>,
{
    if run.threads == Some(0) {
        return Err(CliError::usage("--threads must be at least 1"));
    }
    if run.max_mem == 0 {
        return Err(CliError::usage("--max-mem must be at least 1 MB"));
    }
    if !(run.rank_timeout.is_finite() && run.rank_timeout > 0.0 && run.rank_timeout < 1e9) {
        return Err(CliError::usage("--rank-timeout must be a positive number of seconds"));
    }
    let world = World::init()?;
    let job = Job {
        input: input.file.clone(),
        dataset: input.dataset.clone(),
        output: run.output.clone(),
        threads: run.threads,
        max_mem_mb: run.max_mem,
        force: run.force,
        progress: if run.quiet || !world.is_root() { ProgressMode::Quiet } else { ProgressMode::Auto },
        along: input.along.along.clone(),
        bind_threads: run.bind.bind_threads,
        rank_timeout: std::time::Duration::from_secs_f64(run.rank_timeout),
    };
    let result = compute::run(&world, &job, started, make);
    // Every rank gets the same result; only rank 0 speaks.
    let summary = match result {
        Ok(s) => s,
        Err(e) if world.is_root() => return Err(e.into()),
        Err(e) => return Err(CliError::silent(CliError::from(e).exit)),
    };
    if world.is_root() {
        report(&summary, run, found)?;
    }
    Ok(())
}

fn report(s: &Summary, args: &RunArgs, found: fn(&Summary) -> String) -> Result<(), CliError> {
    if args.json {
        match serde_json::to_string(s) {
            Ok(j) => super::print_stdout(&format!("{j}\n"))?,
            Err(e) => usid_peaks::say!("usid-peaks: cannot format the summary: {e}"),
        }
    }
    if args.quiet {
        return Ok(());
    }
    if s.reused {
        usid_peaks::say!(
            "usid-peaks: {}:{} already holds these results (same parameters, complete); reusing it — --force computes a new group",
            s.file, s.group
        );
        return Ok(());
    }
    let resumed =
        if s.resumed > 0 { format!(", {} resumed from a checkpoint", s.resumed) } else { String::new() };
    // With several spectroscopic dimensions, say which one the spectra ran along.
    let spectra = if s.spectra_per_pixel > 1 {
        format!(" x {} spectra along {}", s.spectra_per_pixel, s.along)
    } else {
        String::new()
    };
    usid_peaks::say!(
        "usid-peaks: {} pixels{spectra}, {} in {:.2} s (compute {:.2} s, {:.0} spectra/s, {} rank{} on {} node{} x {} thread{}{resumed}) -> {}:{}",
        s.pixels,
        found(s),
        s.seconds_total,
        s.seconds_compute,
        s.spectra_per_s,
        s.ranks,
        if s.ranks == 1 { "" } else { "s" },
        s.nodes,
        if s.nodes == 1 { "" } else { "s" },
        s.threads,
        if s.threads == 1 { "" } else { "s" },
        s.file,
        s.group
    );
    Ok(())
}
