//! [`run`]: the corridor from the input file to the results group.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use num_complex::{Complex32, Complex64};
use rayon::prelude::*;

use super::analysis::{Analysis, RowItems, Rows};
use super::checkpoint::{Batch, Checkpoint, Loaded};
use super::output::{self, RunInfo, TargetPaths};
use super::plan::{batch_rows_for, Plan, RowSet};
use super::progress::{Progress, ProgressMode};
use super::world::{default_threads, World};
use super::ComputeError;
use crate::usid::{self, ElementType, MainDataset};

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
    /// Items (e.g. peaks) found over all pixels.
    pub peaks: u64,
    /// Pixels computed by this run (fewer than `pixels` when resuming; 0 when reusing).
    pub computed: u64,
    /// Pixels taken from an interrupted run's checkpoint.
    pub resumed: u64,
    /// Whether an existing complete group was reused.
    pub reused: bool,
    pub ranks: usize,
    pub threads: usize,
    /// From the start of the process to the end of the run.
    pub seconds_total: f64,
    /// Reading and computing the rows (excludes start-up and the final write).
    pub seconds_compute: f64,
    /// Of `seconds_compute`, rank 0's time reading its rows from the file.
    pub seconds_read: f64,
    /// Of `seconds_compute`, rank 0's time gathering results and appending them to the checkpoint
    /// (including waiting for slower ranks).
    pub seconds_gather: f64,
    /// Writing the results group.
    pub seconds_write: f64,
    /// `computed / seconds_compute`.
    pub spectra_per_s: f64,
}

/// How rank 0's decision at the start reaches the other ranks.
enum Start {
    Reuse(String),
    Compute(RowSet),
}

/// The start decision, with the checkpoint rank 0 resumes from.
type StartDecision<T> = (Start, Option<Loaded<T>>);

/// Rows per rayon task: enough for the analysis to batch its work (the CWT kernel turns a block
/// into matrix products), few enough to balance the threads.
const ROWS_PER_TASK: usize = 128;

