"""The Python functions' parameters come from the analysis's description in Rust: the signatures
(scipy's for find_peaks_cwt), the keywords checked by name in Rust, and the committed stubs."""

import inspect
import pathlib

import numpy as np
import pytest
from scipy.signal import find_peaks_cwt as scipy_find

import usid_peaks
from usid_peaks import _native, _stubs

Y = np.abs(np.sin(np.arange(119) / 7.0)) + np.arange(119) / 300.0
SEED = np.linspace(20, 60, 30)


def test_the_committed_stubs_are_the_ones_the_description_makes():
    committed = (pathlib.Path(__file__).parent.parent / "usid_peaks" / "__init__.pyi").read_text(encoding="utf-8")
    assert committed == _stubs.render(committed), (
        "python/usid_peaks/__init__.pyi is stale: run python -m usid_peaks._stubs python/usid_peaks/__init__.pyi"
    )


def test_find_peaks_cwt_has_scipys_parameters_in_scipys_order_and_defaults():
    ours = inspect.signature(usid_peaks.find_peaks_cwt).parameters
    theirs = inspect.signature(scipy_find).parameters
    assert list(ours)[: len(theirs)] == list(theirs)
    for name, p in theirs.items():
        assert ours[name].default == p.default, name
        assert ours[name].kind == p.kind, name
    extra = list(ours.values())[len(theirs):]
    assert "threads" in [p.name for p in extra] and "snr_from" in [p.name for p in extra]
    assert all(p.kind == inspect.Parameter.KEYWORD_ONLY for p in extra), "ours are keywords only"


def test_positional_parameters_land_where_scipy_puts_them():
    by_position = usid_peaks.find_peaks_cwt(Y, SEED, None, None, None, None, 0.5, 30)
    by_name = usid_peaks.find_peaks_cwt(Y, SEED, min_snr=0.5, noise_perc=30)
    assert np.array_equal(by_position, by_name)
    assert np.array_equal(by_name, scipy_find(Y, SEED, min_snr=0.5, noise_perc=30))
    with pytest.raises(TypeError):
        usid_peaks.find_peaks_cwt(Y, SEED, None, None, None, None, 0.5, 30, None, 4)
    with pytest.raises(TypeError, match="multiple values"):
        usid_peaks.find_peaks_cwt(Y, SEED, None, None, None, None, 0.5, min_snr=2)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"bogus": 1.0}, TypeError, "bogus"),
        ({"min_snr": "x"}, TypeError, "min_snr"),
        ({"window_size": -3}, ValueError, "window_size must be >= 0"),
        ({"snr_from": "peak"}, ValueError, "'ridge_end' or 'ridge_max'"),
        ({"snr_from": 1}, TypeError, "snr_from"),
        ({"widths": "20:60:30"}, TypeError, "widths"),
    ],
)
def test_the_rust_half_checks_every_keyword_by_name_and_kind(params, error, match):
    with pytest.raises(error, match=match):
        _native.find_peaks_1d(Y, {"widths": [2.0, 4.0], **params})


def test_defaults_are_the_descriptions():
    described = {s["name"]: s for s in _native.describe()["find"]}
    assert described["min_snr"]["default"] == 1.0 and described["noise_perc"]["default"] == 10.0
    assert described["component"]["default"] == "abs" and described["snr_from"]["default"] == "ridge_end"
    assert np.array_equal(usid_peaks.SEED_WIDTHS, np.linspace(20, 60, 30))
    assert described["max_distances"]["default"] is None, "derived from the widths"
    # No keyword but the widths: the description's defaults, which are scipy's.
    assert np.array_equal(_native.find_peaks_1d(Y, {"widths": SEED.tolist()}), scipy_find(Y, SEED))
