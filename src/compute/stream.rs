//! Rank 0's results writer: every gathered batch is written into the staged results file as it
//! arrives, on a thread of its own, while the pool computes the next batches; the end of a run is
//! the writer's finish (the analysis's last touches), a flush, a sync and the rename.
//!
//! Memory stays O(batch): the collector hands each batch over through a bounded queue
//! ([`QUEUE`] batches) and lets go of it, and a resumed run's batches are read again from the
//! checkpoint one record at a time, between the new ones, rather than loaded. Crash safety is the
//! whole write's: the target is replaced only by the rename of a complete, synced copy; until
//! then the checkpoint holds every batch, and a kill at any moment leaves a stale copy that the
//! next run removes.
//!
//! HDF5 serialises every call behind one library-wide lock, so the writer's calls and rank 0's
//! reads of the next batch take turns; each batch's write is a few hyperslab writes (one per row
//! range and dataset), so a read waits at most for one of them (`Summary::seconds_writer`).

use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::sync::OnceLock;
use std::thread::{Scope, ScopedJoinHandle};
use std::time::Instant;

use super::analysis::{Analysis, NsidWriteTarget, ResultsWriter};
use super::checkpoint::{Batch, Records};
use super::output::{self, Format, ResultsGroup, RunInfo, TargetPaths};
use super::ComputeError;
use crate::usid::UsidError;

/// How many gathered batches may wait for the writer: enough to ride out a slow write (a chunk
/// allocated, a grown slot re-laid), few enough that rank 0 holds a handful of batches at most.
pub(crate) const QUEUE: usize = 4;

/// What the collector sends the writer.
pub(crate) enum Msg<T> {
    /// A gathered batch (any rank's), to write.
    Batch(Batch<T>),
    /// Every batch is sent: finish, flush, sync and rename.
    Finish,
}

/// The sending end, held by rank 0's collector, and where the writer leaves its error if it
/// fails (a full disk) so that the run ends with it at the next batch.
pub(crate) struct Sink<'a, T> {
    tx: SyncSender<Msg<T>>,
    failed: &'a OnceLock<(crate::error::Class, String)>,
}

impl<T> Sink<'_, T> {
    /// Hand a gathered batch to the writer (waiting while [`QUEUE`] batches wait); the writer's
    /// error if it has stopped.
    pub(crate) fn send(&self, batch: Batch<T>) -> Result<(), ComputeError> {
        self.tx.send(Msg::Batch(batch)).map_err(|_| self.failure())
    }

    /// Every batch is sent: the writer finishes.
    pub(crate) fn finish(self) -> Result<(), ComputeError> {
        self.tx.send(Msg::Finish).map_err(|_| self.failure())
    }

    fn failure(&self) -> ComputeError {
        match self.failed.get() {
            Some((class, message)) => ComputeError::of_class(*class, message.clone()),
            None => ComputeError::Internal("the results writer stopped".into()),
        }
    }
}

/// The writer thread's outcome.
pub(crate) type WriterThread<'s> = ScopedJoinHandle<'s, Result<Streamed, ComputeError>>;

/// Start rank 0's writer thread in `scope` for the batches the returned sink sends.
pub(crate) fn spawn<'s, 'e: 's, A: Analysis>(
    scope: &'s Scope<'s, 'e>,
    analysis: &'e A,
    plan: &'e StreamPlan<'e>,
    failed: &'e OnceLock<(crate::error::Class, String)>,
) -> Result<(Sink<'e, A::Item>, WriterThread<'s>), ComputeError> {
    let (tx, rx) = sync_channel(QUEUE);
    let handle = std::thread::Builder::new()
        .name("usid-peaks-writer".into())
        .spawn_scoped(scope, move || {
            let streamed = stream_results(analysis, plan, &rx);
            if let Err(e) = &streamed {
                let _ = failed.set((e.class(), e.to_string()));
            }
            // `rx` drops here: a sender learns at once that nobody writes any more.
            streamed
        })
        .map_err(|e| ComputeError::Internal(format!("cannot start the results writer: {e}")))?;
    Ok((Sink { tx, failed }, handle))
}