/// Run `analysis` over every row of a main dataset on every rank of `world`, and write its results
/// group (rank 0). `make_analysis` builds the analysis once the dataset is known (its length,
/// its spectroscopic values). `started` is when the process started, for `seconds_total`.
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
    F: FnOnce(&MainDataset) -> Result<A, ComputeError>,
{
    // First of all: a SIGTERM during start-up (a batch system's time limit, a scancel) must stop
    // the run as cleanly as one during the computation, not kill it with the default action.
    let interrupted = install_signal_flag();
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
    let analysis = make_analysis(&main)?;
    let threads = job.threads.unwrap_or_else(|| default_threads(world.node_ranks())).max(1);
    let n_rows = main.n_positions as u64;
    let fingerprint = fingerprint(&main, &analysis)?;
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
            let peaks = if world.is_root() { output::items_in(&analysis, &paths.target, &group) } else { 0 };
            return Ok(Summary {
                file: paths.target.display().to_string(),
                group,
                dataset: dset_path,
                pixels: n_rows,
                peaks,
                computed: 0,
                resumed: 0,
                reused: true,
                ranks: world.size(),
                threads,
                seconds_total: started.elapsed().as_secs_f64(),
                seconds_compute: 0.0,
                seconds_read: 0.0,
                seconds_gather: 0.0,
                seconds_write: 0.0,
                spectra_per_s: 0.0,
            });
        }
        Start::Compute(todo) => todo,
    };

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| ComputeError::Internal(format!("cannot start {threads} threads: {e}")))?;
    // In flight per row: the batch being computed and the next one being read, plus its items.
    let bytes_per_row = (main.n_bins * element_bytes(main.dtype) * 2 + 64) as u64;
    let batch_rows = batch_rows_for(job.max_mem_mb.saturating_mul(1 << 20), bytes_per_row, threads);
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
    let reader = open_reader(world, input_file, &main, &job.input)?;
    let progress = Progress::start(
        if world.is_root() { job.progress } else { ProgressMode::Quiet },
        todo.len(),
        world.size(),
    );
    let mut computed_global = 0u64;
    let mut stopped = false;
    let (mut seconds_read, mut seconds_gather) = (0.0, 0.0);
    let scratches = Scratches::new(&analysis, threads);
    // Batch i+1 is read while the pool computes batch i; the first one has nobody to hide behind.
    let t_first = Instant::now();
    let mut block = match plan.batches.first() {
        Some(rows) => read_block(&reader, rows, &pool).unwrap_or_else(|e| fail_job(world, e)),
        None => None,
    };
    seconds_read += t_first.elapsed().as_secs_f64();
    for (i, batch) in plan.batches.iter().enumerate() {
        let step = Step {
            pool: &pool,
            analysis: &analysis,
            scratches: &scratches,
            reader: &reader,
            n_bins: main.n_bins,
            progress: &progress,
        };
        let (local, next, read) = step
            .compute_and_read_next(block.take(), batch, plan.batches.get(i + 1))
            .unwrap_or_else(|e| fail_job(world, e));
        block = next;
        seconds_read += read;
        let t_gather = Instant::now();
        let bytes = super::checkpoint::encode_batch(batch, &local);
        if let Some(all) = world.gather_bytes(&bytes) {
            for b in all {
                let piece = super::checkpoint::decode_batch::<A::Item>(&b).unwrap_or_else(|| {
                    fail_job(world, ComputeError::Internal("a rank sent a malformed batch".into()))
                });
                computed_global += piece.rows.len();
                if let Some(ck) = checkpoint.as_mut() {
                    if !piece.rows.is_empty() {
                        ck.append(&piece.rows, &piece.items).unwrap_or_else(|e| {
                            fail_job(
                                world,
                                ComputeError::Output(format!(
                                    "cannot write the checkpoint {}: {e}",
                                    ck_path.display()
                                )),
                            )
                        });
                    }
                }
                pieces.push(piece);
            }
            progress.set_global(computed_global);
        }
        seconds_gather += t_gather.elapsed().as_secs_f64();
        if world.any(interrupted.load(Ordering::Relaxed)) {
            stopped = true;
            break;
        }
    }
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
    let written = if world.is_root() {
        let results = assemble(&pieces, n_rows as usize);
        let info = RunInfo { fingerprint: &fingerprint, ranks: world.size(), threads };
        let r = results.and_then(|res| {
            let group = output::write_results(&analysis, &res, &job.input, &dset_path, &paths, &info)?;
            Ok((group, res.items.len() as u64))
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
    let (group, peaks) = share_verdict(world, written)?;
    let seconds_write = t_write.elapsed().as_secs_f64();
    Ok(Summary {
        file: paths.target.display().to_string(),
        group,
        dataset: dset_path,
        pixels: n_rows,
        peaks,
        computed: computed_local,
        resumed: resumed_rows,
        reused: false,
        ranks: world.size(),
        threads,
        seconds_total: started.elapsed().as_secs_f64(),
        seconds_compute,
        seconds_read,
        seconds_gather,
        seconds_write,
        spectra_per_s: if seconds_compute > 0.0 { computed_local as f64 / seconds_compute } else { 0.0 },
    })
}

/// The main dataset to use when none was named: the file's only source dataset.
fn only_main_dataset(file: &hdf5::File, path: &Path) -> Result<String, ComputeError> {
    usid::select::only_source_dataset(file, path).map_err(|e| match e {
        usid::select::SelectError::Input(e) => ComputeError::Input(e),
        usid::select::SelectError::Ambiguous(m) => ComputeError::Usage(m),
    })
}

/// What makes two runs' results interchangeable: the dataset, its shape and type, the analysis
/// and its parameters.
fn fingerprint<A: Analysis>(main: &MainDataset, analysis: &A) -> Result<String, ComputeError> {
    let value = serde_json::json!({
        "dataset": main.path,
        "shape": [main.n_positions, main.n_bins],
        "dtype": main.dtype.name(),
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
        if let Some(group) = output::find_reusable(&paths.target, dset_path, analysis.name(), fingerprint) {
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

/// Broadcast rank 0's start decision (or its error) to every rank.
fn share_decision<T>(
    world: &World,
    decision: Result<StartDecision<T>, ComputeError>,
) -> Result<StartDecision<T>, ComputeError> {
    // Payload: tag 0 and the row ranges to compute, or tag 1 and the group to reuse.
    let encode = |d: &StartDecision<T>| match &d.0 {
        Start::Compute(todo) => {
            let mut m = vec![0u8];
            for r in todo.ranges() {
                m.extend_from_slice(&r.start.to_le_bytes());
                m.extend_from_slice(&r.end.to_le_bytes());
            }
            m
        }
        Start::Reuse(g) => [&[1u8][..], g.as_bytes()].concat(),
    };
    let decode = |m: &[u8]| match m.first() {
        Some(0) => {
            let ranges = m[1..]
                .chunks_exact(16)
                .map(|c| {
                    let a = u64::from_le_bytes(c[..8].try_into().unwrap_or_default());
                    let b = u64::from_le_bytes(c[8..].try_into().unwrap_or_default());
                    a..b
                })
                .collect();
            Some((Start::Compute(RowSet::from_ranges(ranges)), None))
        }
        Some(1) => Some((Start::Reuse(String::from_utf8_lossy(&m[1..]).into_owned()), None)),
        _ => None,
    };
    share_outcome(world, decision, encode, decode)
}

/// Broadcast rank 0's final result (group and item count, or its error) to every rank.
fn share_verdict(
    world: &World,
    verdict: Result<(String, u64), ComputeError>,
) -> Result<(String, u64), ComputeError> {
    let encode = |(g, n): &(String, u64)| [&n.to_le_bytes()[..], g.as_bytes()].concat();
    let decode = |m: &[u8]| {
        let n = u64::from_le_bytes(m.get(..8)?.try_into().ok()?);
        Some((String::from_utf8_lossy(&m[8..]).into_owned(), n))
    };
    share_outcome(world, verdict, encode, decode)
}

/// Rank 0's outcome on every rank: rank 0 keeps its own; the others get it as bytes — tag 0 and
/// the encoded value, or an error's tag and message — so a failure only rank 0 saw ends every
/// rank alike instead of leaving them in the next collective.
fn share_outcome<T>(
    world: &World,
    outcome: Result<T, ComputeError>,
    encode: impl Fn(&T) -> Vec<u8>,
    decode: impl Fn(&[u8]) -> Option<T>,
) -> Result<T, ComputeError> {
    let msg = match (world.is_root(), &outcome) {
        (true, Ok(v)) => [&[0u8][..], &encode(v)].concat(),
        (true, Err(e)) => error_message(e),
        (false, _) => Vec::new(),
    };
    let msg = world.broadcast_bytes(msg);
    if world.is_root() {
        return outcome;
    }
    match msg.first() {
        Some(0) => {
            decode(&msg[1..]).ok_or_else(|| ComputeError::Internal("rank 0 sent a malformed message".into()))
        }
        _ => Err(error_from_message(&msg)),
    }
}

fn error_message(e: &ComputeError) -> Vec<u8> {
    let tag = match e {
        ComputeError::Input(_) => 2,
        ComputeError::Usage(_) => 3,
        ComputeError::Output(_) => 4,
        ComputeError::Busy(_) => 5,
        ComputeError::Launch(_) => 6,
        ComputeError::Interrupted(_) => 7,
        ComputeError::Internal(_) => 8,
    };
    [&[tag][..], e.to_string().as_bytes()].concat()
}

fn error_from_message(msg: &[u8]) -> ComputeError {
    let text = String::from_utf8_lossy(msg.get(1..).unwrap_or_default()).into_owned();
    match msg.first() {
        Some(2) => ComputeError::Input(usid::UsidError(text)),
        Some(3) => ComputeError::Usage(text),
        Some(4) => ComputeError::Output(text),
        Some(5) => ComputeError::Busy(text),
        Some(6) => ComputeError::Launch(text),
        Some(7) => ComputeError::Interrupted(text),
        _ => ComputeError::Internal(text),
    }
}

/// A failure on one rank mid-run: say it once and end every rank, rather than leave the others in
/// the next collective.
fn fail_job(world: &World, e: ComputeError) -> ! {
    // One line, like every other error: HDF5's messages carry line breaks of their own.
    let line = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
    crate::say!("usid-peaks: error (rank {}): {line}", world.rank());
    let code = match e {
        ComputeError::Output(_) => 4,
        ComputeError::Input(_) => 3,
        _ => 70,
    };
    world.abort(code)
}

/// SIGINT and SIGTERM (Ctrl-C, SLURM's time limit or preemption) ask the run to stop after the
/// current batch, with everything finished checkpointed; a second one ends the process at once.
/// SIGUSR1 does the same: mpirun forwards it to every rank, whereas its own SIGTERM handling tears
/// the job down before the ranks can save anything (`sbatch --signal=B:USR1@120`).
fn install_signal_flag() -> Arc<AtomicBool> {
    use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM, SIGUSR1] {
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&flag));
        let _ = signal_hook::flag::register(sig, Arc::clone(&flag));
    }
    flag
}

/// The input as this rank reads it: through the mpio driver when several ranks share the file.
struct Reader {
    _file: hdf5::File,
    dataset: hdf5::Dataset,
    dtype: ElementType,
    /// The fast path for a gzip/shuffle-chunked dataset: chunks decompressed on the pool.
    chunked: Option<usid::chunked::ChunkedRows>,
}

/// The reader of the rows: a plain run keeps the handle it validated the dataset with; an MPI job
/// reopens the file through the mpio driver (a collective open on every rank).
fn open_reader(
    world: &World,
    file: hdf5::File,
    main: &MainDataset,
    input: &Path,
) -> Result<Reader, ComputeError> {
    #[cfg(feature = "mpi")]
    if let Some(comm) = world.raw_comm() {
        drop(file);
        let shared =
            hdf5::File::with_options().with_fapl(|p| p.mpio(comm, None)).open(input).map_err(|e| {
                ComputeError::Input(usid::UsidError(format!(
                    "{}: cannot open with MPI-IO: {e}",
                    input.display()
                )))
            })?;
        let main = MainDataset::open(&shared, &main.path)?;
        let chunked = usid::chunked::ChunkedRows::open(main.dataset(), main.dtype);
        return Ok(Reader { dataset: main.dataset().clone(), dtype: main.dtype, _file: shared, chunked });
    }
    let _ = (world, input);
    let chunked = usid::chunked::ChunkedRows::open(main.dataset(), main.dtype);
    Ok(Reader { dataset: main.dataset().clone(), dtype: main.dtype, _file: file, chunked })
}

fn element_bytes(t: ElementType) -> usize {
    match t {
        ElementType::Complex128 => 16,
        ElementType::Complex64 | ElementType::Float64 => 8,
        ElementType::Float32 => 4,
        // Integers are read converted to f64.
        _ => 8,
    }
}

/// The rows of one batch in the dataset's own element type (integers as f64).
enum Block {
    C32(Vec<Complex32>),
    C64(Vec<Complex64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Block {
    fn rows(&self) -> Rows<'_> {
        match self {
            Block::C32(v) => Rows::Complex32(v),
            Block::C64(v) => Rows::Complex64(v),
            Block::F32(v) => Rows::Float32(v),
            Block::F64(v) => Rows::Float64(v),
        }
    }
}

/// The rows of one batch, or `None` for an empty batch (a rank with nothing left to do). A
/// chunked, compressed dataset is decompressed on `pool`.
fn read_block(
    reader: &Reader,
    rows: &RowSet,
    pool: &rayon::ThreadPool,
) -> Result<Option<Block>, ComputeError> {
    if rows.is_empty() {
        return Ok(None);
    }
    fn read<T: usid::chunked::RowValue>(
        reader: &Reader,
        rows: &RowSet,
        pool: &rayon::ThreadPool,
    ) -> Result<Vec<T>, usid::UsidError> {
        if let Some(chunked) = &reader.chunked {
            return chunked.read(rows.ranges(), pool);
        }
        let ds = &reader.dataset;
        let mut out = Vec::new();
        for r in rows.ranges() {
            let part = ds
                .as_reader()
                .conversion(hdf5::Conversion::Hard)
                .read_slice_2d::<T, _>(ndarray::s![r.start as usize..r.end as usize, ..])
                .map_err(|e| usid::UsidError(format!("{}: cannot read rows: {e}", ds.name())))?;
            out.extend(part);
        }
        Ok(out)
    }
    let block = match reader.dtype {
        ElementType::Complex64 => read::<Complex32>(reader, rows, pool).map(Block::C32),
        ElementType::Complex128 => read::<Complex64>(reader, rows, pool).map(Block::C64),
        ElementType::Float32 => read::<f32>(reader, rows, pool).map(Block::F32),
        _ => read::<f64>(reader, rows, pool).map(Block::F64),
    };
    block.map(Some).map_err(ComputeError::Input)
}

/// A step's results: the batch's items, the next batch's rows, and the seconds spent reading them.
type StepOutcome<T> = (RowItems<T>, Option<Block>, f64);

/// What one step of the batch loop works with.
struct Step<'a, A: Analysis> {
    pool: &'a rayon::ThreadPool,
    analysis: &'a A,
    scratches: &'a Scratches<A::Scratch>,
    reader: &'a Reader,
    n_bins: usize,
    progress: &'a Progress,
}

impl<A: Analysis> Step<'_, A> {
    /// Run the analysis over `block` (the rows `rows`) on the pool while this thread reads the
    /// next batch — this thread stays the only one that calls HDF5 and MPI (MPI is initialised
    /// FUNNELED). Returns the block's items, the next block and the seconds spent reading it.
    fn compute_and_read_next(
        &self,
        block: Option<Block>,
        rows: &RowSet,
        next_rows: Option<&RowSet>,
    ) -> Result<StepOutcome<A::Item>, ComputeError> {
        let mut items = RowItems::default();
        let mut next = Ok(None);
        let mut read = 0.0;
        self.pool.in_place_scope(|scope| {
            if let Some(b) = &block {
                let items = &mut items;
                scope.spawn(move |_| {
                    *items = map_rows_with(self.analysis, self.scratches, b.rows(), self.n_bins, &|n| {
                        self.progress.add_local(n)
                    })
                });
            }
            if let Some(next_rows) = next_rows {
                let t = Instant::now();
                next = read_block(self.reader, next_rows, self.pool);
                read = t.elapsed().as_secs_f64();
            }
        });
        let n = rows.len() as usize;
        if items.n_rows() != n {
            return Err(ComputeError::Internal(format!(
                "the analysis returned {} rows for {n}",
                items.n_rows()
            )));
        }
        Ok((items, next?, read))
    }
}

/// Run `analysis` over every row of an in-memory block (`n_bins` values per row) on the current
/// rayon pool, and return the rows' items in order — the engine's inner loop, also what
/// `usid-peaks bench` times. Run it inside `pool.install` to choose the threads.
pub fn map_rows<A: Analysis>(analysis: &A, rows: Rows<'_>, n_bins: usize) -> RowItems<A::Item> {
    let scratches = Scratches::new(analysis, rayon::current_num_threads());
    map_rows_with(analysis, &scratches, rows, n_bins, &|_| {})
}

/// One scratch per pool thread, made once per run: rayon's `map_init` would make one per work
/// split, i.e. many per batch, each a fresh allocation of the analysis's working memory.
struct Scratches<S>(Vec<std::sync::Mutex<S>>);

impl<S> Scratches<S> {
    fn new<A: Analysis<Scratch = S>>(analysis: &A, threads: usize) -> Self {
        Scratches((0..threads.max(1)).map(|_| std::sync::Mutex::new(analysis.new_scratch())).collect())
    }
    /// The calling pool thread's scratch (uncontended: no two threads share an index).
    fn mine(&self) -> std::sync::MutexGuard<'_, S> {
        let i = rayon::current_thread_index().unwrap_or(0) % self.0.len();
        self.0[i].lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
    let parts: Vec<RowItems<A::Item>> = (0..n.div_ceil(ROWS_PER_TASK))
        .into_par_iter()
        .map(|t| {
            let (a, b) = (t * ROWS_PER_TASK, ((t + 1) * ROWS_PER_TASK).min(n));
            let mut out = RowItems::with_capacity(b - a);
            analysis.process(data.slice_rows(a, b, n_bins), &mut scratches.mine(), &mut out);
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

/// All rows' items in row order, from batches that together cover every row once.
fn assemble<T: bytemuck::Pod>(pieces: &[Batch<T>], n_rows: usize) -> Result<RowItems<T>, ComputeError> {
    let mut counts = vec![u32::MAX; n_rows];
    for p in pieces {
        let mut it = p.items.counts.iter();
        for r in p.rows.ranges() {
            for i in r.clone() {
                counts[i as usize] = *it.next().unwrap_or(&0);
            }
        }
    }
    if let Some(missing) = counts.iter().position(|&c| c == u32::MAX) {
        return Err(ComputeError::Internal(format!("row {missing} has no result")));
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
            for i in r.clone() {
                let src = rows.next().unwrap_or_default();
                let at = offsets[i as usize];
                items[at..at + src.len()].copy_from_slice(src);
            }
        }
    }
    Ok(RowItems { counts, items })
}
