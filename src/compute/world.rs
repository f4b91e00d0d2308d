//! The set of processes a run spans: one plain process, or the ranks of an MPI job.
//!
//! MPI is initialised only when an MPI launcher started the process (mpirun, mpiexec, srun with a
//! PMI plugin): a plain run does not pay MPI's singleton start-up, and a build without the `mpi`
//! feature runs everywhere. Every collective the engine needs is a small method here, so the
//! engine reads the same with one rank or many.

use std::time::Duration;

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
    /// Each rank's hostname, in rank order (empty for a single process).
    hosts: Vec<String>,
    #[cfg(feature = "mpi")]
    mpi: Option<MpiWorld>,
}

#[cfg(feature = "mpi")]
struct MpiWorld {
    // Dropping the universe finalises MPI, so it lives as long as the World.
    _universe: mpi::environment::Universe,
    world: mpi::topology::SimpleCommunicator,
}

/// OpenMPI 5's TCP transport pairs every interface's IPv6 addresses too, and on a host whose
/// only IPv6 addresses are link-local it prints `btl_tcp_proc.c:266 ... Unable to find reachable
/// pairing` once per rank — harmless, but a line in every run's stderr that hides real errors,
/// however the ranks were launched (mpirun, srun, a site's wrapper). OpenMPI reads its MCA
/// settings from each process's environment when MPI starts, so setting the default here, in
/// the one place every launch passes, covers them all; a value the user set wins. OpenMPI 4
/// takes the same setting; other MPIs ignore the variable.
#[cfg(feature = "mpi")]
fn default_tcp_to_ipv4() {
    const NAME: &str = "OMPI_MCA_btl_tcp_disable_family";
    if std::env::var_os(NAME).is_none() {
        // Called before MPI starts, from the main thread: no other thread of ours reads the
        // environment yet (the thread pool is built after the world).
        std::env::set_var(NAME, "6");
    }
}

