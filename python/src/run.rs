//! `run`: the engine (peak finding or the SHO fit) on a USID file in this process, with Python's Ctrl-C and a progress callable.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::ScopedJoinHandle;
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use usid_peaks::compute::{
    self, Analysis, Binding, ComputeError, Job, ProgressCounter, ProgressMode, Summary, World,
};
use usid_peaks::peaks::{PeakFinding, PeakParams};
use usid_peaks::sho::{ShoFit, ShoParams};
use usid_peaks::usid::SpectraLayout;

use super::{engine_error, internal_error, params};

/// What the engine thread hands back: its result, or the payload of its panic.
type Outcome = std::thread::Result<Result<Summary, ComputeError>>;

/// Run the engine with `analysis` (`"find"`: peak finding, `"sho"`: the SHO fit) on a USID file
/// in this process (every core, no MPI) and return the summary as JSON (the CLI's `--json`).
///
/// The engine runs on its own thread with the GIL released; this thread wakes every 50 ms to let
/// Python's own SIGINT handler run. A `KeyboardInterrupt` asks the engine to stop after the
/// current batch (checkpointed, so the same call resumes) and is raised once it has.
///
/// `on_progress(done, total)` (spectra), when given, replaces the engine's own progress on
/// stderr: it is called from this thread, with the GIL, at most every 0.2 s while the run
/// computes, and once more when it has completed. An exception it raises stops the run like an
/// interrupt and is raised once the engine has stopped.
#[pyfunction]
#[pyo3(signature = (analysis, path, params, dataset=None, along=None, output=None, threads=None, max_mem_mb=1024, force=false, progress=true, on_progress=None))]
#[allow(clippy::too_many_arguments)] // the CLI's options, one argument each
pub fn run(
    py: Python<'_>,
    analysis: &str,
    path: PathBuf,
    params: &Bound<'_, PyDict>,
    dataset: Option<String>,
    along: Option<String>,
    output: Option<PathBuf>,
    threads: Option<usize>,
    max_mem_mb: u64,
    force: bool,
    progress: bool,
    on_progress: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    if threads == Some(0) {
        return Err(PyValueError::new_err("threads must be at least 1"));
    }
    if max_mem_mb == 0 {
        return Err(PyValueError::new_err("max_mem_mb must be at least 1"));
    }
    // run_engine sets the progress mode.
    let job = Job {
        input: path,
        dataset,
        output,
        threads,
        max_mem_mb,
        force,
        progress: ProgressMode::Quiet,
        along,
        bind_threads: Binding::Auto,
        rank_timeout: Duration::from_secs_f64(compute::DEFAULT_RANK_TIMEOUT_S),
    };
    match analysis {
        "find" => {
            let params: PeakParams = params::from_keywords(params)?;
            run_engine(py, job, progress, on_progress, |layout| PeakFinding::new(layout, params))
        }
        "sho" => {
            let params: ShoParams = params::from_keywords(params)?;
            run_engine(py, job, progress, on_progress, |layout| ShoFit::new(layout, params))
        }
        other => Err(PyValueError::new_err(format!("no analysis {other:?}: find or sho"))),
    }
}

/// Run the analysis `make` builds on `job` on an engine thread, watched from this one (signals,
/// progress); the summary as JSON.
fn run_engine<A, F>(
    py: Python<'_>,
    mut job: Job,
    progress: bool,
    on_progress: Option<Bound<'_, PyAny>>,
    make: F,
) -> PyResult<String>
where
    A: Analysis,
    F: FnOnce(&SpectraLayout) -> Result<A, ComputeError> + Send,
{
    let counter = Arc::new(ProgressCounter::default());
    job.progress = match (&on_progress, progress) {
        (Some(_), _) => ProgressMode::Observed(Arc::clone(&counter)),
        (None, true) => ProgressMode::Auto,
        (None, false) => ProgressMode::Quiet,
    };
    let watch = Watch { stop: AtomicBool::new(false), counter, on_progress };
    let started = Instant::now();
    let (outcome, interrupt, raised) = std::thread::scope(|s| {
        let engine = s.spawn(|| {
            catch_unwind(AssertUnwindSafe(|| {
                compute::run_until(&World::single(), &job, started, &watch.stop, make)
            }))
        });
        watch.until_done(py, engine)
    });
    match outcome {
        // Stopped during the final write, or the callable raised at the end: the results are
        // complete, but the user (or their code) asked to stop.
        Ok(Ok(summary)) => match interrupt.or(raised) {
            Some(e) => Err(e),
            None => serde_json::to_string(&summary).map_err(|e| PyRuntimeError::new_err(e.to_string())),
        },
        // Stopped for the progress callable's exception: raise that one (the checkpoint stays,
        // so the same call resumes), not the engine's KeyboardInterrupt.
        Ok(Err(ComputeError::Interrupted(m))) => Err(match (interrupt, raised) {
            (None, Some(callable)) => callable,
            _ => engine_error(ComputeError::Interrupted(m)),
        }),
        Ok(Err(e)) => Err(engine_error(e)),
        Err(panic) => Err(internal_error(panic.as_ref())),
    }
}

/// This thread's watch over the engine thread: Python's signals and the progress callable.
struct Watch<'py> {
    /// Set to stop the engine after its current batch.
    stop: AtomicBool,
    counter: Arc<ProgressCounter>,
    on_progress: Option<Bound<'py, PyAny>>,
}

impl Watch<'_> {
    /// Wait for `engine`, handling signals and progress meanwhile; its outcome, the
    /// `KeyboardInterrupt` that stopped it (if one did) and the progress callable's exception
    /// (if it raised one).
    fn until_done(
        &self,
        py: Python<'_>,
        engine: ScopedJoinHandle<'_, Outcome>,
    ) -> (Outcome, Option<PyErr>, Option<PyErr>) {
        let (mut interrupt, mut raised): (Option<PyErr>, Option<PyErr>) = (None, None);
        let mut told = Instant::now();
        while !engine.is_finished() {
            py.detach(|| std::thread::sleep(Duration::from_millis(50)));
            if interrupt.is_none() {
                if let Err(e) = py.check_signals() {
                    self.stop.store(true, Ordering::Relaxed);
                    interrupt = Some(e);
                }
            }
            if interrupt.is_none() && raised.is_none() && told.elapsed() >= Duration::from_millis(200) {
                told = Instant::now();
                self.tell(&mut raised);
            }
        }
        let outcome = engine.join().and_then(|o| o);
        // The final count, for a run that completed (a failed one raises its own error).
        if interrupt.is_none() && raised.is_none() && matches!(outcome, Ok(Ok(_))) {
            self.tell(&mut raised);
        }
        (outcome, interrupt, raised)
    }

    /// Call the progress callable with the counts; an exception it raises stops the engine.
    fn tell(&self, raised: &mut Option<PyErr>) {
        let Some(f) = &self.on_progress else { return };
        if self.counter.total() == 0 {
            return; // not computing yet, or nothing to compute (a reused group)
        }
        if let Err(e) = f.call1((self.counter.done(), self.counter.total())) {
            self.stop.store(true, Ordering::Relaxed);
            raised.get_or_insert(e);
        }
    }
}
