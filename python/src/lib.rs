//! `usid_peaks._native`: the Rust half of the `usid_peaks` Python package.
//!
//! Thin on purpose: the Python half (`usid_peaks/__init__.py`) turns scipy-style arguments into
//! plain numbers and C-contiguous float64 arrays; this half builds the library's parameters and
//! job from them (one place each: [`Params::new`] and [`find`]), runs the library with the GIL
//! released, and turns every failure into a Python exception. A Rust panic never reaches Python:
//! each entry point catches it and raises `RuntimeError`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use usid_peaks::compute::{self, Binding, ComputeError, Job, ProgressCounter, ProgressMode, World};
use usid_peaks::cwt::{CwtParams, PeakFinder, Scratch, SnrFrom};
use usid_peaks::error::Class;
use usid_peaks::peaks::{find_peaks_rows, pixel_peaks, Component, PeakFinding, PixelQuery};
use usid_peaks::usid::select::PixelChoice;

create_exception!(usid_peaks, Error, PyException, "Base class of the errors usid_peaks raises for files.");
create_exception!(
    usid_peaks,
    InputError,
    Error,
    "The input file or dataset is missing, unreadable or not USID."
);
create_exception!(
    usid_peaks,
    OutputError,
    Error,
    "The results cannot be written (permissions, full disk, ...)."
);
create_exception!(usid_peaks, BusyError, Error, "Another run is writing the same file.");

/// The peak finder's parameters, validated for type by the Python half; the values themselves are
/// checked against each spectrum length by the library, like scipy does.
#[pyclass(frozen, module = "usid_peaks._native")]
#[derive(Clone)]
struct Params {
    cwt: CwtParams,
    component: Component,
}

#[pymethods]
impl Params {
    #[new]
    #[pyo3(signature = (widths, max_distances, gap_thresh, min_length, min_snr, noise_perc, window_size, snr_from, component))]
    #[allow(clippy::too_many_arguments)] // scipy's parameters, one argument each
    fn new(
        widths: Vec<f64>,
        max_distances: Option<Vec<f64>>,
        gap_thresh: Option<f64>,
        min_length: Option<usize>,
        min_snr: f64,
        noise_perc: f64,
        window_size: Option<usize>,
        snr_from: &str,
        component: &str,
    ) -> PyResult<Self> {
        let snr_from = match snr_from {
            "ridge_end" => SnrFrom::RidgeEnd,
            "ridge_max" => SnrFrom::RidgeMax,
            other => {
                return Err(PyValueError::new_err(format!(
                    "snr_from must be 'ridge_end' or 'ridge_max', got {other:?}"
                )))
            }
        };
        let component = match component {
            "abs" => Component::Abs,
            "real" => Component::Real,
            "imag" => Component::Imag,
            "phase" => Component::Phase,
            other => {
                return Err(PyValueError::new_err(format!(
                    "component must be 'abs', 'real', 'imag' or 'phase', got {other:?}"
                )))
            }
        };
        let cwt = CwtParams {
            widths,
            max_distances,
            gap_thresh,
            min_length,
            min_snr,
            noise_perc,
            window_size,
            snr_from,
        };
        Ok(Params { cwt, component })
    }
}

/// Run `f`, turning a panic into `RuntimeError` instead of letting it unwind into Python.
fn no_panic<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(internal_error(p.as_ref())))
}

/// A panic's payload as the `RuntimeError` that reports it, with the panic's own message.
fn internal_error(payload: &(dyn std::any::Any + Send)) -> PyErr {
    let what = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    PyRuntimeError::new_err(format!("usid_peaks: internal error (a bug, please report it): {what}"))
}

fn plan(len: usize, params: &Params) -> PyResult<PeakFinder> {
    PeakFinder::new(len, &params.cwt).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn to_array<'py>(py: Python<'py>, peaks: &[u32]) -> Bound<'py, PyArray1<i64>> {
    PyArray1::from_vec(py, peaks.iter().map(|&p| i64::from(p)).collect())
}

/// The plan of the last 1-D call, with its scratch: building the wavelet bank costs several times
/// the search itself on a 119-point spectrum, and a Python loop over spectra asks for the same
/// (length, parameters) every time.
static LAST_PLAN: Mutex<Option<(CwtParams, PeakFinder, Scratch)>> = Mutex::new(None);

