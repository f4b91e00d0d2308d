//! [`run`]: the corridor from the input file to the results group.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use super::analysis::{Analysis, RowItems, Rows};
use super::checkpoint::{Batch, Checkpoint, Loaded};
use super::messages::{share_decision, share_verdict, Start, StartDecision};
use super::output::{self, RunInfo, TargetPaths};
use super::plan::{batch_rows_for, Plan, RowSet};
use super::pool::{thread_pool, Binding};
use super::progress::{Progress, ProgressMode};
use super::reader::{open_reader, read_block};
use super::signals::install_signal_flag;
use super::world::{default_threads, World};
use super::ComputeError;
use crate::usid::{self, MainDataset, SpectraBlock, SpectraLayout, SpectraReader};

/// What to run: the input, where results go, and the resources to use.
#[derive(Debug, Clone)]
pub struct Job {
    /// The HDF5 file with the main dataset.
    pub input: PathBuf,
    /// The main dataset's path; `None`: the file's only main dataset.
    pub dataset: Option<String>,
    /// Write the results group into this file instead of beside the dataset in `input`.
    pub output: Option<PathBuf>,
    /// rayon threads per rank; `None`: [`default_threads`].
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

/// Rows per rayon task for short rows: enough for the analysis to batch its work (the CWT kernel
/// turns a block into matrix products), few enough to balance the threads.
const ROWS_PER_TASK: usize = 128;

/// Samples per rayon task: long rows get fewer rows per task, so that a batch of a few long
/// spectra (128 × 1 024 samples) still splits over every thread. 128 rows of 128 samples.
const SAMPLES_PER_TASK: usize = 128 * 128;

/// Tasks per thread at least, where a batch has the rows for it: the threads finish within
/// about one task of each other, so a late-waking thread or one slow task costs a few percent of
/// a short batch, not a quarter of it.
const TASKS_PER_THREAD: usize = 8;

/// Rows per rayon task for `n` rows of `n_bins` samples on `threads` threads: [`ROWS_PER_TASK`]
/// up to 128 samples, then fewer, down to one row per task from 16 384 samples; and fewer still
/// when that would leave a thread less than [`TASKS_PER_THREAD`] tasks.
fn rows_per_task(n: usize, n_bins: usize, threads: usize) -> usize {
    let by_length = (SAMPLES_PER_TASK / n_bins.max(1)).clamp(1, ROWS_PER_TASK);
    by_length.min(n.div_ceil(threads.max(1) * TASKS_PER_THREAD)).max(1)
}

/// Run `analysis` over every row of a main dataset on every rank of `world`, and write its results
/// group (rank 0). `make_analysis` builds the analysis once the dataset and its spectra are known
/// (their length, the values along them, the other spectroscopic dimensions). `started` is when the process started, for `seconds_total`.
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
    F: FnOnce(&MainDataset, &SpectraLayout) -> Result<A, ComputeError>,
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
    F: FnOnce(&MainDataset, &SpectraLayout) -> Result<A, ComputeError>,
{
    // First of all: a SIGTERM during start-up (a batch system's time limit, a scancel) must stop
    // the run as cleanly as one during the computation, not kill it with the default action.
    let interrupted = install_signal_flag();
    run_body(world, job, started, &interrupted, make_analysis, tuning)
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
    F: FnOnce(&MainDataset, &SpectraLayout) -> Result<A, ComputeError>,
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
    F: FnOnce(&MainDataset, &SpectraLayout) -> Result<A, ComputeError>,
{
    output::check_not_open_for_writing(&job.input)?;
    let input_file = usid::open_file(&job.input)?;
    let dset_path = match &job.dataset {
        Some(p) => p.clone(),
        None => only_main_dataset(&input_file, &job.input)?,
    };
    let main = MainDataset::open(&input_file, &dset_path)?;
    let dset_path = main.path.clone();
    if main.n_positions == 0 || main.n_bins == 0 {
        // Valid USID, but no spectrum to analyse: say so now rather than fail in the writer, which
        // cannot make an empty results dataset.
        return Err(ComputeError::Input(usid::UsidError(format!(
            "{}: {dset_path} has shape ({}, {}): no {} to analyse",
            job.input.display(),
            main.n_positions,
            main.n_bins,
            if main.n_positions == 0 { "pixels" } else { "spectral bins" }
        ))));
    }
    let layout = SpectraLayout::named(&main, job.along.as_deref())?.map_err(ComputeError::Usage)?;
    let per_pixel = layout.per_pixel();
    let analysis = make_analysis(&main, &layout)?;
    let threads = job.threads.unwrap_or_else(|| default_threads(world.node_ranks())).max(1);
    let n_rows = main.n_positions as u64;
    let fingerprint = fingerprint(&main, &layout, &analysis)?;
    let paths = TargetPaths::new(job.output.as_deref().unwrap_or(&job.input));
    let ck_path = paths.checkpoint(crc32fast::hash(checkpoint_key(&job.input, &fingerprint).as_bytes()));

    // Rank 0 decides (lock, reuse, resume) and tells the others; a failure it alone sees is sent
    // as the decision too, so no rank is left waiting.
    let mut lock = None;
    let decision: Result<StartDecision<A::Item>, ComputeError> = if world.is_root() {
        decide::<A>(job, &paths, &ck_path, &dset_path, &analysis, &fingerprint, n_rows).map(|(s, l, b)| {
            lock = l;
            (s, b)
        })
    } else {
        Ok((Start::Compute(RowSet::default()), None))
    };
    let (start, loaded) = share_decision(world, decision)?;
    let todo = match start {
        Start::Reuse(group) => {
            let items = if world.is_root() { output::items_in(&analysis, &paths.target, &group) } else { 0 };
            let summary = Summary {
                file: paths.target.display().to_string(),
                group,
                dataset: dset_path,
                pixels: n_rows,
                along: layout.along_dim.name.clone(),
                spectra_per_pixel: per_pixel as u64,
                items,
                computed: 0,
                resumed: 0,
                reused: true,
                ranks: world.size(),
                nodes: world.nodes(),
                threads,
                threads_bound: false,
                seconds_total: started.elapsed().as_secs_f64(),
                seconds_compute: 0.0,
                seconds_read: 0.0,
                seconds_gather: 0.0,
                seconds_write: 0.0,
                spectra_per_s: 0.0,
            };
            return Ok((summary, None));
        }
        Start::Compute(todo) => todo,
    };

    let pool = thread_pool(threads, job.bind_threads, world.node_ranks()).map_err(ComputeError::Launch)?;
    // In flight per row: the batch being computed and the next one being read, plus its items.
    let bytes_per_row = (main.n_bins * main.dtype.value_bytes() * 2 + 64) as u64;
    let batch_rows = tuning
        .batch_rows
        .unwrap_or_else(|| batch_rows_for(job.max_mem_mb.saturating_mul(1 << 20), bytes_per_row, threads));
    let plan = Plan::new(&todo, world.size(), world.rank(), batch_rows);

    // Rank 0 keeps every batch (all ranks') for the final write, and appends each to the checkpoint.
    let mut checkpoint = None;
    let mut pieces: Vec<Batch<A::Item>> = Vec::new();
    let resumed_rows = n_rows - todo.len();
    if world.is_root() {
        let ck = Checkpoint::open::<A::Item>(&ck_path, &fingerprint, loaded.as_ref()).map_err(|e| {
            ComputeError::Output(format!("cannot write the checkpoint {}: {e}", ck_path.display()))
        })?;
        checkpoint = Some(ck);
        pieces = loaded.map(|l| l.batches).unwrap_or_default();
    }

    let t_compute = Instant::now();
    let reader = open_reader(world, input_file, &main, &layout, &job.input)?;
    let progress = Progress::start(
        if world.is_root() { job.progress.clone() } else { ProgressMode::Quiet },
        todo.len() * per_pixel as u64,
        world.size(),
    );
    let mut stopped = false;
    let (mut seconds_read, mut seconds_gather) = (0.0, 0.0);
    let scratches = Scratches::new(threads);
    let mut collector = Collector {
        world,
        checkpoint,
        ck_path: &ck_path,
        pieces,
        computed: 0,
        per_pixel: per_pixel as u64,
        progress: &progress,
    };
    // Batch i+1 is read while the pool computes batch i; the first one has nobody to hide behind.
    let t_first = Instant::now();
    let mut block = match plan.batches.first() {
        Some(rows) => read_block(&reader, rows, &pool).map_err(|e| fail_job(world, e))?,
        None => None,
    };
    seconds_read += t_first.elapsed().as_secs_f64();
    // Batch i-1's results are gathered, and the stop vote taken, while the pool computes batch i:
    // a rank that finishes a batch first does not wait for the others with its pool idle, and a
    // stop is agreed one batch late (that batch is gathered and checkpointed too).
    let mut pending: Option<Vec<u8>> = None;
    for (i, batch) in plan.batches.iter().enumerate() {
        let step = Step {
            pool: &pool,
            analysis: &analysis,
            scratches: &scratches,
            reader: &reader,
            layout: &layout,
            progress: &progress,
        };
        let mut stop = Ok(false);
        let mut exchanged = None;
        let meanwhile = || {
            if let Some(bytes) = pending.take() {
                let t = Instant::now();
                stop = collector.exchange(&bytes, interrupted.load(Ordering::Relaxed));
                exchanged = Some((t, Instant::now()));
            }
        };
        let (local, next, read, computed_at) = step
            .compute_and_read_next(block.take(), batch, plan.batches.get(i + 1), meanwhile)
            .map_err(|e| fail_job(world, e))?;
        let stop = stop?;
        // Rank 0 waits for the gather only where it outlasts the computation it overlaps.
        if let Some((start, end)) = exchanged {
            seconds_gather += end.saturating_duration_since(computed_at.max(start)).as_secs_f64();
        }
        block = next;
        // Likewise the read of the next batch.
        if let Some((start, end)) = read {
            seconds_read += end.saturating_duration_since(computed_at.max(start)).as_secs_f64();
        }
        pending = Some(super::checkpoint::encode_batch(batch, &local));
        if stop {
            stopped = true;
            break;
        }
    }
    // The last batch computed: the loop's end, or the batch computed while a stop was agreed.
    if let Some(bytes) = pending.take() {
        let t = Instant::now();
        stopped |= collector.exchange(&bytes, interrupted.load(Ordering::Relaxed))?;
        seconds_gather += t.elapsed().as_secs_f64();
    }
    let Collector { checkpoint, pieces, computed: computed_global, .. } = collector;
    let mut checkpoint = checkpoint;
    progress.finish();
    drop(reader);
    let seconds_compute = t_compute.elapsed().as_secs_f64();
    let computed_local: u64 = if world.is_root() { computed_global } else { 0 };
    if stopped {
        return Err(ComputeError::Interrupted(format!(
            "interrupted; progress is saved in {} — run the same command again to resume",
            ck_path.display()
        )));
    }

    // Rank 0 writes; the others wait for its verdict so the whole job exits alike.
    let t_write = Instant::now();
    let mut all_items = None;
    let written = if world.is_root() {
        let results = assemble(&pieces, n_rows as usize, per_pixel);
        let info = RunInfo { fingerprint: &fingerprint, ranks: world.size(), threads };
        let r = results.and_then(|res| {
            let group = output::write_results(&analysis, &res, &job.input, &dset_path, &paths, &info)?;
            let n = res.items.len() as u64;
            all_items = Some(res);
            Ok((group, n))
        });
        if r.is_ok() {
            if let Some(ck) = checkpoint.take() {
                let _ = ck.remove();
            }
        }
        r
    } else {
        Ok((String::new(), 0))
    };
    drop(lock);
    let (group, items) = share_verdict(world, written)?;
    let seconds_write = t_write.elapsed().as_secs_f64();
    let summary = Summary {
        file: paths.target.display().to_string(),
        group,
        dataset: dset_path,
        pixels: n_rows,
        along: layout.along_dim.name.clone(),
        spectra_per_pixel: per_pixel as u64,
        items,
        computed: computed_local,
        resumed: resumed_rows,
        reused: false,
        ranks: world.size(),
        nodes: world.nodes(),
        threads,
        threads_bound: pool.bound(),
        seconds_total: started.elapsed().as_secs_f64(),
        seconds_compute,
        seconds_read,
        seconds_gather,
        seconds_write,
        spectra_per_s: if seconds_compute > 0.0 {
            (computed_local * per_pixel as u64) as f64 / seconds_compute
        } else {
            0.0
        },
    };
    Ok((summary, all_items))
}

/// The main dataset to use when none was named: the file's only source dataset.
fn only_main_dataset(file: &hdf5::File, path: &Path) -> Result<String, ComputeError> {
    usid::select::only_source_dataset(file, path)
        .map_err(|e| ComputeError::of_class(e.class(), e.to_string()))
}

/// What makes two runs' results interchangeable: the dataset, its shape and type, the dimension
/// the spectra run along, the analysis and its parameters.
fn fingerprint<A: Analysis>(
    main: &MainDataset,
    layout: &SpectraLayout,
    analysis: &A,
) -> Result<String, ComputeError> {
    let value = serde_json::json!({
        "dataset": main.path,
        "shape": [main.n_positions, main.n_bins],
        "dtype": main.dtype.name(),
        "along": layout.along_dim.name,
        "analysis": analysis.name(),
        "parameters": analysis.parameters(),
    });
    serde_json::to_string(&value).map_err(|e| ComputeError::Internal(format!("fingerprint: {e}")))
}

/// The checkpoint belongs to one input file too: two inputs may send results to one output.
fn checkpoint_key(input: &Path, fingerprint: &str) -> String {
    let canon = std::fs::canonicalize(input).unwrap_or_else(|_| input.to_owned());
    format!("{}\n{fingerprint}", canon.display())
}

type Decision<T> = (Start, Option<output::Lock>, Option<Loaded<T>>);

/// Rank 0's start-up decisions: take the lock, reuse a complete group, or resume a checkpoint.
fn decide<A: Analysis>(
    job: &Job,
    paths: &TargetPaths,
    ck_path: &Path,
    dset_path: &str,
    analysis: &A,
    fingerprint: &str,
    n_rows: u64,
) -> Result<Decision<A::Item>, ComputeError> {
    let lock = output::lock(paths)?;
    output::check_target(paths)?;
    if !job.force {
        if let Some(group) = output::find_reusable(&paths.target, dset_path, analysis, fingerprint) {
            // A run killed between moving its results into place and deleting its checkpoint
            // leaves the checkpoint behind; the complete group makes it useless.
            let _ = std::fs::remove_file(ck_path);
            return Ok((Start::Reuse(group), Some(lock), None));
        }
    }
    let loaded = Checkpoint::load::<A::Item>(ck_path, fingerprint).unwrap_or(None);
    let mut done = vec![false; n_rows as usize];
    let loaded = loaded.map(|mut l| {
        // A batch from another shape cannot be trusted; the fingerprint makes this all but impossible.
        l.batches.retain(|b| b.rows.ranges().last().is_none_or(|r| r.end <= n_rows));
        for b in &l.batches {
            for r in b.rows.ranges() {
                done[r.start as usize..r.end as usize].fill(true);
            }
        }
        l
    });
    let todo = RowSet::missing(&done);
    Ok((Start::Compute(todo), Some(lock), loaded))
}

/// A failure on one rank mid-run. With several ranks: say it once and end every rank, rather than
/// leave the others in the next collective. Alone, nobody waits for this process: the error goes
/// back to the caller as a value, like any other (a host such as the Python module must outlive
/// it; the checkpoint keeps the batches already finished).
fn fail_job(world: &World, e: ComputeError) -> ComputeError {
    if world.size() > 1 {
        // One line, like every other error: HDF5's messages carry line breaks of their own.
        crate::say!("usid-peaks: error (rank {}): {}", world.rank(), crate::error::one_line(&e));
        world.abort(e.class().exit_code())
    }
    e
}

/// Where every rank's results of a batch go: rank 0 keeps every batch (all ranks') for the final
/// write and appends each to the checkpoint; the other ranks only send theirs.
struct Collector<'a, T> {
    world: &'a World,
    checkpoint: Option<Checkpoint>,
    ck_path: &'a Path,
    pieces: Vec<Batch<T>>,
    /// Pixels gathered so far by this run (rank 0).
    computed: u64,
    per_pixel: u64,
    progress: &'a Progress,
}

impl<T: bytemuck::Pod> Collector<'_, T> {
    /// Send this rank's encoded batch (`bytes`) to rank 0, which keeps and checkpoints every
    /// rank's; returns whether any rank says `stop`. A collective: every rank calls it once per
    /// batch, in the same order. A failure here ends every rank (see [`fail_job`]); alone, it comes
    /// back as the error.
    fn exchange(&mut self, bytes: &[u8], stop: bool) -> Result<bool, ComputeError> {
        let world = self.world;
        let (gathered, any) = world.exchange(bytes, stop);
        for b in gathered.iter().flat_map(|g| g.parts()) {
            let piece = super::checkpoint::decode_batch::<T>(b).ok_or_else(|| {
                fail_job(world, ComputeError::Internal("a rank sent a malformed batch".into()))
            })?;
            self.computed += piece.rows.len();
            if let Some(ck) = self.checkpoint.as_mut() {
                if !piece.rows.is_empty() {
                    ck.append(&piece.rows, &piece.items).map_err(|e| {
                        let message = format!("cannot write the checkpoint {}: {e}", self.ck_path.display());
                        fail_job(world, ComputeError::Output(message))
                    })?;
                }
            }
            self.pieces.push(piece);
        }
        self.progress.set_global(self.computed * self.per_pixel);
        Ok(any)
    }
}

