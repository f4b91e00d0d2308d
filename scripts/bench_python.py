"""The Python package's two targets, measured side by side in one process:

1. the 2-D call `usid_peaks.find_peaks_cwt(np.abs(raw), widths)` on a seed-sized map (16 384 x 119)
   against a Python loop over `scipy.signal.find_peaks_cwt` (target: >= 150x);
2. the 1-D call on one 119-point spectrum against scipy's own call (target: no slower).

Both answers are compared spectrum by spectrum. Usage (after `pip install ./python`):

    .venv/bin/python scripts/bench_python.py [MAP.h5] [--threads N] [--scipy-rows N] [--repeat R]

Without MAP.h5 the seed-sized map is generated with target/release/usid-peaks. --scipy-rows times
scipy's loop on the first N spectra only and scales it to the whole map (said in the output).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
from scipy.signal import find_peaks_cwt as scipy_find

import usid_peaks

RAW = "/Measurement_000/Channel_000/Raw_Data"
WIDTHS = np.linspace(20, 60, 30)


def load(path):
    if path is None:
        exe = Path(__file__).resolve().parents[1] / "target" / "release" / "usid-peaks"
        tmp = Path(tempfile.mkdtemp()) / "seed.h5"
        subprocess.run([str(exe), "generate", str(tmp)], check=True, capture_output=True)
        path = tmp
    with h5py.File(path, "r") as f:
        return path, np.abs(f[RAW][:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("map", nargs="?")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--scipy-rows", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    path, raw = load(args.map)
    n, bins = raw.shape
    print(f"map {path}: {n} x {bins} ({raw.dtype}), widths np.linspace(20, 60, 30), "
          f"threads {args.threads or os.cpu_count()}, Python {sys.version.split()[0]}")

    # 1. The whole map: the 2-D call (median of --repeat) against scipy's loop (once).
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        ours = usid_peaks.find_peaks_cwt(raw, WIDTHS, threads=args.threads)
        times.append(time.perf_counter() - t)
    t2d = statistics.median(times)
    rows = n if args.scipy_rows is None else min(args.scipy_rows, n)
    t = time.perf_counter()
    ref = [scipy_find(raw[i], WIDTHS) for i in range(rows)]
    t_scipy = (time.perf_counter() - t) * n / rows
    same = sum(np.array_equal(ours[i], ref[i]) for i in range(rows))
    scaled = "" if rows == n else f" (timed on {rows} spectra, scaled to {n})"
    print(f"2-D call      : {t2d:8.3f} s  (median of {args.repeat}: {', '.join(f'{x:.3f}' for x in times)})")
    print(f"scipy loop    : {t_scipy:8.3f} s{scaled}")
    print(f"speed-up      : {t_scipy / t2d:8.0f} x   (target >= 150 x); same peaks on {same} of {rows} spectra")

    # 2. One spectrum: per-call time over 500 different spectra, best of --repeat passes each.
    sample = raw[np.linspace(0, n - 1, 500).astype(int)]

    def per_call(f):
        best = float("inf")
        for _ in range(args.repeat):
            t = time.perf_counter()
            for row in sample:
                f(row, WIDTHS)
            best = min(best, (time.perf_counter() - t) / len(sample))
        return best

    t_ours, t_ref = per_call(usid_peaks.find_peaks_cwt), per_call(scipy_find)
    print(f"1-D call      : {t_ours * 1e6:8.1f} us per spectrum")
    print(f"scipy call    : {t_ref * 1e6:8.1f} us per spectrum")
    print(f"ratio         : {t_ref / t_ours:8.1f} x   (target >= 1 x: no slower than scipy)")


if __name__ == "__main__":
    main()
