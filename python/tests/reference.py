"""scipy as the reference, and the one way a comparison may fail without a bug.

The library sums the wavelet transform in another order than numpy's `convolve`, so a
comparison scipy decides by the last bits of two (mathematically equal or nearly equal) CWT
values may go the other way (see the cwt module's documentation). A mismatch is therefore
accepted only where scipy's own answer changes when its CWT is summed another way (in extended
precision, or from the other end); the tests count such cases and cap them. A few cases that
probe does not flip are proven rounding ties by the Rust tests against scipy's own CWT matrix;
the sweep names them (`Tally.check_proven_tie`). Any other mismatch fails."""

import math
import warnings
from fractions import Fraction

import numpy as np
import scipy.signal._peak_finding as _pf
import scipy.signal._wavelets as _wavelets
from scipy.signal import find_peaks_cwt as scipy_find

_SCIPY_CWT = _pf._cwt


def _cwt_extended(data, wavelet, widths, dtype=None, **kwargs):
    data = np.asarray(data, dtype=np.longdouble)
    out = np.empty((len(widths), len(data)))
    for row, width in enumerate(widths):
        taps = np.asarray(wavelet(np.min([10 * width, len(data)]), width), dtype=np.longdouble)
        out[row] = np.convolve(data, taps[::-1], mode="same")
    return out


def _cwt_reversed(data, wavelet, widths, dtype=None, **kwargs):
    data = np.asarray(data, dtype=np.float64)
    out = np.empty((len(widths), len(data)))
    for row, width in enumerate(widths):
        taps = np.asarray(wavelet(np.min([10 * width, len(data)]), width), dtype=np.float64)
        full = np.convolve(data[::-1], taps, mode="full")[::-1]
        start = (len(full) - len(data)) // 2
        out[row] = full[start:start + len(data)]
    return out


def _scipy_find_on(cwt, y, widths, kw):
    """scipy's peaks with `cwt` in place of its own CWT."""
    _pf._cwt = cwt
    try:
        return scipy_find(y, widths, **kw)
    finally:
        _pf._cwt = _SCIPY_CWT


def rounding_decides(y, widths, kw):
    """Whether scipy's peaks for this case change when its CWT is summed another way."""
    ref = scipy_find(y, widths, **kw)
    return any(not np.array_equal(_scipy_find_on(cwt, y, widths, kw), ref) for cwt in (_cwt_extended, _cwt_reversed))


def _cwt_with(data, wavelet, widths, number):
    """scipy's CWT with every convolution summed over Python numbers made by `number` (term by
    term in numpy's order: object arrays take no BLAS kernel), each value rounded to float64."""
    data = np.array([number(float(v)) for v in np.asarray(data, dtype=np.float64)], dtype=object)
    out = np.empty((len(widths), len(data)))
    for row, width in enumerate(widths):
        taps = np.asarray(wavelet(np.min([10 * width, len(data)]), width), dtype=np.float64)
        taps = np.array([number(float(t)) for t in taps[::-1]], dtype=object)
        out[row] = [float(v) for v in np.convolve(data, taps, mode="same")]
    return out


def scipy_find_summed_in_order(y, widths, **kw):
    """scipy's peaks with its CWT's sums taken term by term in float64 (numpy's order, no BLAS).
    numpy's `convolve` of float64 sums with the BLAS dot kernel chosen for the CPU, so where two
    CWT values are equal in exact arithmetic scipy's own answer can change with the CPU; this one
    does not."""
    return _scipy_find_on(lambda d, wav, w, **_: _cwt_with(d, wav, w, float), y, widths, kw)


def scipy_find_exact(y, widths, **kw):
    """scipy's peaks with its CWT summed exactly (rationals) and rounded once: the peaks that do
    not hang on a rounding."""
    return _scipy_find_on(lambda d, wav, w, **_: _cwt_with(d, wav, w, Fraction), y, widths, kw)


class _NumpyWithLibmExp:
    """numpy, except that `exp` is the C library's, one value at a time (what the library's
    wavelet uses). numpy's own vectorised `exp` (its AVX-512 loop, where the CPU has one) rounds
    some wavelet taps 1-2 ulps differently."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def exp(v):
        return np.vectorize(math.exp, otypes=[np.float64])(v)


def scipy_with_libm_exp(y, widths, kw):
    """scipy's peaks with its own code, but its wavelet taps computed with the C library's `exp`."""
    _wavelets.np = _NumpyWithLibmExp()
    try:
        return scipy_find(y, widths, **kw)
    finally:
        _wavelets.np = np


class Tally:
    """Cases compared, and the mismatches accepted: rounding-decided ones (see above), at most
    one in 200 cases, and the cases a Rust test proves rounding ties (`check_proven_tie`). Any
    other mismatch fails: a differing peak is a bug until a test proves it a tie."""

    def __init__(self):
        self.cases = 0
        self.rounding = []
        self.kernel = []
        self.proven = []

    def check(self, ours, y, widths, kw, what):
        self.cases += 1
        ref = scipy_find(y, widths, **kw)
        assert isinstance(ours, np.ndarray) and ours.dtype == np.int64, what
        if np.array_equal(ours, np.asarray(ref)):
            return
        line = f"{what}: ours {ours.tolist()} scipy {list(ref)}"
        (self.rounding if rounding_decides(y, widths, kw) else self.kernel).append(line)

    def check_proven_tie(self, ours, y, widths, kw, what, scipy_only, proof):
        """A case that a Rust test proves a rounding tie against scipy's own CWT matrix (`proof`
        names the test): ours equals scipy's peaks, or lacks exactly the columns `scipy_only` and
        then equals scipy's answer with the wavelet's `exp` taken from the C library (so the tie
        is broken by the taps' last bits, not by the kernel). Not counted as a mismatch."""
        self.cases += 1
        ref = np.asarray(scipy_find(y, widths, **kw))
        assert isinstance(ours, np.ndarray) and ours.dtype == np.int64, what
        if np.array_equal(ours, ref):
            return
        line = f"{what}: ours {ours.tolist()} scipy {ref.tolist()}"
        assert sorted(set(ref.tolist()) - set(ours.tolist())) == sorted(scipy_only), line
        assert set(ours.tolist()) <= set(ref.tolist()), line
        assert np.array_equal(ours, np.asarray(scipy_with_libm_exp(y, widths, kw))), line
        self.proven.append(f"{line} (a proven rounding tie: {proof})")

    def assert_rare(self):
        """More than 1 rounding-decided case in 200, or any other unproven mismatch, is a bug."""
        for line in self.rounding:
            warnings.warn(f"differs from scipy where scipy's own rounding decides: {line}")
        assert len(self.rounding) * 200 <= self.cases, "\n".join(self.rounding)
        assert not self.kernel, "differs from scipy, not proven a tie:\n" + "\n".join(self.kernel)
