//! The SHO fit from Python: `sho_fit` on complex spectra in memory (every core, the GIL released);
//! `fit_sho` on a file is `run.rs`'s engine run with the SHO analysis.

use numpy::{Complex64, PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use usid_peaks::compute::parallel_compute_init;
use usid_peaks::sho::{ShoFitter, ShoParams};

use super::{no_panic, params};

/// The guess and the fit of every row of `responses` (complex128, one spectrum per row, sampled at
/// `frequencies`, Hz) on `threads` threads (default: every core) with the GIL released: float64,
/// flat, per spectrum its guess then its fit, each BGlib's five fields in order (amplitude,
/// frequency, quality factor, phase, R²) — the Python half views it as BGlib's records.
#[pyfunction]
#[pyo3(signature = (frequencies, responses, params, threads=None))]
pub fn sho_fit<'py>(
    py: Python<'py>,
    frequencies: PyReadonlyArray1<'py, f64>,
    responses: PyReadonlyArray2<'py, Complex64>,
    params: &Bound<'py, PyDict>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    no_panic(|| {
        let params: ShoParams = params::from_keywords(params)?;
        let freqs = frequencies.as_slice().map_err(|e| PyValueError::new_err(e.to_string()))?;
        let fitter = ShoFitter::new(freqs, &params).map_err(|e| PyValueError::new_err(e.0))?;
        let bins = responses.shape()[1];
        if bins != freqs.len() {
            return Err(PyValueError::new_err(format!(
                "responses hold {bins} values per spectrum for {} frequencies",
                freqs.len()
            )));
        }
        if threads == Some(0) {
            return Err(PyValueError::new_err("threads must be at least 1"));
        }
        let spectra = responses.as_array();
        let outcomes = py.detach(|| {
            parallel_compute_init(
                spectra,
                threads.unwrap_or(0),
                || fitter.new_scratch(),
                |scratch, row| match row.as_slice() {
                    Some(x) => fitter.fit(x, scratch),
                    None => fitter.fit(&row.to_vec(), scratch),
                },
            )
        });
        let flat = outcomes
            .iter()
            .flat_map(|o| [o.guess, o.fit])
            .flat_map(|r| [r.amplitude, r.frequency, r.quality, r.phase, r.r2])
            .collect();
        Ok(PyArray1::from_vec(py, flat))
    })
}
