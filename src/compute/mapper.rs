//! The engine's inner loop ([`RowMapper`]): an [`Analysis`] over every spectrum of a block in
//! memory, on the current rayon pool, in tasks of a size that suits the analysis's batching and
//! balances the threads, with one scratch per thread ([`Scratches`], which
//! [`super::parallel_compute_init`] uses for its per-thread state too).

use rayon::prelude::*;

use super::analysis::{Analysis, RowItems, Rows};

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

/// The engine's inner loop: `analysis` over every spectrum of a block in memory, on the current
/// rayon pool, each thread's working memory (the analysis's scratch) made once and kept from one
/// call to the next — as a run keeps it from batch to batch, and as `usid-peaks bench` times it.
pub(crate) struct RowMapper<'a, A: Analysis> {
    analysis: &'a A,
    scratches: Scratches<A::Scratch>,
}

impl<'a, A: Analysis> RowMapper<'a, A> {
    /// A mapper for pools of up to `threads` threads.
    pub(crate) fn new(analysis: &'a A, threads: usize) -> Self {
        RowMapper { analysis, scratches: Scratches::new(threads) }
    }

    /// Every spectrum's items, in order, for `rows` of `len` values each; run it inside
    /// `pool.install` to choose the threads.
    pub(crate) fn map(&self, rows: Rows<'_>, len: usize) -> RowItems<A::Item> {
        self.map_counted(rows, len, &|_| {})
    }

    /// [`RowMapper::map`], telling `done` how many spectra each finished task computed.
    pub(crate) fn map_counted(
        &self,
        data: Rows<'_>,
        len: usize,
        done: &(dyn Fn(u64) + Sync),
    ) -> RowItems<A::Item> {
        let (analysis, scratches) = (self.analysis, &self.scratches);
        let n = data.len().checked_div(len).unwrap_or(0);
        let per_task = rows_per_task(n, len, rayon::current_num_threads());
        let parts: Vec<RowItems<A::Item>> = (0..n.div_ceil(per_task))
            .into_par_iter()
            .map(|t| {
                let (a, b) = (t * per_task, ((t + 1) * per_task).min(n));
                let mut out = RowItems::with_capacity(b - a);
                scratches.with_mine(
                    || analysis.new_scratch(),
                    |s| analysis.process(data.slice_rows(a, b, len), s, &mut out),
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
}

/// One scratch per pool thread, made once per run by the thread that uses it (so in parallel,
/// and its pages first touched where they are used): rayon's `map_init` would make one per work
/// split, i.e. many per batch, each a fresh allocation of the analysis's working memory.
pub(crate) struct Scratches<S>(Vec<Slot<S>>);

/// One thread's scratch, alone on its cache lines: a scratch's vectors change their lengths all
/// the time, and two threads writing to one line (the end of one slot, the start of the next)
/// would pass it back and forth between their cores.
#[repr(align(128))]
struct Slot<S>(std::sync::Mutex<Option<S>>);

impl<S> Scratches<S> {
    pub(crate) fn new(threads: usize) -> Self {
        Scratches((0..threads.max(1)).map(|_| Slot(std::sync::Mutex::new(None))).collect())
    }
    /// Run `f` with the calling pool thread's scratch (uncontended: no two threads share an
    /// index), made by `make` on first use.
    pub(crate) fn with_mine<R>(&self, make: impl FnOnce() -> S, f: impl FnOnce(&mut S) -> R) -> R {
        let i = rayon::current_thread_index().unwrap_or(0) % self.0.len();
        let mut slot = self.0[i].0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(slot.get_or_insert_with(make))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::compute::{Param, WriteTarget};
    use crate::usid::UsidError;

    /// Each spectrum's items: its first value and its length, as the analysis saw them; counts the
    /// scratches it was asked for.
    struct Probe {
        scratches: AtomicUsize,
    }

    impl Analysis for Probe {
        type Item = u32;
        type Scratch = Vec<u32>;
        fn name(&self) -> &str {
            "Probe"
        }
        fn parameters(&self) -> Vec<(String, Param)> {
            Vec::new()
        }
        fn new_scratch(&self) -> Vec<u32> {
            self.scratches.fetch_add(1, Ordering::SeqCst);
            Vec::new()
        }
        fn process(&self, rows: Rows<'_>, scratch: &mut Vec<u32>, out: &mut RowItems<u32>) {
            let Rows::Float64(v) = rows else { return };
            for spectrum in v.chunks_exact(3) {
                scratch.clear();
                scratch.extend([spectrum[0] as u32, spectrum.len() as u32]);
                out.push_row(&scratch[..(spectrum[0] as usize % 3)]);
            }
        }
        fn write(&self, _: &RowItems<u32>, _: &WriteTarget<'_>) -> Result<(), UsidError> {
            Ok(())
        }
    }

    #[test]
    fn the_mapper_gives_every_spectrum_its_items_in_order_on_any_threads_with_one_scratch_each() {
        for n in [0, 1, 2, 7, 128, 129, 1000] {
            let data: Vec<f64> = (0..n * 3).map(|i| (i / 3) as f64).collect();
            let mut expected = RowItems::default();
            for s in 0..n as u32 {
                expected.push_row(&[s, 3][..(s as usize % 3)]);
            }
            for threads in 1..=4 {
                let probe = Probe { scratches: AtomicUsize::new(0) };
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let mapper = RowMapper::new(&probe, threads);
                for _ in 0..3 {
                    let got = pool.install(|| mapper.map(Rows::Float64(&data), 3));
                    assert_eq!(got, expected, "{n} spectra on {threads} threads");
                }
                // Kept from call to call: at most one per thread however many tasks and calls.
                assert!(probe.scratches.load(Ordering::SeqCst) <= threads, "{n} spectra, {threads} threads");
            }
        }
    }

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
