//! Signals during library runs: each `compute::run` handles SIGINT, SIGTERM and SIGUSR1 with
//! handlers of its own and puts back what was there when it ends, so that a second run after an
//! interrupted one still stops cleanly at its first signal (its checkpoint kept), and the host
//! program's own handler works again afterwards.
//!
//! Signal handlers belong to the whole process: the scenario runs in a child process (this test
//! binary again, with this one test selected), away from the other tests' runs.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use crate::util::{self, ok, s};
use usid_peaks::compute::{
    self, Analysis, Binding, ComputeError, Job, Param, ProgressMode, RowItems, Rows, World,
};
use usid_peaks::usid::{SpectraLayout, UsidError};

/// Set (to the scenario's directory) in the child process.
const CHILD: &str = "USID_PEAKS_SIGNALS_CHILD";
const NAME: &str =
    "signals::a_run_puts_back_the_handlers_it_found_and_the_next_run_stops_cleanly_at_its_first_signal";

#[test]
fn a_run_puts_back_the_handlers_it_found_and_the_next_run_stops_cleanly_at_its_first_signal() {
    if let Some(dir) = std::env::var_os(CHILD) {
        return scenario(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    ok(&["generate", s(&dir.path().join("map.h5")), "--rows", "6", "--cols", "7"]);
    let exe = std::env::current_exe().unwrap();
    let out = util::command(exe)
        .args([NAME, "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD, dir.path())
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success() && stdout.contains("scenario: ok"),
        "the child ended with {:?}\n{stdout}\n{stderr}",
        out.status
    );
}

/// Signals the host's own SIGUSR1 handler received.
static HOST_SIGNALS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn host_handler(_: libc::c_int) {
    HOST_SIGNALS.fetch_add(1, Ordering::SeqCst);
}

/// The handler in place for `sig`.
fn handler(sig: libc::c_int) -> libc::sighandler_t {
    // SAFETY: an all-zero sigaction is a valid value of the plain C struct; a null new action only
    // queries the current one.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(sig, std::ptr::null(), &mut old), 0);
        old.sa_sigaction
    }
}

/// Two runs, each interrupted by SIGUSR1 in its first batch, in a host that handles SIGUSR1
/// itself: both stop cleanly, and after each the host's handler is in place again.
fn scenario(dir: &Path) {
    let host = host_handler as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: as in `handler`; the new action is a valid handler that only touches an atomic.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = host;
        assert_eq!(libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()), 0);
    }
    let world = World::init().unwrap();
    let mut job = Job {
        input: dir.join("map.h5"),
        dataset: None,
        output: None,
        threads: Some(2),
        max_mem_mb: 1024,
        force: true,
        progress: ProgressMode::Quiet,
        along: None,
        bind_threads: Binding::None,
        rank_timeout: std::time::Duration::from_secs_f64(usid_peaks::compute::DEFAULT_RANK_TIMEOUT_S),
    };
    for run in 1..=2 {
        // A target of its own: the first run's checkpoint would leave the second nothing to do.
        job.output = Some(dir.join(format!("out{run}.h5")));
        let made =
            |layout: &SpectraLayout| Ok(Interrupting { len: layout.len(), raised: AtomicBool::new(false) });
        let e = compute::run(&world, &job, Instant::now(), made).err();
        assert!(matches!(e, Some(ComputeError::Interrupted(_))), "run {run}: {e:?}");
        assert_eq!(handler(libc::SIGUSR1), host, "run {run}: the host's handler is back");
    }
    // SAFETY: raising a signal whose handler is the host's own.
    unsafe { libc::raise(libc::SIGUSR1) };
    assert_eq!(HOST_SIGNALS.load(Ordering::SeqCst), 1, "the host's handler got the signal");
    println!("scenario: ok");
}

/// No items; raises SIGUSR1 at the process once, in its first block, as a Ctrl-C arriving mid-run.
struct Interrupting {
    len: usize,
    raised: AtomicBool,
}

impl Analysis for Interrupting {
    type Item = u32;
    type Scratch = ();
    fn name(&self) -> &str {
        "Interrupting"
    }
    fn parameters(&self) -> Vec<(String, Param)> {
        Vec::new()
    }
    fn new_scratch(&self) {}
    fn process(&self, rows: Rows<'_>, _: &mut (), out: &mut RowItems<u32>) {
        if !self.raised.swap(true, Ordering::SeqCst) {
            // SAFETY: raise has no preconditions; the run's handler only sets a flag.
            unsafe { libc::raise(libc::SIGUSR1) };
        }
        for _ in 0..rows.len() / self.len.max(1) {
            out.push_row(&[]);
        }
    }
    fn write(&self, _: &RowItems<u32>, _: &compute::WriteTarget<'_>) -> Result<(), UsidError> {
        Ok(())
    }
}
