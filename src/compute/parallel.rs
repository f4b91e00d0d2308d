//! The one-call API for arrays already in memory: pyUSID's `parallel_compute`.

use ndarray::{ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

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
/// [`crate::cwt::Scratch`]) per worker split, and `f` gets it with every row, so the hot loop
/// allocates nothing per row.
pub fn parallel_compute_init<T, S, R, I, F>(data: ArrayView2<'_, T>, threads: usize, init: I, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, ArrayView1<'_, T>) -> R + Sync,
{
    in_pool(threads, || data.axis_iter(Axis(0)).into_par_iter().map_init(&init, &f).collect())
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