/// A step's items, the next block, when its read started and ended, and when the computation ended.
type StepOutcome<T> = (RowItems<T>, Option<SpectraBlock>, Option<(Instant, Instant)>, Instant);

/// What one step of the batch loop works with.
struct Step<'a, A: Analysis> {
    pool: &'a rayon::ThreadPool,
    analysis: &'a A,
    scratches: &'a Scratches<A::Scratch>,
    reader: &'a SpectraReader,
    layout: &'a SpectraLayout,
    progress: &'a Progress,
}

impl<A: Analysis> Step<'_, A> {
    /// Run the analysis over `block` (the rows `rows`) on the pool while this thread reads the
    /// next batch — this thread stays the only one that calls HDF5 and MPI (MPI is initialised
    /// FUNNELED). Returns the block's items, the next block, when reading it started and ended,
    /// and when the computation ended.
    /// `meanwhile` runs on this thread after the read, still while the pool computes.
    fn compute_and_read_next(
        &self,
        block: Option<SpectraBlock>,
        rows: &RowSet,
        next_rows: Option<&RowSet>,
        meanwhile: impl FnOnce(),
    ) -> Result<StepOutcome<A::Item>, ComputeError> {
        let mut items = RowItems::default();
        let mut next = Ok(None);
        let mut read = None;
        let mut computed_at = Instant::now();
        self.pool.in_place_scope(|scope| {
            if let Some(b) = &block {
                let (items, computed_at) = (&mut items, &mut computed_at);
                scope.spawn(move |_| {
                    *items = map_rows_with(self.analysis, self.scratches, b.rows(), b.spectrum_len(), &|n| {
                        self.progress.add_local(n)
                    });
                    *computed_at = Instant::now();
                });
            }
            if let Some(next_rows) = next_rows {
                let t = Instant::now();
                next = read_block(self.reader, next_rows, self.pool);
                read = Some((t, Instant::now()));
            }
            meanwhile();
        });
        let n = rows.len() as usize * self.layout.per_pixel();
        if items.n_rows() != n {
            return Err(ComputeError::Internal(format!(
                "the analysis returned {} results for {n} spectra",
                items.n_rows()
            )));
        }
        Ok((items, next?, read, computed_at))
    }
}

