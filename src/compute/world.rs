//! The set of processes a run spans: one plain process, or the ranks of an MPI job.
//!
//! MPI is initialised only when an MPI launcher started the process (mpirun, mpiexec, srun with a
//! PMI plugin): a plain run does not pay MPI's singleton start-up, and a build without the `mpi`
//! feature runs everywhere. Every collective the engine needs is a small method here, so the
//! engine reads the same with one rank or many.

use super::ComputeError;

/// Environment variables that MPI launchers set in each process they start.
const LAUNCHER_VARS: &[&str] = &[
    "OMPI_COMM_WORLD_SIZE", // OpenMPI's mpirun
    "PMIX_RANK",            // PMIx: OpenMPI >= 4, srun --mpi=pmix
    "PMI_RANK",             // PMI-1/2: MPICH/Hydra, Intel MPI, srun --mpi=pmi2
    "PMI_SIZE",
    "MPI_LOCALNRANKS", // MPICH's Hydra
];

/// The name of the variable that shows an MPI launcher started this process, if any.
fn launcher_variable() -> Option<&'static str> {
    LAUNCHER_VARS.iter().copied().find(|v| std::env::var_os(v).is_some())
}

/// The processes of this run and the collectives between them.
pub struct World {
    rank: usize,
    size: usize,
    node_ranks: usize,
    nodes: usize,
    #[cfg(feature = "mpi")]
    mpi: Option<MpiWorld>,
}

#[cfg(feature = "mpi")]
struct MpiWorld {
    // Dropping the universe finalises MPI, so it lives as long as the World.
    _universe: mpi::environment::Universe,
    world: mpi::topology::SimpleCommunicator,
}

impl World {
    /// A single process: no MPI at all.
    pub fn single() -> World {
        World {
            rank: 0,
            size: 1,
            node_ranks: 1,
            nodes: 1,
            #[cfg(feature = "mpi")]
            mpi: None,
        }
    }

    /// Join the MPI job if a launcher started us, else run as a single process.
    ///
    /// Refuses to run when a launcher started several processes that cannot form one MPI job
    /// (a build without MPI, or `srun` without an MPI plugin): each would think it is alone
    /// and they would all write the results.
    pub fn init() -> Result<World, ComputeError> {
        let slurm_tasks = env_usize("SLURM_STEP_NUM_TASKS").unwrap_or(1);
        let launched = launcher_variable();
        #[cfg(feature = "mpi")]
        {
            if launched.is_some() {
                let world = Self::init_mpi()?;
                if world.size == 1 && slurm_tasks > 1 {
                    return Err(ComputeError::Launch(format!(
                        "srun started {slurm_tasks} tasks but MPI sees each as alone; \
                         launch with `srun --mpi=pmix` (see slurm/README.md)"
                    )));
                }
                return Ok(world);
            }
        }
        #[cfg(not(feature = "mpi"))]
        {
            let launched_size =
                env_usize("OMPI_COMM_WORLD_SIZE").or_else(|| env_usize("PMI_SIZE")).unwrap_or(1);
            if launched.is_some() && launched_size.max(slurm_tasks) > 1 {
                return Err(ComputeError::Launch(
                    "this usid-peaks was built without MPI (--no-default-features) but was started \
                     by an MPI launcher with several ranks; run it as one process with --threads, \
                     or rebuild with the default features"
                        .into(),
                ));
            }
        }
        if slurm_tasks > 1 && std::env::var_os("SLURM_PROCID").is_some() {
            return Err(ComputeError::Launch(format!(
                "srun started {slurm_tasks} tasks without an MPI plugin; launch with \
                 `srun --mpi=pmix` (see slurm/README.md)"
            )));
        }
        Ok(World::single())
    }

    #[cfg(feature = "mpi")]
    fn init_mpi() -> Result<World, ComputeError> {
        use mpi::topology::Communicator;
        // Funneled: only the main thread calls MPI (rayon workers never do).
        let (universe, _) = mpi::initialize_with_threading(mpi::Threading::Funneled)
            .ok_or_else(|| ComputeError::Launch("MPI was already initialised".into()))?;
        let world = universe.world();
        let rank = world.rank() as usize;
        let size = world.size() as usize;
        let node_ranks = world.split_shared(world.rank()).size() as usize;
        let nodes = count_hosts(&world);
        install_abort_on_panic();
        Ok(World { rank, size, node_ranks, nodes, mpi: Some(MpiWorld { _universe: universe, world }) })
    }

