//! `usid_peaks._native`: the Rust half of the `usid_peaks` Python package.
//!
//! Thin on purpose: the Python half (`usid_peaks/__init__.py`) turns scipy-style arguments into
//! plain numbers and C-contiguous float64 arrays, and hands the analysis's keywords over by name;
//! this half checks them against the library's parameter description (`params.rs`), builds the
//! job (`run.rs`), runs the library with the GIL released, and turns every failure into a Python
//! exception. A Rust panic never reaches Python: each entry point catches it and raises
//! `RuntimeError`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Mutex;

use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use usid_peaks::compute::ComputeError;
use usid_peaks::cwt::{CwtParams, PeakFinder, Scratch};
use usid_peaks::error::Class;
use usid_peaks::peaks::{find_peaks_rows, pixel_peaks, PeakParams, PixelQuery};
use usid_peaks::usid::select::PixelChoice;

mod params;
mod run;
mod sho;

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
    params: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    no_panic(|| {
        let params: CwtParams = params::from_keywords(params)?;
        let x = vector.as_slice().map_err(|e| PyValueError::new_err(e.to_string()))?;
        // A poisoned lock (a panic mid-search) only loses the cache: the plan is rebuilt.
        let mut last = LAST_PLAN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let hit = matches!(&*last, Some((p, f, _)) if f.spectrum_len() == x.len() && *p == params);
        if !hit {
            *last = None;
            let finder =
                PeakFinder::new(x.len(), &params).map_err(|e| PyValueError::new_err(e.to_string()))?;
            let scratch = finder.new_scratch();
            *last = Some((params, finder, scratch));
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
    params: &Bound<'py, PyDict>,
    threads: Option<usize>,
) -> PyResult<Vec<Bound<'py, PyArray1<i64>>>> {
    no_panic(|| {
        let params: CwtParams = params::from_keywords(params)?;
        let [n_rows, len] = [matrix.shape()[0], matrix.shape()[1]];
        let x = matrix.as_slice().map_err(|e| PyValueError::new_err(e.to_string()))?;
        if n_rows == 0 {
            return Ok(Vec::new());
        }
        // A panic inside a rayon task resumes on this thread, where `no_panic` catches it; the
        // GIL is held again by then.
        let peaks = py.detach(|| find_peaks_rows(x, len, &params, threads)).map_err(engine_error)?;
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
        Class::Launch | Class::Silent | Class::Internal => PyRuntimeError::new_err(msg),
    }
}

/// An engine failure as its class's Python exception.
fn engine_error(e: ComputeError) -> PyErr {
    class_error(e.class(), e.to_string())
}

/// A pixel as Python names it: `(row, col)` on the position grid, or its row in the dataset.
#[derive(FromPyObject)]
enum Which {
    Grid(usize, usize),
    Index(usize),
}

/// One pixel's spectra's peaks (`pixel`: `(row, col)` on the position grid, the columns being
/// the position dimension that varies fastest, or an index), the spectra along `along` (default:
/// the fastest-varying spectroscopic dimension), as `usid-peaks pixel --json` prints them (JSON).
#[pyfunction]
#[pyo3(signature = (path, params, pixel, dataset=None, along=None))]
fn pixel(
    py: Python<'_>,
    path: PathBuf,
    params: &Bound<'_, PyDict>,
    pixel: Which,
    dataset: Option<String>,
    along: Option<String>,
) -> PyResult<String> {
    no_panic(|| {
        let pixel = match pixel {
            Which::Grid(row, col) => PixelChoice::Grid { row, col },
            Which::Index(i) => PixelChoice::Index(i),
        };
        let query = PixelQuery {
            file: &path,
            dataset: dataset.as_deref(),
            pixel,
            along: along.as_deref(),
            steps: &[],
        };
        let params: PeakParams = params::from_keywords(params)?;
        let found = py.detach(|| pixel_peaks(&query, params)).map_err(engine_error)?;
        Ok(found.to_json(&path.display().to_string()).to_string())
    })
}

/// The module: the functions above and the exception classes.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_function(wrap_pyfunction!(params::describe, m)?)?;
    m.add_function(wrap_pyfunction!(find_peaks_1d, m)?)?;
    m.add_function(wrap_pyfunction!(find_peaks_2d, m)?)?;
    m.add_function(wrap_pyfunction!(run::run, m)?)?;
    m.add_function(wrap_pyfunction!(sho::sho_fit, m)?)?;
    m.add_function(wrap_pyfunction!(pixel, m)?)?;
    m.add("Error", py.get_type::<Error>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("OutputError", py.get_type::<OutputError>())?;
    m.add("BusyError", py.get_type::<BusyError>())?;
    // One version: the crate's (python/Cargo.toml, held to the root crate's by a test), which
    // maturin also writes into the wheel's metadata.
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // The HDF5 the module's calls reach, and the one it was built against: equal unless another
    // HDF5 in the process (h5py's) took over its symbols (python/tests/test_h5py.py checks).
    let (major, minor, micro) = hdf5::library_version();
    m.add("hdf5_version", format!("{major}.{minor}.{micro}"))?;
    let built = hdf5_sys::HDF5_VERSION;
    m.add("hdf5_built_version", format!("{}.{}.{}", built.major, built.minor, built.micro))?;
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
