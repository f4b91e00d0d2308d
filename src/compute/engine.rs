//! [`run`]: the corridor from the input file to the results group, one step one function — the
//! input (file → validated dataset → spectra, [`Input`]) → the analysis → the start (rank 0 takes
//! the lock, reuses a complete group or resumes a checkpoint, [`start()`]) → the plan (rows per
//! rank, batches from `--max-mem`) → the batches (read, compute, gather, checkpoint,
//! [`Batches`]) → rank 0's write → the summary.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::analysis::{Analysis, RowItems};
use super::batches::{Batches, Waits};
use super::collect::{assemble, Collected, Collector};
use super::input::Input;
use super::mapper::RowMapper;
use super::messages::share_verdict;
use super::output::{self, RunInfo};
use super::plan::{batch_rows_for, Plan, RowSet};
use super::pool::{thread_pool, Binding, Pool};
use super::progress::{Progress, ProgressMode};
use super::signals::SignalScope;
use super::start::{start, Started, Target};
use super::world::{default_threads, Patience, World};
use super::ComputeError;
use crate::usid::SpectraLayout;

/// What to run: the input, where results go, and the resources to use.
#[derive(Debug, Clone)]
pub struct Job {
    /// The HDF5 file with the main dataset.
    pub input: PathBuf,
    /// The main dataset's path; `None`: the file's only main dataset.
    pub dataset: Option<String>,
    /// Write the results group into this file instead of beside the dataset in `input`.
    pub output: Option<PathBuf>,
    /// rayon threads per rank; `None`: `SLURM_CPUS_PER_TASK` or `OMP_NUM_THREADS` when set, else
    /// the node's cores shared among its ranks.
    pub threads: Option<usize>,
    /// Memory bound per rank for a batch of rows in flight, in MiB.
    pub max_mem_mb: u64,
    /// Compute a new group even if a complete one with the same parameters exists.
    pub force: bool,
    /// Progress reporting on rank 0.
    pub progress: ProgressMode,
    /// The spectroscopic dimension a spectrum runs along, by name; `None`: the fastest-varying.
    pub along: Option<String>,
    /// Whether the threads are bound to CPUs ([`Binding::Auto`]: when there is one per CPU).
    pub bind_threads: Binding,
    /// How long a rank waits on a silent peer before it ends the job (exit 7, progress kept):
    /// a batch's exchange is allowed the larger of this and ten times the slowest batch so far;
    /// a wait on rank 0's work alone (the start, the final write) ten times this.
    /// [`DEFAULT_RANK_TIMEOUT_S`] by default.
    pub rank_timeout: Duration,
}

/// `--rank-timeout`'s default, in seconds: far beyond a healthy batch's exchange (which waits only
/// for the slowest rank's share of one batch), well inside a batch system's patience.
pub const DEFAULT_RANK_TIMEOUT_S: f64 = 30.0;

/// How many times `--rank-timeout` the other ranks wait for rank 0's work alone (its start-up
/// with a checkpoint to load, its final write), and the batch exchange for the slowest batch.
pub(crate) const PATIENCE_FACTOR: u32 = 10;

impl Job {
    /// The patience of a wait on rank 0's work alone; `resume` ends the line if the job ends.
    pub(crate) fn solo_patience<'a>(&self, resume: &'a str) -> Patience<'a> {
        Patience::quiet(self.rank_timeout * PATIENCE_FACTOR, self.rank_timeout, resume)
    }
}

