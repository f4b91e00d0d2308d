//! [`run`]: the corridor from the input file to the results group, one step one function — the
//! input (file → validated dataset → spectra, [`Input`]) → the analysis → the start (rank 0 takes
//! the lock, reuses a complete group or resumes a checkpoint, [`start()`]) → the plan (rows per
//! rank, batches from `--max-mem`) → the batches (read, compute, gather, checkpoint,
//! [`Batches`]) → rank 0's write → the summary.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::analysis::{Analysis, RowItems};
use super::batches::{Batches, Waits};
use super::checkpoint::{Checkpoint, Loaded};
use super::collect::{assemble, read_back, Collector};
use super::input::Input;
use super::mapper::RowMapper;
use super::messages::share_verdict;
use super::output::{self, Format, RunInfo};
use super::plan::{batch_rows_for, Plan, RowSet};
use super::pool::{thread_pool, Binding, Pool};
use super::progress::{Progress, ProgressMode};
use super::signals::SignalScope;
use super::start::{start, Started, Target};
use super::stream::{self, StreamPlan, Streamed};
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
    /// Rank 0's results write after the last batch: with results written as they are gathered,
    /// the writer's last batches, its finish, the flush, sync and rename; else the whole write.
    pub seconds_write: f64,
    /// Rank 0's results writer's time writing batches during the run, overlapped with the
    /// computation (0 when results are written at the end).
    pub seconds_writer: f64,
    /// The longest of those writes (one batch's): the longest rank 0's reads can wait behind it
    /// for HDF5's library-wide lock.
    pub seconds_writer_longest: f64,
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
    /// Hand every spectrum's items back (read from the checkpoint before it is removed).
    pub keep_items: bool,
}

/// A run's summary, and on rank 0 every spectrum's items when it computed them and was asked to.
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
    let (input_path, dataset) = (input.path().to_owned(), input.dataset().to_owned());
    let info = RunInfo { fingerprint: &target.fingerprint, ranks: world.size(), threads };
    let format = Format::of(&input);
    let places = (input_path.as_path(), dataset.as_str(), &format);
    let (plan, mode) = write_plan(&input, places, &analysis, &target, info, loaded.as_ref());
    let pool = thread_pool(threads, job.bind_threads, world.node_ranks()).map_err(ComputeError::Launch)?;
    let during = world.is_root() && mode == WriteMode::During;
    let Phase { computed, seconds_compute, n_computed, checkpoint, streamed, t_write } = compute_and_stream(
        world,
        job,
        &mut input,
        &analysis,
        &pool,
        &todo,
        (loaded.as_ref(), &plan, during),
        interrupted,
        tuning,
    )?;
    let (stopped, waits) = computed?;
    if stopped {
        return Err(ComputeError::Interrupted(format!(
            "interrupted; progress is saved in {} — run the same command again to resume",
            target.checkpoint.display()
        )));
    }
    let computed = if world.is_root() { n_computed } else { 0 };
    let keep = tuning.keep_items;
    let ending = Ending { input: &input, target: &target, plan: &plan, mode, checkpoint, streamed, keep };
    let (written, all_items) = write(world, &analysis, ending);
    drop(lock);
    let (busy, longest) = written.as_ref().map_or((0.0, 0.0), |w| (w.seconds_busy, w.seconds_longest));
    let (group, items) =
        share_verdict(world, written.map(|w| (w.group, w.items)), &job.solo_patience(&target.resume))?;
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
        seconds_writer: if mode == WriteMode::During { busy } else { 0.0 },
        seconds_writer_longest: if mode == WriteMode::During { longest } else { 0.0 },
        spectra_per_s: if seconds_compute > 0.0 {
            (computed * per_pixel as u64) as f64 / seconds_compute
        } else {
            0.0
        },
        ..base
    };
    Ok((summary.ended(started), all_items))
}

/// Where and how rank 0 writes the results: written as gathered when the analysis streams the
/// source's format (every NSID writer does) into another file; in place, the staged copy is the
/// input's, made once the input is read (see [`WriteMode`]). The input's path, dataset and
/// format are the input's own, owned for the writer.
fn write_plan<'a, A: Analysis>(
    input: &Input,
    (input_path, dataset, format): (&'a std::path::Path, &'a str, &'a Format),
    analysis: &A,
    target: &'a Target,
    info: RunInfo<'a>,
    loaded: Option<&Loaded>,
) -> (StreamPlan<'a>, WriteMode) {
    let in_place = crate::usid::write::same_path(input_path, &target.paths.target);
    let plan = StreamPlan {
        input: input_path,
        dataset,
        in_place,
        format,
        paths: &target.paths,
        info,
        n_pixels: input.n_positions(),
        per_pixel: input.layout.per_pixel(),
        checkpoint: &target.checkpoint,
        resume: &target.resume,
        replay: loaded.map_or(0, |l| l.valid_len),
    };
    let streams = match format {
        Format::Usid => analysis.streams(),
        Format::Nsid { .. } => analysis.writes_nsid(),
    };
    let mode = match (streams, in_place) {
        (true, false) => WriteMode::During,
        (true, true) => WriteMode::AtEnd,
        (false, _) => WriteMode::Whole,
    };
    (plan, mode)
}

/// What the compute phase left on this rank: its outcome, its seconds, the pixels it computed
/// (rank 0), the checkpoint, the writer's outcome (when one ran) and when the computation ended.
struct Phase {
    computed: Result<(bool, Waits), ComputeError>,
    seconds_compute: f64,
    n_computed: u64,
    checkpoint: Option<Checkpoint>,
    streamed: Option<Result<Streamed, ComputeError>>,
    t_write: Instant,
}