/// Peaks of one spectrum (float64, C-contiguous), as int64.
#[pyfunction]
fn find_peaks_1d<'py>(
    py: Python<'py>,
    vector: PyReadonlyArray1<'py, f64>,
    params: &Params,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    no_panic(|| {
        let x = vector.as_slice().map_err(|e| PyValueError::new_err(e.to_string()))?;
        // A poisoned lock (a panic mid-search) only loses the cache: the plan is rebuilt.
        let mut last = LAST_PLAN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let hit = matches!(&*last, Some((p, f, _)) if f.spectrum_len() == x.len() && *p == params.cwt);
        if !hit {
            *last = None;
            let finder = plan(x.len(), params)?;
            let scratch = finder.new_scratch();
            *last = Some((params.cwt.clone(), finder, scratch));
        }
        let Some((_, finder, scratch)) = last.as_mut() else {
            return Err(PyRuntimeError::new_err("usid_peaks: internal error: no plan"));
        };
        Ok(to_array(py, &finder.find(x, scratch)))
    })
}

/// Peaks of every row of `matrix` (float64, C-contiguous), computed on `threads` threads
/// (default: rayon's pool, every core) with the GIL released; one int64 array per row.
#[pyfunction]
#[pyo3(signature = (matrix, params, threads=None))]
fn find_peaks_2d<'py>(
    py: Python<'py>,
    matrix: PyReadonlyArray2<'py, f64>,
    params: &Params,
    threads: Option<usize>,
) -> PyResult<Vec<Bound<'py, PyArray1<i64>>>> {
    no_panic(|| {
        let [n_rows, len] = [matrix.shape()[0], matrix.shape()[1]];
        let x = matrix.as_slice().map_err(|e| PyValueError::new_err(e.to_string()))?;
        if n_rows == 0 {
            return Ok(Vec::new());
        }
        // A panic inside a rayon task resumes on this thread, where `no_panic` catches it; the
        // GIL is held again by then.
        let peaks = py.detach(|| find_peaks_rows(x, len, &params.cwt, threads)).map_err(engine_error)?;
        Ok(peaks.rows().map(|p| to_array(py, p)).collect())
    })
}

/// The one Python exception for each class of failure (the library's classes, as values).
fn class_error(class: Class, msg: String) -> PyErr {
    match class {
        Class::Input => InputError::new_err(msg),
        Class::Usage => PyValueError::new_err(msg),
        Class::Output => OutputError::new_err(msg),
        Class::Busy => BusyError::new_err(msg),
        Class::Interrupted => PyKeyboardInterrupt::new_err(msg),
        Class::Launch | Class::Internal => PyRuntimeError::new_err(msg),
    }
}

/// An engine failure as its class's Python exception.
fn engine_error(e: ComputeError) -> PyErr {
    class_error(e.class(), e.to_string())
}