/// What a run did, as rank 0 reports it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// The file that holds the results group.
    pub file: String,
    /// The results group's path in `file`.
    pub group: String,
    /// The main dataset the results belong to.
    pub dataset: String,
    /// Pixels (rows) of the dataset.
    pub pixels: u64,
    /// The spectroscopic dimension the spectra run along.
    pub along: String,
    /// Spectra per pixel (the product of the other spectroscopic dimensions' sizes).
    pub spectra_per_pixel: u64,
    /// Items (e.g. peaks) found over all spectra (the `--json` field keeps the name users know).
    #[serde(rename = "peaks")]
    pub items: u64,
    /// Pixels computed by this run (fewer than `pixels` when resuming; 0 when reusing).
    pub computed: u64,
    /// Pixels taken from an interrupted run's checkpoint.
    pub resumed: u64,
    /// Whether an existing complete group was reused.
    pub reused: bool,
    pub ranks: usize,
    /// Distinct hosts among the ranks (by hostname).
    pub nodes: usize,
    pub threads: usize,
    /// Whether each thread ran on one CPU of its own ([`Binding`]; false when nothing was computed).
    pub threads_bound: bool,
    /// From the start of the process to the end of the run.
    pub seconds_total: f64,
    /// Reading and computing the rows (excludes start-up and the final write).
    pub seconds_compute: f64,
    /// Of `seconds_compute`, rank 0's time waiting for its rows from the file: the first batch's
    /// read, then the part of each read that outlasts the computation it overlaps (batch i+1 is
    /// read while batch i is computed). A compressed dataset's chunks are decoded on the pool,
    /// so their decoding counts here.
    pub seconds_read: f64,
    /// Of `seconds_compute`, rank 0's time gathering results and appending them to the checkpoint
    /// (including waiting for slower ranks) while its pool has nothing to compute: the gather of a
    /// batch runs while the next one is computed, and only the part that outlasts that
    /// computation (and the last batch's gather) is counted.
    pub seconds_gather: f64,
    /// Writing the results group.
    pub seconds_write: f64,
    /// Spectra computed per second: `computed × spectra_per_pixel / seconds_compute`.
    pub spectra_per_s: f64,
}

/// Run an analysis over every position (pixel) of a dataset on every rank of `world`, and write
/// its results group (rank 0). `make_analysis` builds the analysis once the spectra are known
/// (their length, the values along them, the other dimensions). `started` is when the process
/// started, for `seconds_total`. SIGINT, SIGTERM and SIGUSR1 stop the run after its batch (the
/// handlers are the run's own: what was in place before is back when it returns).
///
/// Every rank returns the same `Ok`/`Err` class, so a job's ranks exit alike.
pub fn run<A, F>(
    world: &World,
    job: &Job,
    started: Instant,
    make_analysis: F,
) -> Result<Summary, ComputeError>
where
    A: Analysis,
    F: FnOnce(&SpectraLayout) -> Result<A, ComputeError>,
{
    run_with(world, job, started, make_analysis, Tuning::default()).map(|(summary, _)| summary)
}

/// What [`run_with`] may be told beyond a [`Job`], to test the engine.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Tuning {
    /// Pixels per batch instead of what `--max-mem` gives.
    pub batch_rows: Option<u64>,
}

/// A run's summary, and on rank 0 every spectrum's items when it computed them.
pub(crate) type Outcome<T> = (Summary, Option<RowItems<T>>);

/// [`run`], also returning (on rank 0, when the run computed) every spectrum's items as written.
pub(crate) fn run_with<A, F>(
    world: &World,
    job: &Job,
    started: Instant,
    make_analysis: F,
    tuning: Tuning,
) -> Result<Outcome<A::Item>, ComputeError>
where
    A: Analysis,
    F: FnOnce(&SpectraLayout) -> Result<A, ComputeError>,
{
    // First of all: a SIGTERM during start-up (a batch system's time limit, a scancel) must stop
    // the run as cleanly as one during the computation, not kill it with the default action.
    let signals = SignalScope::install()?;
    run_body(world, job, started, signals.stop(), make_analysis, tuning)
}

