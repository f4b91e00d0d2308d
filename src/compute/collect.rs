//! Where the results of the batches go: every rank sends its batch to rank 0 ([`Collector`]),
//! which checkpoints each and keeps them all for the final write, put in row order by
//! [`assemble`].

use std::path::Path;

use super::analysis::RowItems;
use super::batches::fail_job;
use super::checkpoint::{decode_batch, Batch, Checkpoint, Loaded};
use super::progress::Progress;
use super::world::{Patience, World};
use super::ComputeError;

/// Where every rank's results of a batch go: rank 0 keeps every batch (all ranks') for the final
/// write and appends each to the checkpoint; the other ranks only send theirs.
pub(crate) struct Collector<'a, T> {
    world: &'a World,
    checkpoint: Option<Checkpoint>,
    ck_path: &'a Path,
    pieces: Vec<Batch<T>>,
    /// What a rank says if the job ends on a silent rank: where the progress is.
    resume: &'a str,
    /// Pixels gathered so far by this run (rank 0).
    computed: u64,
    per_pixel: u64,
}

/// What rank 0 collected: every batch (the resumed ones included), the pixels this run computed,
/// and the checkpoint, to remove once the results are written.
pub(crate) struct Collected<T> {
    pub pieces: Vec<Batch<T>>,
    pub computed: u64,
    pub checkpoint: Option<Checkpoint>,
}

impl<'a, T: bytemuck::Pod> Collector<'a, T> {
    /// Rank 0 opens the checkpoint `ck_path` (keeping the batches `loaded` from it) before the
    /// first batch; the other ranks only send. `resume` ends the line if a silent rank ends the
    /// job.
    pub(crate) fn new(
        world: &'a World,
        ck_path: &'a Path,
        resume: &'a str,
        fingerprint: &str,
        loaded: Option<Loaded<T>>,
        per_pixel: usize,
    ) -> Result<Self, ComputeError> {
        let mut collector = Collector {
            world,
            checkpoint: None,
            ck_path,
            pieces: Vec::new(),
            resume,
            computed: 0,
            per_pixel: per_pixel as u64,
        };
        if world.is_root() {
            let ck = Checkpoint::open::<T>(ck_path, fingerprint, loaded.as_ref()).map_err(|e| {
                ComputeError::Output(format!("cannot write the checkpoint {}: {e}", ck_path.display()))
            })?;
            collector.checkpoint = Some(ck);
            collector.pieces = loaded.map(|l| l.batches).unwrap_or_default();
        }
        Ok(collector)
    }

    /// What rank 0 collected (nothing on the other ranks).
    pub(crate) fn finish(self) -> Collected<T> {
        Collected { pieces: self.pieces, computed: self.computed, checkpoint: self.checkpoint }
    }

    /// Send this rank's encoded batch (`bytes`) to rank 0, which keeps and checkpoints every
    /// rank's; returns whether any rank says `stop`. A collective: every rank calls it once per
    /// batch, in the same order, waiting on the others under `patience` (a long wait shows in
    /// `progress`; a silent rank ends the job). A failure here ends every rank (see
    /// [`fail_job`]); alone, it comes back as the error.
    pub(crate) fn exchange(
        &mut self,
        bytes: &[u8],
        stop: bool,
        progress: &Progress,
        patience: Patience,
    ) -> Result<bool, ComputeError> {
        let world = self.world;
        let waiting =
            |peer: Option<usize>| progress.waiting(peer.map(|p| format!("rank {p} on {}", world.host(p))));
        let patience = Patience { waiting: &waiting, resume: self.resume, ..patience };
        let (gathered, any) = world.exchange(bytes, stop, &patience);
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
            self.pieces.push(piece);
        }
        progress.set_global(self.computed * self.per_pixel);
        Ok(any)
    }
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
