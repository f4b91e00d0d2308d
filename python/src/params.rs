//! Keywords to parameters, by name: the Python half hands over the keywords it was given (each
//! converted by its kind, scipy's way), this half checks every name and value against the
//! library's description and fills in the described defaults. [`describe`] hands the
//! descriptions over, for the Python signatures, docs and stubs.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use usid_peaks::cwt::CwtParams;
use usid_peaks::params::{DefaultTo, Kind, Param, ParamError, Parameters, Scipy, Spec, Values};
use usid_peaks::peaks::PeakParams;
use usid_peaks::sho::ShoParams;

/// The parameter set `P` from `keywords` (name → value): an unknown name or a value of the wrong
/// type raises `TypeError`, a value the parameter does not take `ValueError`.
pub fn from_keywords<P: Parameters>(keywords: &Bound<'_, PyDict>) -> PyResult<P> {
    let mut values = Values::new(P::DESCRIPTION);
    for (name, value) in keywords.iter() {
        let name: String = name.extract()?;
        let Some(spec) = P::DESCRIPTION.spec(&name) else {
            return Err(PyTypeError::new_err(format!("got an unexpected keyword argument {name:?}")));
        };
        values.set(&name, param(spec, &value)?).map_err(error)?;
    }
    P::from_values(&values).map_err(error)
}

fn error(e: ParamError) -> PyErr {
    match e {
        ParamError::Unknown(m) | ParamError::Type(m) => PyTypeError::new_err(m),
        ParamError::Value(m) => PyValueError::new_err(m),
    }
}

/// `value` as the value of `spec`, taken as its kind says (the Python half has converted it).
fn param(spec: &Spec, value: &Bound<'_, PyAny>) -> PyResult<Param> {
    let name = spec.name;
    let wrong = |what: &str| PyTypeError::new_err(format!("{name} must be {what}, got {value}"));
    Ok(match spec.kind {
        Kind::Float => Param::Float(value.extract().map_err(|_| wrong("a number"))?),
        Kind::Count | Kind::Size => Param::Int(value.extract().map_err(|_| wrong("an integer"))?),
        Kind::Floats | Kind::Widths => {
            Param::Floats(value.extract().map_err(|_| wrong("a list of numbers"))?)
        }
        Kind::Choice(choices) => {
            let given: String = value.extract().map_err(|_| wrong("a str"))?;
            match choices.iter().find(|c| c.python_name() == given) {
                Some(c) => Param::Str(c.name.to_string()),
                None => {
                    let names: Vec<String> =
                        choices.iter().map(|c| format!("'{}'", c.python_name())).collect();
                    let listed = match names.split_last() {
                        Some((last, [])) => last.clone(),
                        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                        None => String::new(),
                    };
                    return Err(PyValueError::new_err(format!("{name} must be {listed}, got '{given}'")));
                }
            }
        }
    })
}

/// A value as Python writes it (a choice with `_` for `-`).
fn to_python<'py>(py: Python<'py>, spec: &Spec, value: Param) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Param::Str(s) => match spec.kind {
            Kind::Choice(_) => s.replace('-', "_").into_pyobject(py)?.into_any(),
            _ => s.into_pyobject(py)?.into_any(),
        },
        Param::Float(v) => v.into_pyobject(py)?.into_any(),
        Param::Int(v) => v.into_pyobject(py)?.into_any(),
        Param::Floats(v) => PyList::new(py, v)?.into_any(),
    })
}

/// One parameter as a dict: `name`, `kind` (float, count, size, floats, widths, choice),
/// `choices` (their Python names) and `choice_help`, `default` (the value; `None` when derived), `default_text`
/// (the command line's text, or how it is derived), `help`, `scipy` (no, positional, required).
fn spec_dict<'py>(py: Python<'py>, spec: &Spec) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", spec.name)?;
    d.set_item("kind", spec.kind.name())?;
    let choices = match spec.kind {
        Kind::Choice(c) => c,
        _ => &[],
    };
    d.set_item("choices", choices.iter().map(|c| c.python_name()).collect::<Vec<_>>())?;
    d.set_item("choice_help", choices.iter().map(|c| c.help).collect::<Vec<_>>())?;
    let default = spec.default_value().map(|v| to_python(py, spec, v)).transpose()?;
    d.set_item("default", default)?;
    d.set_item(
        "default_text",
        match spec.default {
            DefaultTo::Text(t) | DefaultTo::Derived(t) => t,
        },
    )?;
    d.set_item("help", spec.help)?;
    d.set_item(
        "scipy",
        match spec.scipy {
            Scipy::No => "no",
            Scipy::Positional => "positional",
            Scipy::Required => "required",
        },
    )?;
    Ok(d)
}

/// The descriptions the Python functions take their keywords from: `find_peaks_cwt` the
/// kernel's, `find` and `pixel` peak finding's, `fit_sho` and `sho_fit` the SHO fit's (a list of [`spec_dict`]s each, in order).
#[pyfunction]
pub fn describe(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    for (name, description) in [
        ("find_peaks_cwt", CwtParams::DESCRIPTION),
        ("find", PeakParams::DESCRIPTION),
        ("pixel", PeakParams::DESCRIPTION),
        ("fit_sho", ShoParams::DESCRIPTION),
        ("sho_fit", ShoParams::DESCRIPTION),
    ] {
        let specs = description.specs().map(|s| spec_dict(py, s)).collect::<PyResult<Vec<_>>>()?;
        out.set_item(name, specs)?;
    }
    Ok(out)
}