/// [`run`] for a host that owns the process's signals (the Python module, whose interpreter's
/// SIGINT handler raises `KeyboardInterrupt`): installs no signal handler, and stops after the
/// current batch, everything finished checkpointed, once `interrupted` is set (from any thread) —
/// returning [`ComputeError::Interrupted`], as [`run`] does on SIGINT.
pub fn run_until<A, F>(
    world: &World,
    job: &Job,
    started: Instant,
    interrupted: &AtomicBool,
    make_analysis: F,
) -> Result<Summary, ComputeError>
where
    A: Analysis,
    F: FnOnce(&SpectraLayout) -> Result<A, ComputeError>,
{
    run_body(world, job, started, interrupted, make_analysis, Tuning::default()).map(|(summary, _)| summary)
}

/// The corridor itself, stopping once `interrupted` is set: [`run_with`] and [`run_until`] differ
/// only in who sets it.
fn run_body<A, F>(
    world: &World,
    job: &Job,
    started: Instant,
    interrupted: &AtomicBool,
    make_analysis: F,
    tuning: Tuning,
) -> Result<Outcome<A::Item>, ComputeError>
where
    A: Analysis,
    F: FnOnce(&SpectraLayout) -> Result<A, ComputeError>,
{
    let mut input = Input::open(job)?;
    if A::COMPLEX_ONLY && !input.dtype().starts_with("complex") {
        return Err(ComputeError::Input(crate::usid::UsidError(format!(
            "{}: {} holds {} values; the analysis takes complex spectra only",
            input.path().display(),
            input.dataset(),
            input.dtype(),
        ))));
    }
    let analysis = make_analysis(&input.layout)?;
    let threads = job.threads.unwrap_or_else(|| default_threads(world.node_ranks())).max(1);
    let target = Target::new(job, &input, &analysis)?;
    let base = Summary::base(world, &input, &target, threads);
    let (todo, lock, loaded) = match start(world, job, &target, &input, &analysis)? {
        Started::Reuse { group, lock } => {
            let items =
                if world.is_root() { output::items_in(&analysis, &target.paths.target, &group) } else { 0 };
            drop(lock);
            let summary = Summary { group, items, reused: true, ..base };
            return Ok((summary.ended(started), None));
        }
        Started::Compute { todo, lock, loaded } => (todo, lock, loaded),
    };
    let per_pixel = input.layout.per_pixel();
    let mut collector =
        Collector::new(world, &target.checkpoint, &target.resume, &target.fingerprint, loaded, per_pixel)?;
    let pool = thread_pool(threads, job.bind_threads, world.node_ranks()).map_err(ComputeError::Launch)?;
    let t_compute = Instant::now();
    let (stopped, waits) =
        compute(world, job, &mut input, &analysis, &pool, &todo, &mut collector, interrupted, tuning)?;
    let seconds_compute = t_compute.elapsed().as_secs_f64();
    if stopped {
        return Err(ComputeError::Interrupted(format!(
            "interrupted; progress is saved in {} — run the same command again to resume",
            target.checkpoint.display()
        )));
    }
    let collected = collector.finish();
    let computed = if world.is_root() { collected.computed } else { 0 };
    let t_write = Instant::now();
    let (written, all_items) = write(world, &input, &analysis, &target, collected, threads);
    drop(lock);
    let (group, items) = share_verdict(world, written, &job.solo_patience(&target.resume))?;
    let summary = Summary {
        group,
        items,
        computed,
        resumed: input.n_positions() - todo.len(),
        threads_bound: pool.bound(),
        seconds_compute,
        seconds_read: waits.seconds_read,
        seconds_gather: waits.seconds_gather,
        seconds_write: t_write.elapsed().as_secs_f64(),
        spectra_per_s: if seconds_compute > 0.0 {
            (computed * per_pixel as u64) as f64 / seconds_compute
        } else {
            0.0
        },
        ..base
    };
    Ok((summary.ended(started), all_items))
}