impl World {
    /// A single process: no MPI at all.
    pub fn single() -> World {
        World {
            rank: 0,
            size: 1,
            node_ranks: 1,
            nodes: 1,
            hosts: Vec::new(),
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
        default_tcp_to_ipv4();
        // Funneled: only the main thread calls MPI (rayon workers never do).
        let (universe, _) = mpi::initialize_with_threading(mpi::Threading::Funneled)
            .ok_or_else(|| ComputeError::Launch("MPI was already initialised".into()))?;
        let world = universe.world();
        let rank = world.rank() as usize;
        let size = world.size() as usize;
        let node_ranks = world.split_shared(world.rank()).size() as usize;
        let hosts = host_names(&world);
        let nodes = hosts.iter().collect::<std::collections::HashSet<_>>().len().max(1);
        install_abort_on_panic();
        let mpi = Some(MpiWorld { _universe: universe, world });
        Ok(World { rank, size, node_ranks, nodes, hosts, mpi })
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

    /// The hostname of rank `rank` (`?` when unknown).
    pub(crate) fn host(&self, rank: usize) -> &str {
        self.hosts.get(rank).map_or("?", String::as_str)
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
    /// every rank the job's [`Vote`]: whether any rank asks to stop (how all ranks agree to stop at
    /// the same batch) and the slowest step of any rank. The calling thread waits by polling, not
    /// spinning, so a rank that calls it while its pool computes leaves its cores to the pool; a
    /// rank that waits on a peer past `patience` ends the job ([`World::end_silent`]).
    pub(crate) fn exchange(&self, local: &[u8], vote: Vote, patience: &Patience) -> (Option<Gathered>, Vote) {
        #[cfg(feature = "mpi")]
        if let Some(m) = &self.mpi {
            return exchange_mpi(self, &m.world, local, vote, patience);
        }
        let _ = patience;
        (Some(Gathered { bytes: local.to_vec(), lens: vec![local.len()] }), vote)
    }

    /// Rank 0's bytes, on every rank; a rank that waits past `patience` ends the job.
    pub(crate) fn broadcast_bytes(&self, root_bytes: Vec<u8>, patience: &Patience) -> Vec<u8> {
        #[cfg(feature = "mpi")]
        if let Some(m) = &self.mpi {
            return broadcast_bytes_mpi(self, &m.world, root_bytes, patience);
        }
        let _ = patience;
        root_bytes
    }

    /// End this process because rank `peer` sent nothing for `waited`: one line naming the rank
    /// and its host, then the exit code of [`Class::Silent`]. Without MPI_Abort or MPI_Finalize:
    /// both talk to the launcher and the peers, and with a host cut off either can wait as long as
    /// the silence itself. What this rank wrote (the checkpoint) is in the kernel's hands already;
    /// the launcher ends the job's other ranks when it sees this one gone.
    ///
    /// [`Class::Silent`]: crate::error::Class::Silent
    // Without MPI no rank waits on another.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub(crate) fn end_silent(&self, peer: usize, waited: Duration, patience: &Patience) -> ! {
        if self.is_root() {
            self.tell_ended(peer);
        }
        let who =
            if self.size > 1 && !self.is_root() { format!(" (rank {})", self.rank) } else { String::new() };
        crate::say!(
            "usid-peaks: error{who}: rank {peer} on {} sent nothing for {:.0} s (--rank-timeout {}); \
             the job ends — {}",
            self.host(peer),
            waited.as_secs_f64(),
            patience.timeout.as_secs_f64(),
            patience.resume
        );
        // SAFETY: _exit ends the process at once; nothing of ours needs a destructor to be safe
        // (the checkpoint's records are written with plain write calls, each whole before the
        // next batch).
        unsafe { libc::_exit(crate::error::Class::Silent.exit_code()) }
    }

    /// Rank 0, ending the job on the silent rank `silent`: tell every other rank, so that each
    /// ends at once and quietly (rank 0's line says why) instead of waiting out its own deadline
    /// and then blaming rank 0, which it would no longer hear. A short wait for the sends, never
    /// for the silent rank.
    fn tell_ended(&self, silent: usize) {
        #[cfg(feature = "mpi")]
        if let Some(m) = &self.mpi {
            use mpi::point_to_point::Destination;
            use mpi::topology::Communicator;
            // Static: sends still pending when this process ends are never completed.
            let word: &'static [u64] = Box::leak(Box::new([silent as u64]));
            let mut sends: Vec<_> = (1..self.size)
                .filter(|&r| r != silent)
                .map(|r| {
                    let to = m.world.process_at_rank(r as i32);
                    to.immediate_send_with_tag(mpi::request::StaticScope, word, tag::ENDED)
                })
                .collect();
            let since = std::time::Instant::now();
            while !sends.is_empty() && since.elapsed() < ENDED_SEND_WAIT {
                sends = sends.into_iter().filter_map(|r| r.test().err()).collect();
                std::thread::sleep(Duration::from_micros(50));
            }
            // Left to MPI (a pending request must not be dropped): this process ends next.
            sends.into_iter().for_each(std::mem::forget);
        }
        let _ = silent;
    }

    /// Whether rank 0 has said the job ends (a rank went silent); then this rank ends quietly.
    #[cfg(feature = "mpi")]
    fn ended_by_root(&self) {
        use mpi::point_to_point::Source;
        use mpi::topology::Communicator;
        let Some(m) = &self.mpi else { return };
        if self.is_root() || m.world.process_at_rank(0).immediate_probe_with_tag(tag::ENDED).is_none() {
            return;
        }
        // SAFETY: as in end_silent.
        unsafe { libc::_exit(crate::error::Class::Silent.exit_code()) }
    }
}

/// How long rank 0 gives its notice of the end to reach the other ranks before it exits.
#[cfg(feature = "mpi")]
const ENDED_SEND_WAIT: Duration = Duration::from_millis(200);

/// How long a rank waits on its peers before it ends the job, and whom it tells of a long wait.
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
pub(crate) struct Patience<'a> {
    /// The wait after which the peer waited for counts as silent.
    pub limit: Duration,
    /// `--rank-timeout`, for the message (`limit` may be a multiple of it).
    pub timeout: Duration,
    /// After this long a wait is reported to `waiting`.
    pub report_after: Duration,
    /// Told the rank waited for once a wait outlasts `report_after`, and `None` when it is over.
    pub waiting: &'a dyn Fn(Option<usize>),
    /// The end of the line said when the job ends: what the user can do.
    pub resume: &'a str,
}

impl Patience<'_> {
    /// Waits of `limit` that nobody hears of until the job ends.
    pub(crate) fn quiet<'a>(limit: Duration, timeout: Duration, resume: &'a str) -> Patience<'a> {
        Patience { limit, timeout, report_after: limit, waiting: &nobody, resume }
    }
}