    /// This process's rank, 0-based.
    pub fn rank(&self) -> usize {
        self.rank
    }
    /// Number of ranks in the job (1 without MPI).
    pub fn size(&self) -> usize {
        self.size
    }
    /// Whether this is rank 0, the one that talks to the user and writes results.
    pub fn is_root(&self) -> bool {
        self.rank == 0
    }
    /// Number of ranks on this node (shared-memory domain), for the default thread count.
    pub fn node_ranks(&self) -> usize {
        self.node_ranks
    }

    /// Number of distinct hosts (by hostname) among the job's ranks: the nodes a user asked for.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// The raw communicator for HDF5's mpio driver; `None` for a single process.
    #[cfg(feature = "mpi")]
    pub(crate) fn raw_comm(&self) -> Option<mpi::ffi::MPI_Comm> {
        use mpi::raw::AsRaw;
        self.mpi.as_ref().map(|m| m.world.as_raw())
    }

    /// Stop every rank of the job with `code`: the way out of a failure one rank alone sees,
    /// which would otherwise leave the others waiting in a collective until the wall-time limit.
    pub(crate) fn abort(&self, code: i32) -> ! {
        #[cfg(feature = "mpi")]
        if let Some(m) = &self.mpi {
            use mpi::topology::Communicator;
            m.world.abort(code);
        }
        std::process::exit(code)
    }

    /// The batch loop's one exchange: every rank's bytes on rank 0 (`None` on the others), and on
    /// every rank whether any rank says `flag` (how all ranks agree to stop at the same batch).
    /// The calling thread waits by polling, not spinning, so a rank that calls it while its pool
    /// computes leaves its cores to the pool.
    pub(crate) fn exchange(&self, local: &[u8], flag: bool) -> (Option<Gathered>, bool) {
        #[cfg(feature = "mpi")]
        if let Some(m) = &self.mpi {
            return exchange_mpi(&m.world, local, flag);
        }
        (Some(Gathered { bytes: local.to_vec(), lens: vec![local.len()] }), flag)
    }

    /// Rank 0's bytes, on every rank.
    pub(crate) fn broadcast_bytes(&self, root_bytes: Vec<u8>) -> Vec<u8> {
        #[cfg(feature = "mpi")]
        if let Some(m) = &self.mpi {
            return broadcast_bytes_mpi(&m.world, root_bytes);
        }
        root_bytes
    }
}

/// Every rank's bytes, gathered into one buffer on rank 0.
pub(crate) struct Gathered {
    bytes: Vec<u8>,
    /// Each rank's share of `bytes`, in rank order.
    lens: Vec<usize>,
}

impl Gathered {
    /// Each rank's bytes, in rank order.
    pub(crate) fn parts(&self) -> impl Iterator<Item = &[u8]> {
        self.lens.iter().scan(0usize, |at, &len| {
            let part = &self.bytes[*at..*at + len];
            *at += len;
            Some(part)
        })
    }
}

/// Every rank's bytes on rank 0 (in rank order; `None` elsewhere), and on every rank whether any
/// rank says `flag`. Two non-blocking collectives waited for by [`wait_polled`]: one all-gather of
/// every rank's (length, flag) — the vote and the sizes rank 0 needs, together — then the bytes.
#[cfg(feature = "mpi")]
fn exchange_mpi(
    world: &mpi::topology::SimpleCommunicator,
    local: &[u8],
    flag: bool,
) -> (Option<Gathered>, bool) {
    use mpi::collective::CommunicatorCollectives;
    use mpi::datatype::PartitionMut;
    use mpi::topology::Communicator;
    use mpi::traits::Root;
    let root = world.process_at_rank(0);
    let mine = [local.len() as u64, flag as u64];
    let mut both = vec![0u64; 2 * world.size() as usize];
    mpi::request::scope(|scope| {
        wait_polled(world.immediate_all_gather_into(scope, &mine[..], &mut both[..]));
    });
    let any = both.chunks_exact(2).any(|p| p[1] != 0);
    if world.rank() != 0 {
        mpi::request::scope(|scope| {
            wait_polled(root.immediate_gather_varcount_into(scope, local));
        });
        return (None, any);
    }
    let lens: Vec<u64> = both.chunks_exact(2).map(|p| p[0]).collect();
    let counts: Vec<i32> = lens.iter().map(|&l| l as i32).collect();
    let displs: Vec<i32> = counts
        .iter()
        .scan(0i32, |acc, &c| {
            let d = *acc;
            *acc += c;
            Some(d)
        })
        .collect();
    let total = lens.iter().sum::<u64>() as usize;
    let mut all = vec![0u8; total];
    {
        let mut partition = PartitionMut::new(&mut all[..], &counts[..], &displs[..]);
        mpi::request::scope(|scope| {
            wait_polled(root.immediate_gather_varcount_into_root(scope, local, &mut partition));
        });
    }
    (Some(Gathered { bytes: all, lens: lens.iter().map(|&l| l as usize).collect() }), any)
}

