//! The rayon pools the analysis runs on, and where their threads run.
//!
//! A pool with one thread for each CPU the calling thread may run on keeps each thread on one of
//! those CPUs ([`Binding::Auto`]). Why: when a call into an idle pool wakes its threads, Linux may
//! place the second one on the CPU of the first (the other CPU looks busy at that instant: the
//! thread that called `install` is still on it, about to block), and then keeps it there as
//! cache-hot for milliseconds while the other CPU idles. Measured on 2 cores with 128 spectra of
//! 1 024 bins (12 ms calls), 12 to 31 of 51 two-thread calls ran both threads on one CPU and took
//! as long as one thread; bound, none did. This is what `OMP_PROC_BIND=close` does for OpenMP
//! threads and MPI launchers' `--bind-to` for ranks.
//!
//! Left to the OS: a pool with fewer threads than CPUs (which CPUs to leave idle is not ours to
//! choose); the pools of ranks whose CPU sets may overlap, judged by count — the node's ranks of
//! this job times the CPUs each may use exceed the node's CPUs, as when a launcher did not bind
//! them (two ranks binding their threads to the same CPUs would halve both); and every pool when
//! `OMP_PROC_BIND=false` is set. Threads started from a bound thread inherit its one CPU, as they
//! do under any launcher's binding: code that runs on a bound pool starts no threads of its own.

use rayon::{ThreadPool, ThreadPoolBuilder};

/// Whether a pool's threads are bound to CPUs (`find` and `bench --bind-threads`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Binding {
    /// Thread i on the i-th CPU the calling thread may run on, when the pool has one thread per
    /// such CPU and the node's ranks cannot share them; otherwise (or with `OMP_PROC_BIND=false`)
    /// as `none`.
    #[default]
    Auto,
    /// Never bound: the OS places the threads.
    None,
}

/// A rayon pool, and whether its threads are bound to CPUs.
pub struct Pool {
    threads: ThreadPool,
    bound: bool,
}

impl Pool {
    /// Whether each thread runs on one CPU of its own.
    pub fn bound(&self) -> bool {
        self.bound
    }
}

impl std::ops::Deref for Pool {
    type Target = ThreadPool;
    fn deref(&self) -> &ThreadPool {
        &self.threads
    }
}

/// A pool of `threads` threads (0: rayon's default, never bound) for a rank that shares its node
/// with `node_ranks - 1` others of its job, its threads bound as `binding` says.
pub fn thread_pool(threads: usize, binding: Binding, node_ranks: usize) -> Result<Pool, String> {
    let proc_bind_false =
        std::env::var("OMP_PROC_BIND").is_ok_and(|v| v.trim().eq_ignore_ascii_case("false"));
    let binding = if proc_bind_false { Binding::None } else { binding };
    let cpus = match binding {
        Binding::Auto => affinity::allowed_cpus()
            .and_then(|mine| cpus_to_bind(mine, threads, node_ranks, super::world::online_cpus())),
        Binding::None => None,
    };
    let bound = cpus.is_some();
    let builder = ThreadPoolBuilder::new().num_threads(threads);
    let builder = match cpus {
        // A thread that cannot be bound runs where the OS puts it, as with `Binding::None`:
        // binding is about speed, never about results.
        Some(cpus) => builder.start_handler(move |i| {
            let _ = affinity::bind_current_thread(cpus[i % cpus.len()]);
        }),
        None => builder,
    };
    let threads = builder.build().map_err(|e| format!("cannot start {threads} threads: {e}"))?;
    Ok(Pool { threads, bound })
}

/// The CPUs a pool of `threads` threads is bound to, one per thread, given the CPUs the calling
/// thread may run on (`mine`), this job's ranks on the node and the node's online CPUs; `None`:
/// leave the threads to the OS.
fn cpus_to_bind(mine: Vec<usize>, threads: usize, node_ranks: usize, online: usize) -> Option<Vec<usize>> {
    // Ranks left unbound by their launcher each see the whole node: their sets overlap.
    let disjoint = mine.len().saturating_mul(node_ranks.max(1)) <= online;
    (threads >= 2 && mine.len() == threads && disjoint).then_some(mine)
}

