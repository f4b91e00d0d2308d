//! Stopping cleanly on a signal: the run finishes its batch, checkpoints it and exits.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// SIGINT and SIGTERM (Ctrl-C, SLURM's time limit or preemption) ask the run to stop after the
/// current batch, with everything finished checkpointed; a second one ends the process at once.
/// SIGUSR1 does the same: mpirun forwards it to every rank, whereas its own SIGTERM handling tears
/// the job down before the ranks can save anything (`sbatch --signal=B:USR1@120`).
pub(crate) fn install_signal_flag() -> Arc<AtomicBool> {
    use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM, SIGUSR1] {
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&flag));
        let _ = signal_hook::flag::register(sig, Arc::clone(&flag));
    }
    flag
}
