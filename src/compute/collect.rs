//! Where the results of the batches go: every rank sends its batch to rank 0 ([`Collector`]),
//! which checkpoints each and hands it to the results writer (`stream.rs`), or, for a run written
//! whole at the end, reads them all back from the checkpoint, put in row order by [`assemble`].

use std::path::Path;

use super::analysis::RowItems;
use super::batches::fail_job;
use super::checkpoint::{decode_batch, Batch, Checkpoint, Loaded, Records};
use super::progress::Progress;
use super::stream::Sink;
use super::world::{Patience, Vote, World};
use super::ComputeError;

/// Where every rank's results of a batch go: rank 0 appends every batch (all ranks') to the
/// checkpoint and hands it to the results writer, if one writes during the run; the other ranks
/// only send theirs.
pub(crate) struct Collector<'a, 's, T> {
    world: &'a World,
    checkpoint: Option<Checkpoint>,
    ck_path: &'a Path,
    /// The results writer's queue (rank 0, while results are written during the run).
    pub sink: Option<Sink<'s, T>>,
    /// What a rank says if the job ends on a silent rank: where the progress is.
    resume: &'a str,
    /// Pixels gathered so far by this run (rank 0).
    computed: u64,
    per_pixel: u64,
}

/// What rank 0 collected: the pixels this run computed, the checkpoint (every batch, the resumed
/// ones included; removed once the results are written) and the writer's queue.
pub(crate) struct Collected<'s, T> {
    pub computed: u64,
    pub checkpoint: Option<Checkpoint>,
    pub sink: Option<Sink<'s, T>>,
}

impl<'a, 's, T: bytemuck::Pod> Collector<'a, 's, T> {
    /// Rank 0 opens the checkpoint `ck_path` (continuing after the records `loaded` from it)
    /// before the first batch; the other ranks only send. `resume` ends the line if a silent
    /// rank ends the job.
    pub(crate) fn new(
        world: &'a World,
        ck_path: &'a Path,
        resume: &'a str,
        fingerprint: &str,
        loaded: Option<&Loaded>,
        per_pixel: usize,
    ) -> Result<Self, ComputeError> {
        let mut collector = Collector {
            world,
            checkpoint: None,
            ck_path,
            sink: None,
            resume,
            computed: 0,
            per_pixel: per_pixel as u64,
        };
        if world.is_root() {
            let ck = Checkpoint::open(ck_path, fingerprint, loaded).map_err(|e| {
                ComputeError::Output(format!("cannot write the checkpoint {}: {e}", ck_path.display()))
            })?;
            collector.checkpoint = Some(ck);
        }
        Ok(collector)
    }

    /// What rank 0 collected (nothing on the other ranks).
    pub(crate) fn finish(self) -> Collected<'s, T> {
        Collected { computed: self.computed, checkpoint: self.checkpoint, sink: self.sink }
    }

    /// Send this rank's encoded batch (`bytes`) and its `vote` to rank 0, which checkpoints every
    /// rank's batch and hands it to the writer; returns the job's vote (any rank's stop, every rank's
    /// slowest step). A collective: every rank calls it once per
    /// batch, in the same order, waiting on the others under `patience` (a long wait shows in
    /// `progress`; a silent rank ends the job). A failure here ends every rank (see
    /// [`fail_job`]); alone, it comes back as the error.
    pub(crate) fn exchange(
        &mut self,
        bytes: &[u8],
        vote: Vote,
        progress: &Progress,
        patience: Patience,
    ) -> Result<Vote, ComputeError> {
        let world = self.world;
        let waiting =
            |peer: Option<usize>| progress.waiting(peer.map(|p| format!("rank {p} on {}", world.host(p))));
        let patience = Patience { waiting: &waiting, resume: self.resume, ..patience };
        let (gathered, job) = world.exchange(bytes, vote, &patience);
        for b in gathered.iter().flat_map(|g| g.parts()) {
            let piece = decode_batch::<T>(b).ok_or_else(|| {
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
            if let Some(sink) = &self.sink {
                // The writer stopped (a full disk): its error ends the job, the checkpoint kept.
                sink.send(piece).map_err(|e| fail_job(world, e))?;
            }
        }
        progress.set_global(self.computed * self.per_pixel);
        Ok(job)
    }
}

/// Every batch of the checkpoint at `path` (of the run with `fingerprint`) that fits `n_pixels`,
/// read back whole: for a run written whole at the end.
pub(crate) fn read_back<T: bytemuck::Pod>(
    path: &Path,
    fingerprint: &str,
    n_pixels: u64,
) -> Result<Vec<Batch<T>>, ComputeError> {
    let err = |e: std::io::Error| {
        ComputeError::Output(format!("cannot read the checkpoint {}: {e}", path.display()))
    };
    let mut batches = Vec::new();
    if let Some(mut records) = Records::open(path, fingerprint, u64::MAX).map_err(err)? {
        while let Some(b) = records.next_batch::<T>().map_err(err)? {
            if b.fits(n_pixels) {
                batches.push(b);
            }
        }
    }
    Ok(batches)
}

/// All spectra's items in row (pixel) order, `per_pixel` spectra per row, from batches that
/// together cover every row once.
pub(crate) fn assemble<T: bytemuck::Pod>(
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