/// Write at the end, on this thread, every batch of the checkpoint (the whole of it): an
/// in-place run's results, whose staged copy is the input's, made once the input is read.
pub(crate) fn write_at_end<A: Analysis>(
    analysis: &A,
    plan: &StreamPlan<'_>,
) -> Result<Streamed, ComputeError> {
    let (tx, rx) = sync_channel(1);
    let _ = tx.send(Msg::Finish);
    stream_results(analysis, &StreamPlan { replay: u64::MAX, ..*plan }, &rx)
}

/// What the writer writes, and where.
#[derive(Clone, Copy)]
pub(crate) struct StreamPlan<'a> {
    /// The input file and its source dataset's path.
    pub input: &'a Path,
    pub dataset: &'a str,
    /// Whether the results go into (a copy of) the input itself.
    pub in_place: bool,
    /// The source's format, as its results group is made.
    pub format: &'a Format,
    pub paths: &'a TargetPaths,
    pub info: RunInfo<'a>,
    /// Pixels of the source; every one must be written before the finish.
    pub n_pixels: u64,
    /// Spectra per pixel.
    pub per_pixel: usize,
    /// The checkpoint, whose first `replay` bytes (batches of an earlier run, or of this one when
    /// written at the end) are written too, one record at a time; 0: none.
    pub checkpoint: &'a Path,
    /// What a rank says if a silent rank ends the job: where the progress is.
    pub resume: &'a str,
    pub replay: u64,
}

impl StreamPlan<'_> {
    /// A write's error, naming the target.
    fn write_error(&self, e: UsidError) -> ComputeError {
        ComputeError::Output(format!("{}: {e}", self.paths.target.display()))
    }

    /// A read of the checkpoint's error.
    fn read_error(&self, e: std::io::Error) -> ComputeError {
        ComputeError::Output(format!("cannot read the checkpoint {}: {e}", self.checkpoint.display()))
    }
}

/// What the writer did: the group, the items written, and its time writing batches (in total and
/// the longest batch), during which it held HDF5's lock most of the time.
#[derive(Debug, Clone, Default)]
pub(crate) struct Streamed {
    pub group: String,
    pub items: u64,
    pub seconds_busy: f64,
    pub seconds_longest: f64,
}

/// Write the results of `analysis` as they come from `rx` (and the checkpoint's first
/// `plan.replay` bytes) into a staged copy of the target, renamed into place at [`Msg::Finish`].
/// Without a finish (the run stopped or failed), the staged copy is removed.
pub(crate) fn stream_results<A: Analysis>(
    analysis: &A,
    plan: &StreamPlan<'_>,
    rx: &Receiver<Msg<A::Item>>,
) -> Result<Streamed, ComputeError> {
    let file = output::stage(plan.paths)?;
    match fill(analysis, plan, &file, rx) {
        Ok(streamed) => output::commit(file, plan.paths).map(|()| streamed),
        Err(e) => {
            drop(file);
            output::discard(plan.paths);
            Err(e)
        }
    }
}

fn fill<A: Analysis>(
    analysis: &A,
    plan: &StreamPlan<'_>,
    file: &hdf5::File,
    rx: &Receiver<Msg<A::Item>>,
) -> Result<Streamed, ComputeError> {
    let (out, read_err) = (|e| plan.write_error(e), |e| plan.read_error(e));
    let group = ResultsGroup::make(analysis, plan, file).map_err(out)?;
    // Each format's target, borrowed by the writer for as long as it writes.
    let (usid_target, nsid_target);
    let writer = match &group {
        ResultsGroup::Usid(g) => {
            usid_target = g.target();
            analysis.begin_write(&usid_target)
        }
        ResultsGroup::Nsid { group, source, dims, position_axes } => {
            nsid_target = NsidWriteTarget { group, source, dims, position_axes: *position_axes };
            analysis.begin_write_nsid(&nsid_target)
        }
    }
    .map_err(out)?;
    let mut tally = Tally { writer, plan, pixels: 0, streamed: Streamed::default() };
    let replay = match plan.replay {
        0 => None,
        limit => Records::open(plan.checkpoint, plan.info.fingerprint, limit).map_err(read_err)?,
    };
    write_all(&mut tally, replay, rx)?;
    if tally.pixels != plan.n_pixels {
        return Err(ComputeError::Internal(format!(
            "{} of {} pixels have results at the end of the run",
            tally.pixels, plan.n_pixels
        )));
    }
    let Tally { writer, streamed, .. } = tally;
    let t = Instant::now();
    writer.finish().map_err(out)?;
    let seconds = t.elapsed().as_secs_f64();
    Ok(Streamed {
        group: group.path(),
        seconds_busy: streamed.seconds_busy + seconds,
        seconds_longest: streamed.seconds_longest.max(seconds),
        ..streamed
    })
}

