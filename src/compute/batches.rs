//! The batch loop: this rank's batches read, computed on the pool and gathered to rank 0, one
//! after the other and each overlapped with its neighbours — batch i+1 is read, and batch i−1's
//! results gathered and checkpointed, while the pool computes batch i. This thread stays the only
//! one that calls HDF5 and MPI (MPI is initialised FUNNELED).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::analysis::{Analysis, RowItems};
use super::checkpoint::encode_batch;
use super::collect::Collector;
use super::engine::PATIENCE_FACTOR;
use super::mapper::RowMapper;
use super::plan::{Plan, RowSet};
use super::progress::Progress;
use super::world::{Patience, Vote, World};
use super::ComputeError;
use crate::usid::{SpectraBlock, SpectraReader};

/// What the batch loop works with.
pub(crate) struct Batches<'a, A: Analysis> {
    pub world: &'a World,
    pub pool: &'a rayon::ThreadPool,
    pub mapper: &'a RowMapper<'a, A>,
    pub reader: &'a SpectraReader,
    /// Spectra per position.
    pub per_pixel: usize,
    pub progress: &'a Progress,
    /// Set when the run is asked to stop: it stops after the batch it computes then.
    pub interrupted: &'a AtomicBool,
    /// `--rank-timeout`: the least a batch's exchange waits on a silent rank.
    pub rank_timeout: Duration,
}

/// Rank 0's time waiting, out of the compute phase (see `Summary::seconds_read` and
/// `Summary::seconds_gather`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Waits {
    pub seconds_read: f64,
    pub seconds_gather: f64,
}

/// A step's items, the next block, when its read started and ended, and when the computation ended.
type StepOutcome<T> = (RowItems<T>, Option<SpectraBlock>, Option<(Instant, Instant)>, Instant);