/// Where a wait is reported when nobody listens.
fn nobody(_: Option<usize>) {}

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

/// What each rank says with its batch, and what rank 0 answers for the job: whether to stop, and
/// the slowest step (a batch computed and the next read). Each rank's deadline on its peers grows
/// with the job's slowest step, not its own: a rank whose batches are quick must not count a
/// slower host's rank as silent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Vote {
    pub stop: bool,
    pub slowest: Duration,
}

// Only an MPI job sends votes and tallies them; the tests call these without MPI.
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
impl Vote {
    /// As sent: (stop, slowest in µs).
    fn words(self) -> [u64; 2] {
        [u64::from(self.stop), u64::try_from(self.slowest.as_micros()).unwrap_or(u64::MAX)]
    }

    fn from_words(w: [u64; 2]) -> Vote {
        Vote { stop: w[0] != 0, slowest: Duration::from_micros(w[1]) }
    }

    /// The job's vote from every rank's: stop if any asks, the slowest of all.
    fn tally(votes: impl IntoIterator<Item = Vote>) -> Vote {
        votes.into_iter().fold(Vote { stop: false, slowest: Duration::ZERO }, |a, v| Vote {
            stop: a.stop || v.stop,
            slowest: a.slowest.max(v.slowest),
        })
    }
}

/// Message tags of the engine's exchanges: each kind of message its own, so a message of one
/// kind never matches a receive of another.
#[cfg(feature = "mpi")]
mod tag {
    pub const HEAD: i32 = 1;
    pub const BODY: i32 = 2;
    pub const REPLY: i32 = 3;
    pub const BCAST_LEN: i32 = 4;
    pub const BCAST_BODY: i32 = 5;
    pub const ENDED: i32 = 6;
}