/// Run `analysis` over every spectrum of an in-memory block (`len` values per spectrum) on the
/// current rayon pool, and return the spectra's items in order — the engine's inner loop. Run it
/// inside `pool.install` to choose the threads. Each call makes the threads' working memory
/// afresh; to call it many times, keep a [`RowMapper`].
pub fn map_rows<A: Analysis>(analysis: &A, rows: Rows<'_>, len: usize) -> RowItems<A::Item> {
    RowMapper::new(analysis, rayon::current_num_threads()).map(rows, len)
}

/// The engine's inner loop with each thread's working memory (the analysis's scratch) kept from
/// one call to the next, as a run keeps it from batch to batch — what `usid-peaks bench` times.
pub struct RowMapper<'a, A: Analysis> {
    analysis: &'a A,
    scratches: Scratches<A::Scratch>,
}

impl<'a, A: Analysis> RowMapper<'a, A> {
    /// A mapper for pools of up to `threads` threads.
    pub fn new(analysis: &'a A, threads: usize) -> Self {
        RowMapper { analysis, scratches: Scratches::new(threads) }
    }

    /// [`map_rows`] with this mapper's scratches; run it inside `pool.install`.
    pub fn map(&self, rows: Rows<'_>, len: usize) -> RowItems<A::Item> {
        map_rows_with(self.analysis, &self.scratches, rows, len, &|_| {})
    }
}

