//! The rayon pools the analysis runs on, and where their threads run.
//!
//! A pool with one thread for each CPU the process may run on keeps each thread on one of those
//! CPUs ([`Binding::Auto`]). Why: when a call into an idle pool wakes its threads, Linux may
//! place the second one on the CPU of the first (the other CPU looks busy at that instant: the
//! thread that called `install` is still on it, about to block), and then keeps it there as
//! cache-hot for milliseconds while the other CPU idles. Measured on 2 cores with 128 spectra of
//! 1 024 bins (12 ms calls), a quarter of the 2-thread calls ran both threads on one CPU and took
//! as long as one thread; bound threads cannot be stacked that way. This is what OpenMP's
//! `OMP_PROC_BIND` and MPI launchers' `--bind-to` do for their threads and ranks.
//!
//! A pool with fewer threads than the process's CPUs is left to the OS: which CPUs to leave idle
//! is not ours to choose. Nor are pools of ranks that share their node's CPUs (a launcher that
//! did not bind them): two ranks binding their threads to the same CPUs would halve both.

use rayon::{ThreadPool, ThreadPoolBuilder};

/// Whether a pool's threads are bound to CPUs (`find --bind-threads`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Binding {
    /// Thread i on the i-th CPU of the process's CPU set, when the pool has one thread per CPU of
    /// it and no other rank on the node may run on the same CPUs; otherwise as `none`.
    #[default]
    Auto,
    /// Never bound: the OS places the threads.
    None,
}

/// A pool of `threads` threads (0: one per CPU the process may run on) for a rank that shares its
/// node with `node_ranks - 1` others, its threads bound as `binding` says.
pub fn thread_pool(threads: usize, binding: Binding, node_ranks: usize) -> Result<ThreadPool, String> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let builder = ThreadPoolBuilder::new().num_threads(threads);
    let builder = match cpus_to_bind(threads, binding, node_ranks) {
        // A thread that cannot be bound runs where the OS puts it, as with `Binding::None`:
        // binding is about speed, never about results.
        Some(cpus) => builder.start_handler(move |i| {
            let _ = affinity::bind_current_thread(cpus[i % cpus.len()]);
        }),
        None => builder,
    };
    builder.build().map_err(|e| format!("cannot start {threads} threads: {e}"))
}

/// The CPUs the pool's threads are bound to, one per thread, or `None` to leave them unbound.
fn cpus_to_bind(threads: usize, binding: Binding, node_ranks: usize) -> Option<Vec<usize>> {
    if binding == Binding::None || threads < 2 {
        return None;
    }
    let mine = affinity::allowed_cpus()?;
    // Ranks left unbound by their launcher each see the whole node: their sets overlap.
    let disjoint = mine.len().saturating_mul(node_ranks.max(1)) <= super::world::online_cpus();
    (mine.len() == threads && disjoint).then_some(mine)
}

#[cfg(target_os = "linux")]
pub(crate) mod affinity {
    /// The CPUs the calling thread may run on, in ascending order.
    pub fn allowed_cpus() -> Option<Vec<usize>> {
        // SAFETY: a zeroed cpu_set_t is an empty set; sched_getaffinity writes at most its size.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
        if rc != 0 {
            return None;
        }
        // SAFETY: CPU_ISSET reads the set within its size (CPU_SETSIZE bits).
        Some((0..libc::CPU_SETSIZE as usize).filter(|&c| unsafe { libc::CPU_ISSET(c, &set) }).collect())
    }

    /// Keep the calling thread on `cpu`.
    pub fn bind_current_thread(cpu: usize) -> std::io::Result<()> {
        // SAFETY: as above; pid 0 is the calling thread.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        unsafe { libc::CPU_SET(cpu, &mut set) };
        let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
}

/// Elsewhere threads are not bound.
#[cfg(not(target_os = "linux"))]
pub(crate) mod affinity {
    pub fn allowed_cpus() -> Option<Vec<usize>> {
        None
    }

    pub fn bind_current_thread(_cpu: usize) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Each pool thread's allowed CPUs, by thread index.
    fn cpus_of_threads(pool: &ThreadPool) -> Vec<Vec<usize>> {
        pool.broadcast(|_| affinity::allowed_cpus().expect("sched_getaffinity"))
    }

    #[test]
    fn a_pool_with_a_thread_per_cpu_binds_thread_i_to_the_ith_cpu() {
        let mine = affinity::allowed_cpus().expect("sched_getaffinity");
        if mine.len() < 2 {
            eprintln!("skipped: this process may run on {} CPU; binding needs two", mine.len());
            return;
        }
        let pool = thread_pool(mine.len(), Binding::Auto, 1).unwrap();
        let expected: Vec<Vec<usize>> = mine.iter().map(|&c| vec![c]).collect();
        assert_eq!(cpus_of_threads(&pool), expected);
    }

    #[test]
    fn other_pools_are_left_to_the_os() {
        let mine = affinity::allowed_cpus().expect("sched_getaffinity");
        let unbound = |pool: ThreadPool| cpus_of_threads(&pool).iter().all(|c| *c == mine);
        // Asked not to bind.
        assert!(unbound(thread_pool(mine.len(), Binding::None, 1).unwrap()));
        // Fewer threads than CPUs, or more.
        if mine.len() > 2 {
            assert!(unbound(thread_pool(mine.len() - 1, Binding::Auto, 1).unwrap()));
        }
        assert!(unbound(thread_pool(mine.len() + 1, Binding::Auto, 1).unwrap()));
        // Another rank on the node sees the same CPUs.
        let online = crate::compute::world::online_cpus();
        if mine.len() * 2 > online {
            assert!(unbound(thread_pool(mine.len(), Binding::Auto, 2).unwrap()));
        }
    }

    #[test]
    fn ranks_bound_to_disjoint_cpus_by_their_launcher_bind_their_threads() {
        let mine = affinity::allowed_cpus().expect("sched_getaffinity");
        let online = crate::compute::world::online_cpus();
        // As two ranks that mpirun bound to halves of the node see it.
        let bound = cpus_to_bind(mine.len(), Binding::Auto, online / mine.len().max(1));
        assert_eq!(bound.as_deref(), (mine.len() >= 2).then_some(&mine[..]));
    }
}