#[cfg(target_os = "linux")]
pub(crate) mod affinity {
    /// CPUs a `cpu_set_t` can name (1 024 with glibc; musl's `CPU_SETSIZE` says 128 of them).
    const SET_BITS: usize = 8 * std::mem::size_of::<libc::cpu_set_t>();

    /// The CPUs the calling thread may run on, in ascending order.
    pub fn allowed_cpus() -> Option<Vec<usize>> {
        // SAFETY: a zeroed cpu_set_t is an empty set; sched_getaffinity writes at most its size
        // (and fails on a machine whose CPU numbers do not fit it: then nothing is bound).
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
        if rc != 0 {
            return None;
        }
        // SAFETY: CPU_ISSET reads the set within its size.
        Some((0..SET_BITS).filter(|&c| unsafe { libc::CPU_ISSET(c, &set) }).collect())
    }

    /// Keep the calling thread on `cpu`.
    pub fn bind_current_thread(cpu: usize) -> std::io::Result<()> {
        if cpu >= SET_BITS {
            return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: as above, `cpu` within the set; pid 0 is the calling thread.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_with_one_thread_per_cpu_of_its_set_takes_those_cpus_in_order() {
        // Half of an 8-CPU node, as a launcher that bound two ranks to its halves leaves them.
        let half = || vec![4, 5, 6, 7];
        assert_eq!(cpus_to_bind(half(), 4, 2, 8), Some(half()));
        assert_eq!(cpus_to_bind(half(), 4, 1, 8), Some(half()));
        assert_eq!(cpus_to_bind(vec![0, 1], 2, 1, 2), Some(vec![0, 1]));
    }

    #[test]
    fn pools_that_do_not_own_their_cpus_are_left_to_the_os() {
        let half = || vec![4, 5, 6, 7];
        // Fewer threads than CPUs, or more.
        assert_eq!(cpus_to_bind(half(), 3, 1, 8), None);
        assert_eq!(cpus_to_bind(half(), 5, 1, 8), None);
        // Three ranks cannot each have 4 of 8 CPUs to themselves; two unbound ranks see all 8.
        assert_eq!(cpus_to_bind(half(), 4, 3, 8), None);
        assert_eq!(cpus_to_bind((0..8).collect(), 8, 2, 8), None);
        // One thread (or rayon's default) has nothing to gain.
        assert_eq!(cpus_to_bind(vec![3], 1, 1, 8), None);
        assert_eq!(cpus_to_bind(vec![3], 0, 1, 8), None);
    }

    /// Each pool thread's allowed CPUs, by thread index.
    #[cfg(target_os = "linux")]
    fn cpus_of_threads(pool: &ThreadPool) -> Vec<Vec<usize>> {
        pool.broadcast(|_| affinity::allowed_cpus().expect("sched_getaffinity"))
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn bound_threads_run_on_one_cpu_each_and_unbound_ones_where_the_process_may() {
        let mine = affinity::allowed_cpus().expect("sched_getaffinity");
        if std::env::var_os("OMP_PROC_BIND").is_some() {
            eprintln!("skipped: OMP_PROC_BIND is set");
            return;
        }
        let unbound = thread_pool(mine.len(), Binding::None, 1).unwrap();
        assert!(!unbound.bound());
        assert!(cpus_of_threads(&unbound).iter().all(|c| *c == mine));
        if mine.len() < 2 {
            eprintln!("skipped the bound pool: this thread may run on {} CPU; binding needs two", mine.len());
            return;
        }
        let bound = thread_pool(mine.len(), Binding::Auto, 1).unwrap();
        assert!(bound.bound());
        assert_eq!(cpus_of_threads(&bound), mine.iter().map(|&c| vec![c]).collect::<Vec<_>>());
    }
}