/// Every rank's bytes on rank 0 (in rank order; `None` elsewhere), and on every rank the job's
/// [`Vote`]. Point to point, so that rank 0 knows whom it is waiting for: each rank sends rank 0
/// its (length, vote) and its bytes, and rank 0 answers each with the job's vote. Every wait is
/// non-blocking and polled under `patience`.
#[cfg(feature = "mpi")]
fn exchange_mpi(
    me: &World,
    world: &mpi::topology::SimpleCommunicator,
    local: &[u8],
    vote: Vote,
    patience: &Patience,
) -> (Option<Gathered>, Vote) {
    use mpi::point_to_point::{Destination, Source};
    use mpi::topology::Communicator;
    let since = std::time::Instant::now();
    let [stop, slowest] = vote.words();
    let head = [local.len() as u64, stop, slowest];
    if me.rank != 0 {
        let root = world.process_at_rank(0);
        let mut reply = [0u64; 2];
        // Rank 0 waits on the others as long as this rank waits on rank 0: a quarter more here,
        // so that when a third rank goes silent rank 0's verdict (naming it) comes first, and the
        // launcher ends this rank before it blames rank 0.
        let for_root = Patience { limit: patience.limit + patience.limit / 4, ..*patience };
        mpi::request::scope(|scope| {
            poll_all(
                me,
                vec![(0, root.immediate_send_with_tag(scope, &head[..], tag::HEAD))],
                since,
                patience,
            );
            poll_all(me, vec![(0, root.immediate_send_with_tag(scope, local, tag::BODY))], since, patience);
            let request = root.immediate_receive_into_with_tag(scope, &mut reply[..], tag::REPLY);
            poll_all(me, vec![(0, request)], since, &for_root);
        });
        return (None, Vote::from_words(reply));
    }
    let mut heads = vec![[0u64; 3]; me.size];
    heads[0] = head;
    mpi::request::scope(|scope| {
        let requests = heads.iter_mut().enumerate().skip(1).map(|(r, h)| {
            (r, world.process_at_rank(r as i32).immediate_receive_into_with_tag(scope, &mut h[..], tag::HEAD))
        });
        poll_all(me, requests.collect(), since, patience);
    });
    let lens: Vec<usize> = heads.iter().map(|h| h[0] as usize).collect();
    let job = Vote::tally(heads.iter().map(|h| Vote::from_words([h[1], h[2]])));
    let mut all = vec![0u8; lens.iter().sum()];
    let (own, mut rest) = all.split_at_mut(lens[0]);
    own.copy_from_slice(local);
    mpi::request::scope(|scope| {
        let mut requests = Vec::with_capacity(me.size);
        for (r, &len) in lens.iter().enumerate().skip(1) {
            let (part, tail) = std::mem::take(&mut rest).split_at_mut(len);
            rest = tail;
            requests.push((
                r,
                world.process_at_rank(r as i32).immediate_receive_into_with_tag(scope, part, tag::BODY),
            ));
        }
        poll_all(me, requests, since, patience);
    });
    let reply = job.words();
    mpi::request::scope(|scope| {
        let requests = (1..me.size).map(|r| {
            (r, world.process_at_rank(r as i32).immediate_send_with_tag(scope, &reply[..], tag::REPLY))
        });
        poll_all(me, requests.collect(), since, patience);
    });
    (Some(Gathered { bytes: all, lens }), job)
}