/// Write every batch `rx` sends, up to its finish, and every batch of `replay` (the checkpoint's
/// of an earlier run) while none waits, then the rest of them.
fn write_all<T: bytemuck::Pod>(
    tally: &mut Tally<'_, '_, T>,
    mut replay: Option<Records>,
    rx: &Receiver<Msg<T>>,
) -> Result<(), ComputeError> {
    let plan = tally.plan;
    let (out, read_err) = (|e| plan.write_error(e), |e| plan.read_error(e));
    loop {
        // The batches sent now come first (their sender waits while the queue is full); the
        // checkpoint's are written while none waits.
        let msg = match (rx.try_recv(), replay.as_mut()) {
            (Ok(m), _) => Some(m),
            (Err(TryRecvError::Empty), Some(records)) => {
                match records.next_batch::<T>().map_err(read_err)? {
                    Some(b) => tally.write(&b).map_err(out)?,
                    None => replay = None,
                }
                continue;
            }
            (Err(TryRecvError::Empty), None) => rx.recv().ok(),
            (Err(TryRecvError::Disconnected), _) => None,
        };
        match msg {
            Some(Msg::Batch(b)) => tally.write(&b).map_err(out)?,
            Some(Msg::Finish) => break,
            None => {
                return Err(ComputeError::Interrupted(
                    "the run ended before its results were complete".into(),
                ))
            }
        }
    }
    while let Some(b) = replay.as_mut().map(|r| r.next_batch::<T>()).transpose().map_err(read_err)?.flatten()
    {
        tally.write(&b).map_err(out)?;
    }
    Ok(())
}

/// The writer and what it has written so far.
struct Tally<'w, 'p, T> {
    writer: Box<dyn ResultsWriter<T> + 'w>,
    plan: &'p StreamPlan<'p>,
    pixels: u64,
    streamed: Streamed,
}

impl<'w, 'p, T> Tally<'w, 'p, T> {
    /// Write each row range of `batch` (one that does not fit the source is skipped, as at the
    /// start: see `Batch::fits`).
    fn write(&mut self, batch: &Batch<T>) -> Result<(), UsidError> {
        if !batch.fits(self.plan.n_pixels) {
            return Ok(());
        }
        let t = Instant::now();
        let (counts, items) = (&batch.items.counts, &batch.items.items);
        let (mut row, mut item) = (0usize, 0usize);
        for r in batch.rows.ranges() {
            let spectra = (r.end - r.start) as usize * self.plan.per_pixel;
            let c = counts
                .get(row..row + spectra)
                .ok_or_else(|| UsidError("a batch holds too few spectra".into()))?;
            let n: usize = c.iter().map(|&k| k as usize).sum();
            let it =
                items.get(item..item + n).ok_or_else(|| UsidError("a batch holds too few items".into()))?;
            self.writer.write_rows(r.clone(), c, it)?;
            (row, item) = (row + spectra, item + n);
            self.pixels += r.end - r.start;
        }
        self.streamed.items += item as u64;
        let seconds = t.elapsed().as_secs_f64();
        self.streamed.seconds_busy += seconds;
        self.streamed.seconds_longest = self.streamed.seconds_longest.max(seconds);
        Ok(())
    }
}