/// Run the engine on a USID file in this process (every core, no MPI) and return the summary
/// as JSON (the CLI's `find --json`).
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
#[pyo3(signature = (path, params, dataset=None, along=None, output=None, threads=None, max_mem_mb=1024, force=false, progress=true, on_progress=None))]
#[allow(clippy::too_many_arguments)] // the CLI's options, one argument each
fn find(
    py: Python<'_>,
    path: PathBuf,
    params: &Params,
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
    let counter = Arc::new(ProgressCounter::default());
    let job = Job {
        input: path,
        dataset,
        output,
        threads,
        max_mem_mb,
        force,
        progress: match (&on_progress, progress) {
            (Some(_), _) => ProgressMode::Observed(Arc::clone(&counter)),
            (None, true) => ProgressMode::Auto,
            (None, false) => ProgressMode::Quiet,
        },
        along,
        bind_threads: Binding::Auto,
    };
    let (cwt, component) = (params.cwt.clone(), params.component);
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (outcome, interrupt, raised) = std::thread::scope(|s| {
        let engine = s.spawn(|| {
            catch_unwind(AssertUnwindSafe(|| {
                compute::run_until(&World::single(), &job, started, &stop, |layout| {
                    PeakFinding::new(layout, cwt, component)
                })
            }))
        });
        // A KeyboardInterrupt from Python's SIGINT handler, or the exception the progress
        // callable raised: either stops the engine after the current batch.
        let (mut interrupt, mut raised): (Option<PyErr>, Option<PyErr>) = (None, None);
        let tell = |raised: &mut Option<PyErr>| {
            let Some(f) = &on_progress else { return };
            if counter.total() == 0 {
                return; // not computing yet, or nothing to compute (a reused group)
            }
            if let Err(e) = f.call1((counter.done(), counter.total())) {
                stop.store(true, Ordering::Relaxed);
                raised.get_or_insert(e);
            }
        };
        let mut told = Instant::now();
        while !engine.is_finished() {
            py.detach(|| std::thread::sleep(Duration::from_millis(50)));
            if interrupt.is_none() {
                if let Err(e) = py.check_signals() {
                    stop.store(true, Ordering::Relaxed);
                    interrupt = Some(e);
                }
            }
            if interrupt.is_none() && raised.is_none() && told.elapsed() >= Duration::from_millis(200) {
                told = Instant::now();
                tell(&mut raised);
            }
        }
        let outcome = engine.join();
        // The final count, for a run that completed (a failed one raises its own error).
        if interrupt.is_none() && raised.is_none() && matches!(outcome, Ok(Ok(Ok(_)))) {
            tell(&mut raised);
        }
        (outcome, interrupt, raised)
    });
    let summary = match outcome {
        Ok(Ok(Ok(summary))) => summary,
        // Stopped for the progress callable's exception: raise that one (the checkpoint stays,
        // so the same call resumes), not the engine's KeyboardInterrupt.
        Ok(Ok(Err(ComputeError::Interrupted(_)))) if interrupt.is_none() && raised.is_some() => {
            return Err(raised.expect("checked just above"))
        }
        Ok(Ok(Err(e))) => return Err(engine_error(e)),
        Ok(Err(panic)) | Err(panic) => return Err(internal_error(panic.as_ref())),
    };
    // Stopped during the final write, or the callable raised at the end: the results are
    // complete, but the user (or their code) asked to stop.
    if let Some(e) = interrupt.or(raised) {
        return Err(e);
    }
    serde_json::to_string(&summary).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// One pixel's spectra's peaks, by `index` or by (`row`, `col`) on the position grid (columns:
/// the position dimension that varies fastest), the spectra along `along` (default: the
/// fastest-varying spectroscopic dimension), as `usid-peaks pixel --json` prints them (JSON).
#[pyfunction]
#[pyo3(signature = (path, params, dataset=None, row=None, col=None, index=None, along=None))]
#[allow(clippy::too_many_arguments)] // the CLI's options, one argument each
fn pixel(
    py: Python<'_>,
    path: PathBuf,
    params: &Params,
    dataset: Option<String>,
    row: Option<usize>,
    col: Option<usize>,
    index: Option<usize>,
    along: Option<String>,
) -> PyResult<String> {
    no_panic(|| {
        let choice = match (index, row, col) {
            (Some(i), None, None) => PixelChoice::Index(i),
            (None, Some(row), Some(col)) => PixelChoice::Grid { row, col },
            _ => return Err(PyValueError::new_err("give row and col, or index")),
        };
        let query = PixelQuery {
            file: &path,
            dataset: dataset.as_deref(),
            pixel: choice,
            along: along.as_deref(),
            steps: &[],
        };
        let (cwt, component) = (params.cwt.clone(), params.component);
        let found = py.detach(|| pixel_peaks(&query, cwt, component)).map_err(engine_error)?;
        Ok(found.to_json(&path.display().to_string()).to_string())
    })
}

/// The module: the functions above and the exception classes.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<Params>()?;
    m.add_function(wrap_pyfunction!(find_peaks_1d, m)?)?;
    m.add_function(wrap_pyfunction!(find_peaks_2d, m)?)?;
    m.add_function(wrap_pyfunction!(find, m)?)?;
    m.add_function(wrap_pyfunction!(pixel, m)?)?;
    m.add("Error", py.get_type::<Error>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("OutputError", py.get_type::<OutputError>())?;
    m.add("BusyError", py.get_type::<BusyError>())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panics_message_reaches_the_runtime_error() {
        Python::initialize();
        let e = Python::attach(|_| no_panic::<()>(|| panic!("stop at {}", 3)).unwrap_err());
        assert!(e.to_string().contains("internal error (a bug, please report it): stop at 3"), "{e}");
        let payload: Box<dyn std::any::Any + Send> = Box::new("a &str payload");
        assert!(internal_error(payload.as_ref()).to_string().ends_with("a &str payload"));
    }
}
