//! The one-call API for arrays already in memory: pyUSID's `parallel_compute`.

use ndarray::{ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

use super::mapper::Scratches;
use super::pool::{thread_pool, Binding};

/// Apply `f` to every row of `data` on `threads` threads (0: all cores) and return the results in
/// row order — pyUSID's `parallel_compute(data, func, cores)`.
///
/// Constant parameters are captured by the closure, as the Python version does with
/// `functools.partial`:
///
/// ```
/// use ndarray::Array2;
/// use usid_peaks::compute::parallel_compute;
///
/// let data = Array2::from_shape_fn((4, 3), |(r, c)| (r * 3 + c) as f64);
/// let scale = 2.0;
/// let sums = parallel_compute(data.view(), 2, |row| row.sum() * scale);
/// assert_eq!(sums, vec![6.0, 24.0, 42.0, 60.0]);
/// ```
pub fn parallel_compute<T, R, F>(data: ArrayView2<'_, T>, threads: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(ArrayView1<'_, T>) -> R + Sync,
{
    in_pool(threads, || data.axis_iter(Axis(0)).into_par_iter().map(&f).collect())
}

/// [`parallel_compute`] with per-thread state: `init` makes one state (e.g. a
/// [`crate::cwt::Scratch`]) per pool thread, once, and `f` gets it with every row, so the hot
/// loop allocates nothing per row — the engine's own per-thread scratches, not
/// one state per work split as rayon's `map_init` would make.
pub fn parallel_compute_init<T, S, R, I, F>(data: ArrayView2<'_, T>, threads: usize, init: I, f: F) -> Vec<R>
where
    T: Sync,
    S: Send,
    R: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, ArrayView1<'_, T>) -> R + Sync,
{
    in_pool(threads, || {
        let states = Scratches::new(rayon::current_num_threads());
        data.axis_iter(Axis(0)).into_par_iter().map(|row| states.with_mine(&init, |s| f(s, row))).collect()
    })
}

/// `run` in a pool of `threads` threads (0: rayon's default, all cores). Not bound to CPUs: `f` is
/// anyone's code, and threads it started on a bound thread would all share that thread's CPU.
fn in_pool<R: Send>(threads: usize, run: impl FnOnce() -> R + Send) -> R {
    match thread_pool(threads, Binding::None, 1) {
        Ok(pool) => pool.install(run),
        // A pool cannot be built (e.g. the OS refuses threads): the global pool still gives the
        // same results.
        Err(_) => run(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use ndarray::Array2;

    use super::*;

    #[test]
    fn per_thread_state_is_made_once_per_thread_and_results_keep_row_order() {
        let data = Array2::from_shape_fn((1000, 4), |(r, c)| (r * 4 + c) as u64);
        let made = AtomicUsize::new(0);
        for threads in [1, 2, 3] {
            made.store(0, Ordering::SeqCst);
            let init = || {
                made.fetch_add(1, Ordering::SeqCst);
                0u64
            };
            let sums = parallel_compute_init(data.view(), threads, init, |seen: &mut u64, row| {
                *seen += 1;
                row.sum()
            });
            assert_eq!(sums, parallel_compute(data.view(), 1, |row| row.sum()));
            assert!(made.load(Ordering::SeqCst) <= threads, "{threads} threads");
        }
    }
}