/// The compute phase: this rank's share of `todo` planned into batches (of `--max-mem`'s size,
/// or `tuning`'s), read through this rank's reader, computed on `pool` and gathered through
/// `collector`, with progress on rank 0. Returns whether the run was asked to stop, and rank 0's
/// waits.
#[allow(clippy::too_many_arguments)] // the corridor's state, each piece made by its own step
fn compute<A: Analysis>(
    world: &World,
    job: &Job,
    input: &mut Input,
    analysis: &A,
    pool: &Pool,
    todo: &RowSet,
    collector: &mut Collector<'_, A::Item>,
    interrupted: &AtomicBool,
    tuning: Tuning,
) -> Result<(bool, Waits), ComputeError> {
    let threads = pool.current_num_threads();
    let batch_rows = tuning.batch_rows.unwrap_or_else(|| {
        batch_rows_for(job.max_mem_mb.saturating_mul(1 << 20), input.bytes_in_flight_per_position(), threads)
    });
    let plan = Plan::new(todo, world.size(), world.rank(), batch_rows);
    let per_pixel = input.layout.per_pixel();
    let reader = input.open_reader(world)?;
    let progress = Progress::start(
        if world.is_root() { job.progress.clone() } else { ProgressMode::Quiet },
        todo.len() * per_pixel as u64,
        world.size(),
    );
    let mapper = RowMapper::new(analysis, threads);
    let batches = Batches {
        world,
        pool,
        mapper: &mapper,
        reader: &reader,
        per_pixel,
        progress: &progress,
        interrupted,
        rank_timeout: job.rank_timeout,
    };
    let outcome = batches.run(&plan, collector);
    progress.finish();
    outcome
}

/// Rank 0's verdict on the write (the group and its item count, or the error), and on rank 0
/// every spectrum's items once written.
type Written<T> = (Result<(String, u64), ComputeError>, Option<RowItems<T>>);

/// Rank 0 writes the results group from every batch collected, and removes the checkpoint once it
/// is written; the other ranks wait for its verdict (shared by the caller) so the whole job exits
/// alike. Returns the group and the items written, and on rank 0 every spectrum's items.
fn write<A: Analysis>(
    world: &World,
    input: &Input,
    analysis: &A,
    target: &Target,
    collected: Collected<A::Item>,
    threads: usize,
) -> Written<A::Item> {
    if !world.is_root() {
        return (Ok((String::new(), 0)), None);
    }
    let info = RunInfo { fingerprint: &target.fingerprint, ranks: world.size(), threads };
    let results = assemble(&collected.pieces, input.n_positions() as usize, input.layout.per_pixel());
    let written = results.and_then(|res| {
        let group = output::write_results(analysis, &res, input, &target.paths, &info)?;
        Ok((group, res))
    });
    match written {
        Ok((group, res)) => {
            if let Some(ck) = collected.checkpoint {
                let _ = ck.remove();
            }
            let n = res.items.len() as u64;
            (Ok((group, n)), Some(res))
        }
        Err(e) => (Err(e), None),
    }
}

impl Summary {
    /// The summary of a run of `input` into `target` before it has done anything: no group, no
    /// items, no time.
    fn base(world: &World, input: &Input, target: &Target, threads: usize) -> Summary {
        Summary {
            file: target.paths.target.display().to_string(),
            group: String::new(),
            dataset: input.dataset().to_string(),
            pixels: input.n_positions(),
            along: input.layout.along_dim.name.clone(),
            spectra_per_pixel: input.layout.per_pixel() as u64,
            items: 0,
            computed: 0,
            resumed: 0,
            reused: false,
            ranks: world.size(),
            nodes: world.nodes(),
            threads,
            threads_bound: false,
            seconds_total: 0.0,
            seconds_compute: 0.0,
            seconds_read: 0.0,
            seconds_gather: 0.0,
            seconds_write: 0.0,
            spectra_per_s: 0.0,
        }
    }

    /// This summary at the end of the run, for a process that started at `started`.
    fn ended(self, started: Instant) -> Summary {
        Summary { seconds_total: started.elapsed().as_secs_f64(), ..self }
    }
}