/// [`compute`], with rank 0's results writer running beside it when `during`: the collector (which
/// opens the checkpoint, continuing after `loaded`) hands it every gathered batch, and the
/// writer is finished (the run complete) or told to give up (stopped, failed) at the end.
#[allow(clippy::too_many_arguments)] // the corridor's state, each piece made by its own step
fn compute_and_stream<A: Analysis>(
    world: &World,
    job: &Job,
    input: &mut Input,
    analysis: &A,
    pool: &Pool,
    todo: &RowSet,
    (loaded, plan, during): (Option<&Loaded>, &StreamPlan<'_>, bool),
    interrupted: &AtomicBool,
    tuning: Tuning,
) -> Result<Phase, ComputeError> {
    let failed = OnceLock::new();
    let mut collector =
        Collector::new(world, plan.checkpoint, plan.resume, plan.info.fingerprint, loaded, plan.per_pixel)?;
    let t_compute = Instant::now();
    std::thread::scope(|scope| {
        let writer = if during {
            let (sink, handle) = stream::spawn(scope, analysis, plan, &failed)?;
            collector.sink = Some(sink);
            Some(handle)
        } else {
            None
        };
        let computed = compute(world, job, input, analysis, pool, todo, &mut collector, interrupted, tuning);
        let seconds_compute = t_compute.elapsed().as_secs_f64();
        let collected = collector.finish();
        let t_write = Instant::now();
        let streamed = finish_writer(writer, collected.sink, matches!(computed, Ok((false, _))));
        Ok(Phase {
            computed,
            seconds_compute,
            n_computed: collected.computed,
            checkpoint: collected.checkpoint,
            streamed,
            t_write,
        })
    })
}

/// How rank 0 writes a run's results group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteMode {
    /// Batch by batch as they are gathered, on a writer thread ([`stream`]): O(batch) memory.
    During,
    /// Batch by batch from the checkpoint after the last batch, on this thread: an in-place run,
    /// whose staged copy is a copy of the input — made at the end, as before streaming, rather
    /// than at the start, where a long copy would hold up the first batches (and every rank
    /// waiting on them). O(batch) memory; the copy and the write stay a serial tail.
    AtEnd,
    /// Whole, every spectrum's items assembled from the checkpoint (a USID source's analysis
    /// that does not stream): O(spectra) memory at the end.
    Whole,
}

/// Send the writer the finish (when the run `complete`d) and wait for it; without a finish it
/// removes its staged copy. `None` when no writer ran.
fn finish_writer<T>(
    writer: Option<stream::WriterThread<'_>>,
    sink: Option<stream::Sink<'_, T>>,
    complete: bool,
) -> Option<Result<Streamed, ComputeError>> {
    let handle = writer?;
    let sent = match sink {
        Some(sink) if complete => sink.finish(),
        // Dropped, so that the writer learns there is no finish coming (and is not waited for
        // forever).
        other => {
            drop(other);
            Ok(())
        }
    };
    let joined =
        handle.join().unwrap_or_else(|_| Err(ComputeError::Internal("the results writer panicked".into())));
    Some(sent.and(joined))
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
    collector: &mut Collector<'_, '_, A::Item>,
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

/// What rank 0 needs to end a run: where the results go, how, and what the run collected.
struct Ending<'a> {
    input: &'a Input,
    target: &'a Target,
    plan: &'a StreamPlan<'a>,
    mode: WriteMode,
    checkpoint: Option<Checkpoint>,
    /// The writer thread's outcome ([`WriteMode::During`]).
    streamed: Option<Result<Streamed, ComputeError>>,
    /// Read every spectrum's items back for the caller ([`Tuning::keep_items`]).
    keep: bool,
}

/// Rank 0's verdict on the write (the group and its items, or the error), and on rank 0 every
/// spectrum's items when asked for.
type Written<T> = (Result<Streamed, ComputeError>, Option<RowItems<T>>);

/// Rank 0 ends the results group's write (the writer's, or one at the end, streamed from the
/// checkpoint or whole), and removes the checkpoint once it is written; the other ranks wait for
/// its verdict (shared by the caller) so the whole job exits alike.
fn write<A: Analysis>(world: &World, analysis: &A, end: Ending<'_>) -> Written<A::Item> {
    if !world.is_root() {
        return (Ok(Streamed::default()), None);
    }
    let (n_pixels, per_pixel) = (end.plan.n_pixels, end.plan.per_pixel);
    let read_all = || {
        let batches = read_back::<A::Item>(&end.target.checkpoint, &end.target.fingerprint, n_pixels)?;
        assemble(&batches, n_pixels as usize, per_pixel)
    };
    let written = match (end.mode, end.streamed) {
        (_, Some(streamed)) => streamed,
        (WriteMode::Whole, None) => read_all().and_then(|res| {
            let group = output::write_results(analysis, &res, end.input, &end.target.paths, &end.plan.info)?;
            Ok(Streamed { group, items: res.items.len() as u64, ..Streamed::default() })
        }),
        (_, None) => stream::write_at_end(analysis, end.plan),
    };
    let all_items = match (&written, end.keep) {
        (Ok(_), true) => read_all().ok(),
        _ => None,
    };
    if written.is_ok() {
        if let Some(ck) = end.checkpoint {
            let _ = ck.remove();
        }
    }
    (written, all_items)
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
            seconds_writer: 0.0,
            seconds_writer_longest: 0.0,
            spectra_per_s: 0.0,
        }
    }

    /// This summary at the end of the run, for a process that started at `started`.
    fn ended(self, started: Instant) -> Summary {
        Summary { seconds_total: started.elapsed().as_secs_f64(), ..self }
    }
}
