//! The generic engine: map an [`Analysis`] over every position (pixel) of a dataset, on every MPI
//! rank and every core, and write the results group the pyUSID way.
//!
//! One way over files, [`run`] (and [`run_until`] for a host that owns the process's signals),
//! and one for arrays already in memory, [`parallel_compute`] (pyUSID's; [`parallel_compute_init`]
//! gives each thread a state of its own). The corridor of a run, one module a step:
//! `input` (file → validated dataset → spectra → reader of runs of positions: the engine's only
//! contact with the file format) → `start` (fingerprint; rank 0 takes the lock, reuses a complete
//! group or resumes a checkpoint) → `plan` (rows per rank, batches from `--max-mem`) → `batches`
//! (read batch i+1 while the pool computes batch i with the row mapper, `mapper`, and batch i−1
//! is gathered) → `collect` (rank 0 checkpoints every batch and keeps it) → one short final write
//! by rank 0 (`output`) → summary. `signals` makes SIGINT/SIGTERM/SIGUSR1 stop a run after its
//! batch, with handlers that live as long as the run.

mod analysis;
mod batches;
pub mod bench;
mod check;
mod checkpoint;
mod collect;
mod engine;
mod input;
mod mapper;
mod messages;
mod output;
mod parallel;
mod plan;
mod pool;
mod progress;
mod signals;
mod start;
mod stream;
mod world;

pub use analysis::{
    write_whole, Analysis, NsidWriteTarget, Param, ResultsWriter, RowItems, Rows, WriteTarget,
};
pub use check::{check_analysis, Checked};
pub use engine::{run, run_until, Job, Summary, DEFAULT_RANK_TIMEOUT_S};
#[cfg(test)]
pub(crate) use engine::{run_with, Tuning};
pub(crate) use input::Source;
pub(crate) use mapper::RowMapper;
pub use parallel::{parallel_compute, parallel_compute_init};
pub use plan::batch_rows_for;
pub use pool::{thread_pool, Binding};
pub use progress::{ProgressCounter, ProgressMode};
pub use world::World;

use crate::error::Class;
use crate::usid::UsidError;

/// Why a run did not complete, by the class of failure the user must act on.
#[derive(Debug)]
pub enum ComputeError {
    /// The input file or dataset cannot be used.
    Input(UsidError),
    /// A parameter or option is invalid.
    Usage(String),
    /// The results cannot be written (permissions, disk full, ...).
    Output(String),
    /// Another run holds the file.
    Busy(String),
    /// The job was started in a way that cannot work (launcher without MPI, ...), or MPI failed.
    Launch(String),
    /// SIGINT/SIGTERM: progress is in the checkpoint, the same command resumes.
    Interrupted(String),
    /// A rank sent nothing for `--rank-timeout`: progress is in the checkpoint, the same command
    /// resumes once every host answers.
    Silent(String),
    /// A bug.
    Internal(String),
}

impl std::fmt::Display for ComputeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ComputeError::Input(e) => write!(f, "{e}"),
            ComputeError::Usage(m)
            | ComputeError::Output(m)
            | ComputeError::Busy(m)
            | ComputeError::Launch(m)
            | ComputeError::Interrupted(m)
            | ComputeError::Silent(m)
            | ComputeError::Internal(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ComputeError {}

impl ComputeError {
    /// The class of failure, which decides the exit code ([`Class::exit_code`]).
    pub fn class(&self) -> Class {
        match self {
            ComputeError::Input(_) => Class::Input,
            ComputeError::Usage(_) => Class::Usage,
            ComputeError::Output(_) => Class::Output,
            ComputeError::Busy(_) => Class::Busy,
            ComputeError::Launch(_) => Class::Launch,
            ComputeError::Interrupted(_) => Class::Interrupted,
            ComputeError::Silent(_) => Class::Silent,
            ComputeError::Internal(_) => Class::Internal,
        }
    }

    /// An error of class `class` with `message` (e.g. one received from rank 0).
    pub(crate) fn of_class(class: Class, message: String) -> Self {
        match class {
            Class::Input => ComputeError::Input(crate::usid::UsidError(message)),
            Class::Usage => ComputeError::Usage(message),
            Class::Output => ComputeError::Output(message),
            Class::Busy => ComputeError::Busy(message),
            Class::Launch => ComputeError::Launch(message),
            Class::Interrupted => ComputeError::Interrupted(message),
            Class::Silent => ComputeError::Silent(message),
            Class::Internal => ComputeError::Internal(message),
        }
    }
}

/// `eprintln!` in one write: see [`say`].
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::compute::say(&format!($($arg)*)) };
}

/// Write one line to stderr in a single write: under mpirun, ranks' and launchers' output
/// interleave, and a line written in pieces can be cut by another process's output.
pub fn say(line: &str) {
    use std::io::Write;
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    let _ = std::io::stderr().lock().write_all(buf.as_bytes());
}

impl From<crate::usid::ReadError> for ComputeError {
    fn from(e: crate::usid::ReadError) -> Self {
        ComputeError::of_class(e.class, e.message)
    }
}

impl From<UsidError> for ComputeError {
    fn from(e: UsidError) -> Self {
        ComputeError::Input(e)
    }
}