/// One scratch per pool thread, made once per run by the thread that uses it (so in parallel,
/// and its pages first touched where they are used): rayon's `map_init` would make one per work
/// split, i.e. many per batch, each a fresh allocation of the analysis's working memory.
struct Scratches<S>(Vec<Slot<S>>);

/// One thread's scratch, alone on its cache lines: a scratch's vectors change their lengths all
/// the time, and two threads writing to one line (the end of one slot, the start of the next)
/// would pass it back and forth between their cores.
#[repr(align(128))]
struct Slot<S>(std::sync::Mutex<Option<S>>);

impl<S> Scratches<S> {
    fn new(threads: usize) -> Self {
        Scratches((0..threads.max(1)).map(|_| Slot(std::sync::Mutex::new(None))).collect())
    }
    /// Run `f` with the calling pool thread's scratch (uncontended: no two threads share an
    /// index), made by `make` on first use.
    fn with_mine<R>(&self, make: impl FnOnce() -> S, f: impl FnOnce(&mut S) -> R) -> R {
        let i = rayon::current_thread_index().unwrap_or(0) % self.0.len();
        let mut slot = self.0[i].0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(slot.get_or_insert_with(make))
    }
}

fn map_rows_with<A: Analysis>(
    analysis: &A,
    scratches: &Scratches<A::Scratch>,
    data: Rows<'_>,
    n_bins: usize,
    done: &(dyn Fn(u64) + Sync),
) -> RowItems<A::Item> {
    let n = data.len().checked_div(n_bins).unwrap_or(0);
    let per_task = rows_per_task(n, n_bins, rayon::current_num_threads());
    let parts: Vec<RowItems<A::Item>> = (0..n.div_ceil(per_task))
        .into_par_iter()
        .map(|t| {
            let (a, b) = (t * per_task, ((t + 1) * per_task).min(n));
            let mut out = RowItems::with_capacity(b - a);
            scratches.with_mine(
                || analysis.new_scratch(),
                |s| analysis.process(data.slice_rows(a, b, n_bins), s, &mut out),
            );
            done((b - a) as u64);
            out
        })
        .collect();
    let mut all = RowItems::with_capacity(n);
    for p in &parts {
        all.extend(p);
    }
    all
}

