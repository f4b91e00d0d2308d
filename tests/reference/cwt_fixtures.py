#!/usr/bin/env python3
"""Golden fixtures for the CWT kernel: what scipy.signal.find_peaks_cwt returns.

This script is the provenance of tests/fixtures/cwt/scipy_cwt.bin; tests/cwt_scipy.rs reads it.

    .venv/bin/python tests/reference/cwt_fixtures.py                       # the committed CI set
    .venv/bin/python tests/reference/cwt_fixtures.py --count 100000 --out /tmp/cwt_100k.bin --jobs 2
    CWT_FIXTURES=/tmp/cwt_100k.bin cargo test --release --test cwt_scipy
    # long spectra only (the FFT route), as committed in tests/fixtures/cwt/scipy_cwt_long.bin:
    .venv/bin/python tests/reference/cwt_fixtures.py --count 90 --seed 14 \
        --lengths 256,512,1024,2048,4096,8192 --out tests/fixtures/cwt/scipy_cwt_long.bin

File layout (little-endian):
    b"CWTFIX01", u32 header length, header JSON (parameter sets, class names, numpy linspace and
    argsort cases, versions), then one record per vector:
    u8 class, u8 parameter set, u8 bytes per value (4: float32 promoted by scipy, 8: float64),
    u8 0, u32 length, the values, u32 peak count, the peaks as u32.
"""
import argparse
import json
import multiprocessing
import struct
import sys
import warnings

import numpy as np
import scipy
from scipy.signal import find_peaks_cwt

# The tie-prone classes may disagree on a comparison numpy decides by an ulp; the others never.
CLASSES = [
    ("noise", False), ("lorentz", False), ("gauss", False), ("sho", False),
    ("scales", False), ("nonfinite", False),
    ("constant", True), ("zeros", True), ("steps", True), ("spike", True),
    ("quantised", True), ("palindrome", True), ("tiny", True),
]

PARAM_SETS = [
    {"name": "seed", "widths": np.linspace(20, 60, 30).tolist()},
    {"name": "narrow", "widths": np.linspace(1, 10, 10).tolist()},
    # 10·w not an integer for most: off-centre wavelets of fractional length.
    {"name": "fractional", "widths": [0.35, 1.25, 2.0, 3.33, 4.5, 7.05]},
    {"name": "tuned", "widths": np.linspace(2, 30, 15).tolist(), "max_distances": [3.0] * 16,
     "gap_thresh": 1.0, "min_length": 2, "min_snr": 0.5, "noise_perc": 35.0, "window_size": 9},
    {"name": "arange", "widths": np.arange(1, 31).astype(float).tolist(), "min_snr": 2.0,
     "noise_perc": 0.0, "window_size": 1},
    # Even wavelet lengths (16, 24, ... points), window_size 0 (NaN noise), gap_thresh 0.
    {"name": "even", "widths": [1.6, 2.4, 3.2, 4.8, 6.4, 12.8], "window_size": 0,
     "gap_thresh": 0.0},
    {"name": "strict", "widths": np.linspace(3, 40, 25).tolist(), "min_snr": 3.0,
     "noise_perc": 50.0, "min_length": 5, "window_size": 4},
    {"name": "single", "widths": [5.0], "noise_perc": 100.0},
]

LENGTHS = [1, 2, 3, 4, 5, 7, 8, 10, 16, 17, 31, 32, 50, 64, 100, 118, 120, 128, 200, 256]
LONG = [500, 1000, 2048]


def scipy_kwargs(ps):
    return {k: v for k, v in ps.items() if k not in ("name", "widths")}


def pick_length(rng, lengths=None):
    if lengths:
        return int(rng.choice(lengths))
    u = rng.random()
    if u < 0.55:
        return 119
    if u < 0.99:
        return int(rng.choice(LENGTHS))
    return int(rng.choice(LONG))


def peaks_sum(rng, n, shape):
    x = np.arange(n, dtype=float)
    y = np.zeros(n)
    for _ in range(rng.integers(1, 6)):
        c = rng.uniform(-0.1, 1.1) * n
        w = rng.uniform(0.5, max(1.0, n / 3))
        a = rng.uniform(0.1, 10)
        if shape == "lorentz":
            y += a / (1 + ((x - c) / w) ** 2)
        elif shape == "gauss":
            y += a * np.exp(-0.5 * ((x - c) / w) ** 2)
        else:  # simple harmonic oscillator amplitude, as Band Excitation maps have
            q = rng.uniform(2, 200)
            f = x / max(c, 1.0)
            y += a / np.sqrt((1 - f ** 2) ** 2 + (f / q) ** 2)
    return y


