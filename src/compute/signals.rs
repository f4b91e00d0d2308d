//! Stopping cleanly on a signal: the run finishes its batch, checkpoints it and exits.
//!
//! SIGINT and SIGTERM (Ctrl-C, SLURM's time limit or preemption) ask the run to stop after the
//! current batch, with everything finished checkpointed; a second one ends the process at once
//! ([`Class::Interrupted`]'s exit code). SIGUSR1 does the same: mpirun forwards it to every rank,
//! whereas its own SIGTERM handling tears the job down before the ranks can save anything
//! (`sbatch --signal=B:USR1@120`).
//!
//! The handlers belong to the run: [`SignalScope::install`] puts them in place (saying so when the
//! system refuses) and dropping the scope puts back exactly what was there before — the default
//! action, a host's own handler — so a library user's next run, or the rest of their program,
//! does not inherit them. Runs of one process that overlap (tests, a host's threads) share one
//! installation: the first to start installs, the last to end restores.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::ComputeError;
use crate::error::Class;

/// The signals a run handles.
const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGUSR1];

/// Set by the handler: every run in scope stops after its batch. Only atomics are touched in the
/// handler (async-signal-safe).
static STOP: AtomicBool = AtomicBool::new(false);

/// The runs in scope, and the actions that were in place before the first of them.
struct Installed {
    scopes: usize,
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

static INSTALLED: Mutex<Installed> = Mutex::new(Installed { scopes: 0, previous: Vec::new() });

/// The signal handlers of one run, in place while it lives.
pub(crate) struct SignalScope(());

impl SignalScope {
    /// Install the run's handlers for SIGINT, SIGTERM and SIGUSR1 (or join the installation of a
    /// run in scope already). An error names the signal the system refused; nothing stays
    /// installed then.
    pub(crate) fn install() -> Result<SignalScope, ComputeError> {
        Self::install_for(&SIGNALS)
    }

    /// [`SignalScope::install`] for `signals`.
    fn install_for(signals: &[libc::c_int]) -> Result<SignalScope, ComputeError> {
        let mut installed = lock();
        if installed.scopes == 0 {
            STOP.store(false, Ordering::SeqCst);
            let mut previous = Vec::with_capacity(signals.len());
            for &sig in signals {
                match replace_action(sig, handler_action()) {
                    Ok(old) => previous.push((sig, old)),
                    Err(e) => {
                        restore(&previous);
                        return Err(ComputeError::Launch(format!(
                            "cannot handle signal {sig} (needed to stop cleanly on Ctrl-C or a batch system's signal): {e}"
                        )));
                    }
                }
            }
            installed.previous = previous;
        }
        installed.scopes += 1;
        Ok(SignalScope(()))
    }

    /// Set once a handled signal arrives: the run stops after its batch.
    pub(crate) fn stop(&self) -> &'static AtomicBool {
        &STOP
    }
}

impl Drop for SignalScope {
    fn drop(&mut self) {
        let mut installed = lock();
        installed.scopes = installed.scopes.saturating_sub(1);
        if installed.scopes == 0 {
            restore(&installed.previous);
            installed.previous.clear();
        }
    }
}

fn lock() -> std::sync::MutexGuard<'static, Installed> {
    INSTALLED.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The first handled signal asks every run in scope to stop; the next ends the process.
extern "C" fn on_signal(_: libc::c_int) {
    if STOP.swap(true, Ordering::SeqCst) {
        // SAFETY: _exit is async-signal-safe; the checkpoint holds every finished batch.
        unsafe { libc::_exit(Class::Interrupted.exit_code()) }
    }
}

/// [`on_signal`] as an action: interrupted system calls restart (HDF5's reads, MPI's waits).
fn handler_action() -> libc::sigaction {
    // SAFETY: an all-zero sigaction is a valid value of the plain C struct (empty mask, no flags).
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    action
}

/// Put `action` in place for `sig`; returns the action it replaced.
fn replace_action(sig: libc::c_int, action: libc::sigaction) -> std::io::Result<libc::sigaction> {
    // SAFETY: as above.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to valid sigaction values for the duration of the call.
    if unsafe { libc::sigaction(sig, &action, &mut old) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(old)
}

/// Put back the actions saved by [`SignalScope::install_for`].
fn restore(previous: &[(libc::c_int, libc::sigaction)]) {
    for (sig, old) in previous {
        // Restoring an action the system gave us cannot fail for a signal it accepted.
        let _ = replace_action(*sig, *old);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_the_system_refuses_is_an_error_and_nothing_stays_installed() {
        // SIGKILL cannot be caught: the second registration fails, the first is undone.
        let before = current(libc::SIGUSR2);
        let e = SignalScope::install_for(&[libc::SIGUSR2, libc::SIGKILL]).err().map(|e| e.to_string());
        let e = e.unwrap_or_default();
        assert!(e.contains(&format!("cannot handle signal {}", libc::SIGKILL)), "{e}");
        assert_eq!(current(libc::SIGUSR2), before, "SIGUSR2's action is back");
    }

    /// The action in place for `sig`, as its handler address.
    fn current(sig: libc::c_int) -> libc::sighandler_t {
        // SAFETY: as above.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: a null new action only queries.
        assert_eq!(unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) }, 0);
        old.sa_sigaction
    }
}