impl<A: Analysis> Batches<'_, A> {
    /// Every batch of `plan`, each gathered through `collector`. Returns whether the run was
    /// asked to stop (a stop is agreed one batch late: that batch is gathered and checkpointed
    /// too), and the waits.
    pub(crate) fn run(
        &self,
        plan: &Plan,
        collector: &mut Collector<'_, '_, A::Item>,
    ) -> Result<(bool, Waits), ComputeError> {
        let mut waits = Waits::default();
        // The first batch has nobody to hide behind.
        let t_first = Instant::now();
        let mut block = match plan.batches.first() {
            Some(rows) => read_block(self.reader, rows, self.pool).map_err(|e| fail_job(self.world, e))?,
            None => None,
        };
        waits.seconds_read += t_first.elapsed().as_secs_f64();
        // The slowest step (a batch computed and the next read) so far, of this rank and, once
        // rank 0 has answered, of any rank: what a peer may take before it counts as silent.
        let mut slowest = t_first.elapsed();
        let mut pending: Option<Vec<u8>> = None;
        for (i, batch) in plan.batches.iter().enumerate() {
            let mut stop = Ok(Vote { stop: false, slowest: Duration::ZERO });
            let mut exchanged = None;
            let patience = self.patience(slowest);
            let known = slowest;
            let meanwhile = || {
                if let Some(bytes) = pending.take() {
                    let t = Instant::now();
                    let vote = Vote { stop: self.interrupted.load(Ordering::Relaxed), slowest: known };
                    stop = collector.exchange(&bytes, vote, self.progress, patience);
                    exchanged = Some((t, Instant::now()));
                }
            };
            let t_step = Instant::now();
            let (local, next, read, computed_at) = self
                .compute_and_read_next(block.take(), batch, plan.batches.get(i + 1), meanwhile)
                .map_err(|e| fail_job(self.world, e))?;
            let job = stop?;
            slowest = slowest.max(t_step.elapsed()).max(job.slowest);
            let stop = job.stop;
            // Rank 0 waits for the gather and the read only where they outlast the computation.
            if let Some((start, end)) = exchanged {
                waits.seconds_gather += end.saturating_duration_since(computed_at.max(start)).as_secs_f64();
            }
            if let Some((start, end)) = read {
                waits.seconds_read += end.saturating_duration_since(computed_at.max(start)).as_secs_f64();
            }
            block = next;
            pending = Some(encode_batch(batch, &local));
            if stop {
                self.gather_last(pending, collector, &mut waits, slowest)?;
                return Ok((true, waits));
            }
        }
        Ok((self.gather_last(pending, collector, &mut waits, slowest)?, waits))
    }

    /// How long an exchange waits on the other ranks, `slowest` the job's slowest step so far: the
    /// larger of `--rank-timeout` and ten such steps (a rank may lag by a step or so, never by
    /// ten); progress names whom it waits for after three steps' time (at least 2 s).
    fn patience(&self, slowest: Duration) -> Patience<'static> {
        let limit = self.rank_timeout.max(slowest * PATIENCE_FACTOR);
        let report_after = (slowest * 3).max(Duration::from_secs(2)).min(limit);
        Patience { report_after, ..Patience::quiet(limit, self.rank_timeout, "") }
    }

    /// Gather the last batch computed (the loop's end, or the batch computed while a stop was
    /// agreed); returns whether any rank asks to stop.
    fn gather_last(
        &self,
        pending: Option<Vec<u8>>,
        collector: &mut Collector<'_, '_, A::Item>,
        waits: &mut Waits,
        slowest: Duration,
    ) -> Result<bool, ComputeError> {
        let Some(bytes) = pending else { return Ok(false) };
        let t = Instant::now();
        let vote = Vote { stop: self.interrupted.load(Ordering::Relaxed), slowest };
        let job = collector.exchange(&bytes, vote, self.progress, self.patience(slowest))?;
        waits.seconds_gather += t.elapsed().as_secs_f64();
        Ok(job.stop)
    }

    /// Run the analysis over `block` (the rows `rows`) on the pool while this thread reads the
    /// next batch. Returns the block's items, the next block, when reading it started and ended,
    /// and when the computation ended. `meanwhile` runs on this thread after the read, still while
    /// the pool computes.
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
        // The pool's task gets the mapper and the progress only (the world stays on this thread).
        let (mapper, progress) = (self.mapper, self.progress);
        self.pool.in_place_scope(|scope| {
            if let Some(b) = &block {
                let (items, computed_at) = (&mut items, &mut computed_at);
                scope.spawn(move |_| {
                    *items = mapper.map_counted(b.rows(), b.spectrum_len(), &|n| progress.add_local(n));
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
        let n = rows.len() as usize * self.per_pixel;
        if items.n_rows() != n {
            return Err(ComputeError::Internal(format!(
                "the analysis returned {} results for {n} spectra",
                items.n_rows()
            )));
        }
        Ok((items, next?, read, computed_at))
    }
}

/// The spectra of one batch's rows (pixels), or `None` for an empty batch (a rank with nothing
/// left to do). A chunked, compressed dataset's chunks are decoded on `pool` (the rank's compute
/// pool), this thread waiting for them.
fn read_block(
    reader: &SpectraReader,
    rows: &RowSet,
    pool: &rayon::ThreadPool,
) -> Result<Option<SpectraBlock>, ComputeError> {
    if rows.is_empty() {
        return Ok(None);
    }
    let ranges: Vec<std::ops::Range<usize>> =
        rows.ranges().iter().map(|r| r.start as usize..r.end as usize).collect();
    Ok(Some(reader.read(&ranges, pool)?))
}

/// A failure on one rank mid-run. With several ranks: say it once and end every rank, rather than
/// leave the others in the next collective. Alone, nobody waits for this process: the error goes
/// back to the caller as a value, like any other (a host such as the Python module must outlive
/// it; the checkpoint keeps the batches already finished).
pub(crate) fn fail_job(world: &World, e: ComputeError) -> ComputeError {
    if world.size() > 1 {
        // One line, like every other error: HDF5's messages carry line breaks of their own.
        crate::say!("usid-peaks: error (rank {}): {}", world.rank(), crate::error::one_line(&e));
        world.abort(e.class().exit_code())
    }
    e
}