def vector(rng, cls, n):
    """One vector of class `cls`, and whether it must stay float64."""
    noise = np.abs(rng.normal(size=n) + 1j * rng.normal(size=n))
    if cls == "noise":
        return noise * rng.uniform(0.1, 10), False
    if cls in ("lorentz", "gauss", "sho"):
        return peaks_sum(rng, n, cls) + rng.uniform(0, 0.5) * noise, False
    if cls == "scales":
        y = peaks_sum(rng, n, "lorentz") + 0.3 * noise
        return y * 10.0 ** rng.choice([-300, -150, -30, 30, 150, 300]), True
    if cls == "nonfinite":
        y = peaks_sum(rng, n, "gauss") + 0.3 * noise
        for _ in range(rng.integers(1, 4)):
            y[rng.integers(n)] = rng.choice([np.nan, np.inf, -np.inf])
        return y, False
    if cls == "constant":
        return np.full(n, rng.choice([1.0, -2.5, 1e-3, 7.0, rng.uniform(0, 5)])), False
    if cls == "zeros":
        return np.zeros(n), False
    if cls == "steps":
        y = np.zeros(n)
        for _ in range(rng.integers(1, 5)):
            y[rng.integers(n):] += rng.choice([1.0, -1.0, 0.5, 3.0])
        return y, False
    if cls == "spike":
        y = np.full(n, rng.choice([0.0, 1.0]))
        y[rng.integers(n)] += rng.choice([1.0, 5.0, 100.0])
        return y, False
    if cls == "quantised":
        y = peaks_sum(rng, n, "lorentz") + 0.5 * noise
        levels = rng.choice([4, 16, 256])
        return np.round(y / y.max() * levels) if y.max() > 0 else y, False
    if cls == "palindrome":
        y = peaks_sum(rng, n, "gauss") + 0.3 * noise
        return (y + y[::-1]) / 2, False
    if cls == "tiny":  # subnormal range: rounding is coarse, ties are common
        return (peaks_sum(rng, n, "gauss") + 0.3 * noise) * 1e-315, True
    raise ValueError(cls)


def make_record(args):
    seed, index, lengths, classes = args
    rng = np.random.default_rng([seed, index])
    ci = int(rng.integers(len(CLASSES)))
    cls = CLASSES[ci][0]
    if classes and cls not in classes:
        return b""  # the same vectors as a full run, for the classes asked for
    pi = 0 if rng.random() < 0.5 else int(rng.integers(len(PARAM_SETS)))
    n = pick_length(rng, lengths)
    y, wide = vector(rng, cls, n)
    if not wide:
        y = y.astype(np.float32)  # scipy promotes float32 to float64; so does the reader
    ps = PARAM_SETS[pi]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peaks = find_peaks_cwt(y, np.asarray(ps["widths"]), **scipy_kwargs(ps))
    values = y.astype("<f8" if wide else "<f4").tobytes()
    peaks = np.asarray(peaks, dtype="<u4")
    return (struct.pack("<BBBBI", ci, pi, 8 if wide else 4, 0, n) + values
            + struct.pack("<I", len(peaks)) + peaks.tobytes())


def numpy_cases(rng):
    """Bit patterns of np.linspace and the order np.argsort leaves ties in."""
    lin = []
    for _ in range(60):
        a, b = rng.uniform(-100, 100, size=2) * 10.0 ** rng.integers(-320, 5, size=2)
        num = int(rng.integers(0, 200))
        lin.append([repr(float(a)), repr(float(b)), num,
                    [int(v) for v in np.linspace(a, b, num).view(np.uint64)]])
    lin.append(["20.0", "60.0", 30, [int(v) for v in np.linspace(20, 60, 30).view(np.uint64)]])
    srt = []
    for _ in range(300):
        # Ridge rows: non-increasing, some rows joined several times.
        n = int(rng.integers(1, 90))
        keys = np.sort(rng.integers(0, max(2, n // 2), size=n))[::-1].copy()
        srt.append([keys.tolist(), np.argsort(keys).tolist()])
    return lin, srt


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=20240617)
    ap.add_argument("--out", default="tests/fixtures/cwt/scipy_cwt.bin")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--lengths", default="",
                    help="comma-separated spectrum lengths to draw from (default: mostly 119)")
    ap.add_argument("--classes", default="",
                    help="comma-separated class names to keep (default: all); the kept vectors are "
                         "those a full run with the same seed and count has")
    a = ap.parse_args()
    lengths = [int(v) for v in a.lengths.split(",") if v.strip()]
    classes = [v for v in a.classes.split(",") if v.strip()]
    lin, srt = numpy_cases(np.random.default_rng(a.seed))
    # Floats travel as Python's shortest round-trip text, which any correctly rounding parser
    # reads back to the same bits (JSON number parsers need not round correctly).
    exact = [{k: ([repr(float(x)) for x in v] if isinstance(v, list) else
                  repr(float(v)) if isinstance(v, float) else v) for k, v in ps.items()}
             for ps in PARAM_SETS]
    header = {
        "scipy": scipy.__version__, "numpy": np.__version__, "seed": a.seed, "count": a.count,
        "lengths": lengths, "kept_classes": classes,
        "classes": [{"name": c, "tie_prone": t} for c, t in CLASSES],
        "param_sets": exact, "linspace": lin, "argsort": srt,
    }
    blob = json.dumps(header, separators=(",", ":")).encode()
    jobs = [(a.seed, i, lengths, classes) for i in range(a.count)]
    with open(a.out, "wb") as f:
        f.write(b"CWTFIX01" + struct.pack("<I", len(blob)) + blob)
        if a.jobs > 1:
            with multiprocessing.Pool(a.jobs) as pool:
                for k, rec in enumerate(pool.imap(make_record, jobs, chunksize=64)):
                    f.write(rec)
                    if k % 10000 == 9999:
                        print(f"{k + 1} vectors", file=sys.stderr)
        else:
            for job in jobs:
                f.write(make_record(job))
    print(f"wrote {a.count} vectors to {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
