"""usid_peaks.find_peaks_cwt against scipy.signal.find_peaks_cwt on generated spectra over the
whole parameter space: 1-D and 2-D, float64/float32/integer/bool input, lengths 3 to 2000,
widths as lists, linspaces and single numbers, and every keyword parameter.

The cases are drawn from fixed seeds, so a failure names a case that reproduces."""

import numpy as np
import pytest
from reference import Tally, scipy_find, scipy_find_exact, scipy_find_summed_in_order

import usid_peaks

N_CASES = 2400


def spectrum(rng, n, kind):
    """One spectrum of `n` samples of a given shape family."""
    t = np.arange(n, dtype=np.float64)
    if kind == "noise":
        return rng.normal(size=n)
    if kind == "peaks":
        y = np.zeros(n)
        for _ in range(rng.integers(1, 6)):
            c, w, a = rng.uniform(0, n), rng.uniform(1, max(2.0, n / 5)), rng.uniform(0.2, 3)
            y += a / (1 + ((t - c) / w) ** 2)
        return y + rng.normal(scale=rng.choice([0.0, 0.01, 0.1]), size=n)
    if kind == "integers":
        # Small integers: ties, exact zeros and equal neighbours, where the CWT has exactly equal
        # values and scipy's strict comparisons decide.
        return rng.integers(0, 4, size=n)
    if kind == "steps":
        return np.repeat(rng.normal(size=max(1, n // 7 + 1)), 7)[:n]
    if kind == "sine":
        return np.sin(t * rng.uniform(0.01, 0.5)) * rng.uniform(0.1, 10)
    return np.zeros(n)


KINDS = ["noise", "peaks", "peaks", "integers", "steps", "sine", "zeros"]


def draw_length(rng):
    # Mostly short spectra (scipy's Python loop is slow), some up to 2000.
    r = rng.random()
    if r < 0.15:
        return int(rng.integers(3, 12))
    if r < 0.85:
        return int(rng.integers(12, 300))
    return int(rng.integers(300, 2001))


def draw_widths(rng, n):
    top = max(2.0, min(60.0, n / 2))
    form = rng.integers(0, 4)
    if form == 0:
        return np.linspace(rng.uniform(0.5, top / 2), top, int(rng.integers(1, 31)))
    if form == 1:
        return sorted(rng.uniform(0.3, top, size=int(rng.integers(1, 12))).tolist())
    if form == 2:
        return list(range(1, int(rng.integers(2, min(20, int(top)) + 2))))
    return float(rng.uniform(0.5, top))


def draw_kwargs(rng, widths):
    nw = np.atleast_1d(widths).size
    kw = {}
    if rng.random() < 0.3:
        kw["max_distances"] = rng.uniform(0.1, 10, size=nw + int(rng.integers(0, 3)))
    if rng.random() < 0.3:
        kw["gap_thresh"] = float(rng.choice([0.0, 1.0, 2.5, rng.uniform(0, 20)]))
    if rng.random() < 0.3:
        kw["min_length"] = int(rng.integers(0, nw + 2))
    if rng.random() < 0.3:
        kw["min_snr"] = float(rng.choice([0.0, 0.5, 1.0, 2.0, rng.uniform(0, 5)]))
    if rng.random() < 0.3:
        kw["noise_perc"] = float(rng.choice([0.0, 10.0, 50.0, 100.0, rng.uniform(0, 100)]))
    if rng.random() < 0.3:
        kw["window_size"] = int(rng.integers(1, 40))
    return kw


def cast(rng, y):
    choice = rng.integers(0, 4)
    if choice == 0:
        return y.astype(np.float32)
    if choice == 1:
        # Integer input over a wide range. Coarse integers (a sine rounded to a few levels) are
        # pinned separately: see test_coarse_integer_sine_like_scipy.
        return np.round(y * 1000).astype(rng.choice([np.int64, np.int32]))
    return np.asarray(y, dtype=np.float64)


def cases(seed, count):
    rng = np.random.default_rng(seed)
    for i in range(count):
        n = draw_length(rng)
        y = cast(rng, spectrum(rng, n, KINDS[i % len(KINDS)]))
        widths = draw_widths(rng, n)
        yield i, y, widths, draw_kwargs(rng, widths)


def assert_same(ours, ref, what):
    assert ours.dtype == np.int64, what
    assert np.array_equal(ours, np.asarray(ref)), f"{what}: ours {ours.tolist()} scipy {list(ref)}"


# Cases of the sweep below that differ from scipy by a proven rounding tie: case index -> the
# columns scipy has and we lack. Case 1585 (1 369 integers 0..3, widths 1..6, window_size 31):
# row 0's values at 640 and 641 are equal in exact arithmetic; scipy's sums come out equal, ours
# 2 ulps apart, because numpy's vectorised exp (AVX-512) rounds some wavelet taps 1-2 ulps away
# from the C library's. Proven against scipy's own CWT matrix by the Rust test
# tests/cwt_scipy.rs::the_open_tie_prone_vectors_differ_from_scipy_only_by_rounding_ties (its
# fixture: tests/reference/cwt_tie_cases.py); on a CPU where numpy's exp is the C library's, scipy answers ours.
PROVEN_TIES = {1585: [640]}
PROOF = "tests/cwt_scipy.rs::the_open_tie_prone_vectors_differ_from_scipy_only_by_rounding_ties"


def test_one_spectrum_equals_scipy_over_the_parameter_space():
    tally = Tally()
    for i, y, widths, kw in cases(20261201, N_CASES):
        ours = usid_peaks.find_peaks_cwt(y, widths, **kw)
        what = f"case {i}: n={y.size} dtype={y.dtype} widths={widths!r} kw={kw}"
        if i in PROVEN_TIES:
            tally.check_proven_tie(ours, y, widths, kw, what, PROVEN_TIES[i], PROOF)
        else:
            tally.check(ours, y, widths, kw, what)
    tally.assert_rare()


def test_seed_parameters_on_lorentzians_with_noise_equal_scipy():
    rng = np.random.default_rng(7)
    widths = np.linspace(20, 60, 30)
    for i in range(300):
        y = np.abs(spectrum(rng, 119, "peaks") + 1j * rng.normal(scale=0.05, size=119)).astype(np.float32)
        assert_same(usid_peaks.find_peaks_cwt(y, widths), scipy_find(y, widths), f"spectrum {i}")


@pytest.mark.parametrize("threads", [None, 1, 2])
def test_each_row_of_a_2d_call_equals_scipy(threads):
    rng = np.random.default_rng(1000 + (threads or 0))
    tally = Tally()
    for case in range(25):
        n = draw_length(rng) if case % 5 else 119
        rows = int(rng.integers(1, 300))
        kind = KINDS[case % len(KINDS)]
        x = cast(rng, np.stack([spectrum(rng, n, kind) for _ in range(rows)]))
        widths = draw_widths(rng, n)
        kw = draw_kwargs(rng, widths)
        got = usid_peaks.find_peaks_cwt(x, widths, threads=threads, **kw)
        assert isinstance(got, list) and len(got) == rows
        for r in range(rows):
            tally.check(got[r], x[r], widths, kw, f"case {case} row {r}: n={n} dtype={x.dtype} widths={widths!r} kw={kw}")
    tally.assert_rare()


def test_2d_results_do_not_depend_on_threads_or_on_layout():
    rng = np.random.default_rng(5)
    x = np.stack([spectrum(rng, 119, "peaks") for _ in range(1000)])
    widths = np.linspace(20, 60, 30)
    one = usid_peaks.find_peaks_cwt(x, widths, threads=1)
    for other in (usid_peaks.find_peaks_cwt(x, widths, threads=3),
                  usid_peaks.find_peaks_cwt(np.asfortranarray(x), widths),
                  usid_peaks.find_peaks_cwt(x.tolist(), widths)):
        assert len(other) == len(one) == 1000
        assert all(np.array_equal(a, b) for a, b in zip(one, other))
    # A strided view is its rows, not the memory under it.
    view = np.repeat(x, 2, axis=1)[:, ::2]
    strided = usid_peaks.find_peaks_cwt(view, widths)
    assert len(strided) == len(one)
    assert all(np.array_equal(a, b) for a, b in zip(one, strided))


def test_empty_2d_and_short_spectra_like_scipy():
    assert usid_peaks.find_peaks_cwt(np.zeros((0, 119)), [5.0]) == []
    for n in (1, 2, 3):
        y = np.arange(n, dtype=float)
        assert_same(usid_peaks.find_peaks_cwt(y, [1.0]), scipy_find(y, [1.0]), f"n={n}")


def test_special_values_like_scipy():
    widths = [1.0, 2.0, 4.0]
    cases = [
        np.array([0.0, 1.0, np.nan, 1.0, 0.0, 2.0, 0.0]),
        np.array([0.0, 1.0, np.inf, 1.0, 0.0, 2.0, 0.0]),
        np.array([1.0, 3.0, 1.0, 3.0, 1.0]),
        np.array([True, False, True, True, False, True]),
    ]
    for y in cases:
        assert_same(usid_peaks.find_peaks_cwt(y, widths), scipy_find(y, widths), repr(y))
    y = spectrum(np.random.default_rng(3), 200, "peaks")
    for kw in ({"min_snr": -1.0}, {"gap_thresh": -3.0}, {"window_size": 0, "noise_perc": 300.0},
               {"min_length": 2.5}, {"window_size": 7.9}, {"widths": np.inf}):
        widths = kw.pop("widths", np.linspace(1, 20, 10))
        assert_same(usid_peaks.find_peaks_cwt(y, widths, **kw), scipy_find(y, widths, **kw), repr(kw))


# A sine rounded to the integers -6..6, 119 samples, widths 1..19: many equal neighbours, so
# several CWT rows hold pairs of values that are equal in exact arithmetic. One of them decides a
# peak at 61 or 62: summed exactly, scipy's own code finds neither; summed term by term in
# float64 it finds 62; numpy's float64 `convolve` sums with the BLAS dot kernel picked for the CPU,
# so scipy as installed finds 62 with OpenBLAS's Haswell, Zen or Sandybridge kernel and 61 with
# its SkylakeX one (an Intel AVX-512 machine). An earlier fast kernel of ours dropped the peak.
# Tie-prone spectra take the kernel's direct sums; this pins their answer on every CPU.
COARSE_SINE = [0, 2, 4, 5, 5, 5, 3, 0, -2, -4, -5, -6, -5, -3, -1, 2, 4, 5, 6, 5, 3, 1, -1, -3, -5, -6, -5, -4, -2, 1,
               3, 5, 5, 5, 4, 2, 0, -3, -4, -5, -5, -4, -2, 0, 2, 4, 5, 5, 5, 3, 1, -2, -4, -5, -6, -5, -3, -1, 1, 4,
               5, 6, 5, 4, 1, -1, -3, -5, -6, -5, -4, -2, 1, 3, 5, 5, 5, 4, 2, 0, -2, -4, -5, -5, -4, -3, 0, 2, 4, 5,
               5, 5, 3, 1, -2, -4, -5, -6, -5, -3, -1, 1, 3, 5, 6, 5, 4, 2, -1, -3, -5, -6, -5, -4, -2, 0, 3, 5, 5]


def assert_same_up_to_cpu_ties(ours, y, widths, what, tie_columns):
    """For spectra built to hold CWT values equal in exact arithmetic: ours equals scipy's code
    with its sums taken term by term, which every CPU gives; scipy as installed (whose numpy
    sums with the BLAS dot kernel picked for the CPU) differs from it, if at all, only at
    `tie_columns`, and none of those is a peak of the exactly summed CWT."""
    assert_same(ours, scipy_find_summed_in_order(y, widths), f"{what}, scipy summing term by term")
    differ = set(ours.tolist()) ^ set(np.asarray(scipy_find(y, widths)).tolist())
    exact = set(np.asarray(scipy_find_exact(y, widths)).tolist())
    assert differ <= set(tie_columns), f"{what}: ours and scipy differ at {sorted(differ)}"
    assert not differ & exact, f"{what}: differ at {sorted(differ)}, exact CWT's peaks {sorted(exact)}"


def test_coarse_integer_sine_like_scipy():
    y, widths = np.array(COARSE_SINE), list(range(1, 20))
    ours = usid_peaks.find_peaks_cwt(y, widths)
    assert_same_up_to_cpu_ties(ours, y, widths, "coarse sine", tie_columns=[61, 62])


def test_exact_tie_at_the_edge_like_scipy():
    # The CWT ends in two values equal in exact arithmetic: no relative maximum when summed term
    # by term or exactly, nor with OpenBLAS's Haswell or Prescott dot kernels; its SkylakeX kernel
    # rounds them apart and scipy then finds [2], as an earlier fast kernel of ours did.
    y, widths = np.array([0, 1000, 2000, 1000]), 1.752374335951276
    ours = usid_peaks.find_peaks_cwt(y, widths)
    assert ours.tolist() == [], f"edge tie: ours {ours.tolist()}"
    assert_same_up_to_cpu_ties(ours, y, widths, "edge tie", tie_columns=[2])