/// Wait for `request` by testing it every 50 µs: OpenMPI's own wait spins, and the thread that
/// waits here shares its cores with the pool computing the next batch.
#[cfg(feature = "mpi")]
fn wait_polled<'a, D: ?Sized, S: mpi::request::Scope<'a>>(request: mpi::request::Request<'a, D, S>) {
    let mut request = request;
    loop {
        match request.test() {
            Ok(_) => return,
            Err(pending) => request = pending,
        }
        std::thread::sleep(std::time::Duration::from_micros(50));
    }
}

#[cfg(feature = "mpi")]
fn broadcast_bytes_mpi(world: &mpi::topology::SimpleCommunicator, root_bytes: Vec<u8>) -> Vec<u8> {
    use mpi::topology::Communicator;
    use mpi::traits::Root;
    let root = world.process_at_rank(0);
    let mut len = root_bytes.len() as u64;
    root.broadcast_into(&mut len);
    let mut buf = if world.rank() == 0 { root_bytes } else { vec![0u8; len as usize] };
    root.broadcast_into(&mut buf[..]);
    buf
}

/// The distinct hostnames among all ranks. By name, not by shared-memory domain: that is what
/// "nodes" means in a job's request and its accounting. One collective: every rank contributes its
/// name in a fixed-size buffer and counts the distinct ones itself.
#[cfg(feature = "mpi")]
fn count_hosts(world: &mpi::topology::SimpleCommunicator) -> usize {
    use mpi::collective::CommunicatorCollectives;
    use mpi::topology::Communicator;
    let mine = hostname();
    let mut all = vec![0u8; HOSTNAME_BYTES * world.size() as usize];
    world.all_gather_into(&mine[..], &mut all[..]);
    let distinct: std::collections::HashSet<&[u8]> = all.chunks_exact(HOSTNAME_BYTES).collect();
    distinct.len().max(1)
}

/// Room for a hostname: POSIX's HOST_NAME_MAX is 255 bytes, plus the terminating zero.
#[cfg(feature = "mpi")]
const HOSTNAME_BYTES: usize = 256;

/// This host's name, zero-padded; all zeros if the system will not say (every rank then counts as
/// one host).
#[cfg(feature = "mpi")]
fn hostname() -> [u8; HOSTNAME_BYTES] {
    let mut buf = [0u8; HOSTNAME_BYTES];
    // SAFETY: the buffer is valid for its whole length, which is what we pass.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return [0u8; HOSTNAME_BYTES];
    }
    // A name that fills the buffer comes without its zero: make the last byte one, so equal names
    // always compare equal.
    buf[HOSTNAME_BYTES - 1] = 0;
    buf
}

/// A panic on one rank must end the whole job, not leave the others in a collective forever.
#[cfg(feature = "mpi")]
fn install_abort_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        // SAFETY: MPI is initialised (this hook is installed right after MPI_Init_thread) and
        // MPI_Abort on the world communicator is the documented way to end every rank.
        unsafe {
            mpi::ffi::MPI_Abort(mpi::ffi::RSMPI_COMM_WORLD, crate::error::Class::Internal.exit_code());
        }
    }));
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.trim().parse().ok()
}

/// The default number of rayon threads for this rank: SLURM_CPUS_PER_TASK or OMP_NUM_THREADS when
/// set, else this node's cores shared among its ranks (and never more than the cores this process
/// may run on, which a launcher's binding can restrict).
pub(crate) fn default_threads(node_ranks: usize) -> usize {
    if let Some(n) = env_usize("SLURM_CPUS_PER_TASK").or_else(|| env_usize("OMP_NUM_THREADS")) {
        return n.max(1);
    }
    let online = online_cpus();
    let allowed = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    (online / node_ranks.max(1)).min(allowed).max(1)
}

pub(crate) fn online_cpus() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if n > 0 {
        n as usize
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathered_bytes_come_back_as_each_ranks_part_in_rank_order() {
        // Three ranks, the second with nothing to send.
        let g = Gathered { bytes: b"abcdef".to_vec(), lens: vec![2, 0, 4] };
        assert_eq!(g.parts().collect::<Vec<_>>(), [&b"ab"[..], b"", b"cdef"]);
        let (single, flag) = World::single().exchange(b"xyz", true);
        assert_eq!(single.unwrap().parts().collect::<Vec<_>>(), [&b"xyz"[..]]);
        assert!(flag);
    }
}