/// Wait for every request (each with the rank it talks to) by testing them every 50 µs: OpenMPI's
/// own wait spins, and the thread that waits here shares its cores with the pool computing the
/// next batch. A wait longer than `patience.limit` since `since` ends the job, naming a rank still
/// waited for; one longer than `patience.report_after` is reported while it lasts.
#[cfg(feature = "mpi")]
fn poll_all<'a, D: ?Sized, S: mpi::request::Scope<'a>>(
    me: &World,
    mut pending: Vec<(usize, mpi::request::Request<'a, D, S>)>,
    since: std::time::Instant,
    patience: &Patience,
) {
    let mut reported = None;
    loop {
        pending = pending.into_iter().filter_map(|(peer, r)| r.test().err().map(|r| (peer, r))).collect();
        let Some(&(peer, _)) = pending.first() else { break };
        me.ended_by_root();
        let waited = since.elapsed();
        if waited >= patience.limit {
            // The requests stay pending: MPI still holds their buffers, so this never returns.
            me.end_silent(peer, waited, patience);
        }
        if waited >= patience.report_after && reported != Some(peer) {
            (patience.waiting)(Some(peer));
            reported = Some(peer);
        }
        std::thread::sleep(Duration::from_micros(50));
    }
    if reported.is_some() {
        (patience.waiting)(None);
    }
}

/// Rank 0's bytes on every rank: its length, then the bytes, sent to each rank point to point and
/// polled under `patience`, like [`exchange_mpi`].
#[cfg(feature = "mpi")]
fn broadcast_bytes_mpi(
    me: &World,
    world: &mpi::topology::SimpleCommunicator,
    root_bytes: Vec<u8>,
    patience: &Patience,
) -> Vec<u8> {
    use mpi::point_to_point::{Destination, Source};
    use mpi::topology::Communicator;
    let since = std::time::Instant::now();
    if me.rank == 0 {
        let len = [root_bytes.len() as u64];
        mpi::request::scope(|scope| {
            let to = |r: usize| world.process_at_rank(r as i32);
            let lens =
                (1..me.size).map(|r| (r, to(r).immediate_send_with_tag(scope, &len[..], tag::BCAST_LEN)));
            poll_all(me, lens.collect(), since, patience);
            let bodies = (1..me.size)
                .map(|r| (r, to(r).immediate_send_with_tag(scope, &root_bytes[..], tag::BCAST_BODY)));
            poll_all(me, bodies.collect(), since, patience);
        });
        return root_bytes;
    }
    let root = world.process_at_rank(0);
    let mut len = [0u64];
    mpi::request::scope(|scope| {
        let request = root.immediate_receive_into_with_tag(scope, &mut len[..], tag::BCAST_LEN);
        poll_all(me, vec![(0, request)], since, patience);
    });
    let mut buf = vec![0u8; len[0] as usize];
    mpi::request::scope(|scope| {
        let request = root.immediate_receive_into_with_tag(scope, &mut buf[..], tag::BCAST_BODY);
        poll_all(me, vec![(0, request)], since, patience);
    });
    buf
}

/// Every rank's hostname, in rank order: "nodes" in a job's request and its accounting are hosts
/// by name, not shared-memory domains, and a silent rank is named with its host. One collective at
/// start-up, every name in a fixed-size buffer.
#[cfg(feature = "mpi")]
fn host_names(world: &mpi::topology::SimpleCommunicator) -> Vec<String> {
    use mpi::collective::CommunicatorCollectives;
    use mpi::topology::Communicator;
    let mine = hostname();
    let mut all = vec![0u8; HOSTNAME_BYTES * world.size() as usize];
    world.all_gather_into(&mine[..], &mut all[..]);
    all.chunks_exact(HOSTNAME_BYTES)
        .map(|name| {
            let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            String::from_utf8_lossy(&name[..end]).into_owned()
        })
        .collect()
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

    /// The only test that touches this variable (tests share the process environment).
    #[cfg(feature = "mpi")]
    #[test]
    fn openmpi_tcp_defaults_to_ipv4_unless_the_user_chose() {
        const NAME: &str = "OMPI_MCA_btl_tcp_disable_family";
        std::env::remove_var(NAME);
        default_tcp_to_ipv4();
        assert_eq!(std::env::var(NAME).as_deref(), Ok("6"));
        std::env::set_var(NAME, "4");
        default_tcp_to_ipv4();
        assert_eq!(std::env::var(NAME).as_deref(), Ok("4"));
        std::env::remove_var(NAME);
    }

    #[test]
    fn gathered_bytes_come_back_as_each_ranks_part_in_rank_order() {
        // Three ranks, the second with nothing to send.
        let g = Gathered { bytes: b"abcdef".to_vec(), lens: vec![2, 0, 4] };
        assert_eq!(g.parts().collect::<Vec<_>>(), [&b"ab"[..], b"", b"cdef"]);
        let patience = Patience::quiet(Duration::from_secs(1), Duration::from_secs(1), "");
        let vote = Vote { stop: true, slowest: Duration::from_millis(1500) };
        let (single, job) = World::single().exchange(b"xyz", vote, &patience);
        assert_eq!(single.unwrap().parts().collect::<Vec<_>>(), [&b"xyz"[..]]);
        assert_eq!(job, vote);
    }

    #[test]
    fn the_jobs_vote_stops_if_any_rank_asks_and_carries_the_slowest_step_of_any_rank() {
        let v = |stop, ms| Vote { stop, slowest: Duration::from_millis(ms) };
        assert_eq!(Vote::tally([v(false, 200), v(false, 3_000), v(false, 900)]), v(false, 3_000));
        assert_eq!(Vote::tally([v(false, 200), v(true, 100)]), v(true, 200));
        // As sent between ranks: microseconds, whole.
        let sent = v(true, 2_345);
        assert_eq!(Vote::from_words(sent.words()), sent);
    }
}