/// All spectra's items in row (pixel) order, `per_pixel` spectra per row, from batches that
/// together cover every row once.
fn assemble<T: bytemuck::Pod>(
    pieces: &[Batch<T>],
    n_pixels: usize,
    per_pixel: usize,
) -> Result<RowItems<T>, ComputeError> {
    let n_rows = n_pixels * per_pixel;
    let mut counts = vec![u32::MAX; n_rows];
    for p in pieces {
        if p.items.n_rows() as u64 != p.rows.len() * per_pixel as u64 {
            return Err(ComputeError::Internal("a batch holds the wrong number of spectra".into()));
        }
        let mut it = p.items.counts.iter();
        for r in p.rows.ranges() {
            let spectra = &mut counts[r.start as usize * per_pixel..r.end as usize * per_pixel];
            for c in spectra {
                *c = *it.next().unwrap_or(&0);
            }
        }
    }
    if let Some(missing) = counts.iter().position(|&c| c == u32::MAX) {
        return Err(ComputeError::Internal(format!("pixel {} has no result", missing / per_pixel.max(1))));
    }
    let mut offsets = Vec::with_capacity(n_rows + 1);
    let mut acc = 0usize;
    for &c in &counts {
        offsets.push(acc);
        acc += c as usize;
    }
    let mut items = vec![T::zeroed(); acc];
    for p in pieces {
        let mut rows = p.items.rows();
        for r in p.rows.ranges() {
            for &at in &offsets[r.start as usize * per_pixel..r.end as usize * per_pixel] {
                let src = rows.next().unwrap_or_default();
                items[at..at + src.len()].copy_from_slice(src);
            }
        }
    }
    Ok(RowItems { counts, items })
}

#[cfg(test)]
mod tests {
    use super::rows_per_task;

    #[test]
    fn tasks_shrink_with_the_row_length_and_for_small_batches() {
        // The seed's 119 bins in a large batch: the kernel's blocks stay whole.
        assert_eq!(rows_per_task(16_384, 119, 2), 128);
        assert_eq!(rows_per_task(16_384, 119, 16), 128);
        // Long rows: fewer rows per task, down to one.
        assert_eq!(rows_per_task(16_384, 1_024, 2), 16);
        assert_eq!(rows_per_task(16_384, 65_536, 2), 1);
        // 128 spectra of 1 024 bins on 2 threads: 16 tasks of 8, not 8 of 16.
        assert_eq!(rows_per_task(128, 1_024, 2), 8);
        // Tiny batches still make tasks of at least one row.
        assert_eq!(rows_per_task(1, 119, 16), 1);
        assert_eq!(rows_per_task(0, 119, 2), 1);
    }
}
