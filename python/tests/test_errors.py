"""Bad arguments raise what scipy raises (ValueError/TypeError), or a clear NotImplementedError /
TypeError where this package refuses what scipy would do differently; never a crash."""

import numpy as np
import pytest
from scipy.signal import find_peaks_cwt as scipy_find

import usid_peaks

Y = np.abs(np.sin(np.arange(119) / 7.0))
SEED = np.linspace(20, 60, 30)


def test_complex_input_says_to_pass_abs():
    with pytest.raises(TypeError, match=r"np\.abs\(x\)"):
        usid_peaks.find_peaks_cwt(Y + 1j * Y, SEED)
    with pytest.raises(TypeError, match=r"np\.abs\(x\)"):
        usid_peaks.find_peaks_cwt(np.stack([Y, Y]).astype(np.complex64), SEED)


def test_a_wavelet_is_not_implemented_and_the_message_names_it():
    with pytest.raises(NotImplementedError, match="wavelet"):
        usid_peaks.find_peaks_cwt(Y, SEED, wavelet=lambda n, w: np.ones(n))
    with pytest.raises(NotImplementedError, match="wavelet"):
        usid_peaks.find_peaks_cwt(Y, SEED, lambda n, w: np.ones(n))


@pytest.mark.parametrize(
    "kw",
    [
        {"widths": [2.0, 0.0]},
        {"widths": [-1.0]},
        {"widths": [np.nan]},
        {"widths": [4.0, 8.0], "max_distances": [1.0]},
        {"widths": SEED, "noise_perc": 100.5},
        {"widths": SEED, "noise_perc": -1},
    ],
)
def test_parameters_scipy_refuses_raise_valueerror(kw):
    widths = kw.pop("widths")
    with pytest.raises(ValueError):
        scipy_find(Y, widths, **kw)
    with pytest.raises(ValueError):
        usid_peaks.find_peaks_cwt(Y, widths, **kw)
    with pytest.raises(ValueError):
        usid_peaks.find_peaks_cwt(np.stack([Y, Y]), widths, **kw)


def test_no_widths_and_empty_spectra_raise_valueerror():
    # scipy fails here too, with an IndexError/ValueError from deep inside.
    with pytest.raises(Exception):
        scipy_find(Y, [])
    with pytest.raises(ValueError, match="no widths"):
        usid_peaks.find_peaks_cwt(Y, [])
    with pytest.raises(ValueError, match="empty"):
        usid_peaks.find_peaks_cwt(np.array([]), [2.0])
    with pytest.raises(ValueError, match="empty"):
        usid_peaks.find_peaks_cwt(np.zeros((3, 0)), [2.0])


@pytest.mark.parametrize(
    "vector, error",
    [
        (np.zeros((2, 3, 4)), ValueError),
        (np.float64(3.0), ValueError),
        (np.array(["a", "b", "c"]), TypeError),
        (np.array([object(), 1, 2], dtype=object), TypeError),
        ([1.0, "x", 3.0], TypeError),
    ],
)
def test_vectors_that_are_not_real_1d_or_2d_arrays_are_refused(vector, error):
    with pytest.raises(error):
        usid_peaks.find_peaks_cwt(vector, [2.0])


@pytest.mark.parametrize(
    "kw, error",
    [
        ({"max_distances": 3.0}, TypeError),
        ({"max_distances": ["a"] * 30}, ValueError),
        ({"min_snr": [1, 2]}, TypeError),
        ({"gap_thresh": "x"}, ValueError),
        ({"window_size": -2}, ValueError),
        ({"threads": 0}, ValueError),
        ({"threads": 1.5}, TypeError),
        ({"snr_from": "peak"}, ValueError),
    ],
)
def test_bad_keyword_values_raise_valueerror_or_typeerror(kw, error):
    with pytest.raises(error):
        usid_peaks.find_peaks_cwt(np.stack([Y, Y]), SEED, **kw)


def test_widths_of_more_than_one_dimension_are_refused():
    with pytest.raises(ValueError, match="1-D"):
        usid_peaks.find_peaks_cwt(Y, np.ones((2, 2)))


def test_find_and_pixel_report_missing_files_and_bad_options():
    with pytest.raises(usid_peaks.InputError, match="nope.h5"):
        usid_peaks.find("nope.h5", progress=False)
    with pytest.raises(usid_peaks.InputError):
        usid_peaks.pixel("nope.h5", 0, 0)
    with pytest.raises(TypeError, match="along"):
        usid_peaks.find("nope.h5", along=1)
    with pytest.raises(TypeError, match="bogus"):
        usid_peaks.find("nope.h5", bogus=1)
    with pytest.raises(ValueError, match="max_mem_mb"):
        usid_peaks.find("nope.h5", max_mem_mb=0)
    with pytest.raises(TypeError, match="row and col"):
        usid_peaks.pixel("nope.h5", 3)
    with pytest.raises(NotImplementedError, match="wavelet"):
        usid_peaks.find("nope.h5", wavelet=np.ones)
    assert issubclass(usid_peaks.InputError, usid_peaks.Error)
