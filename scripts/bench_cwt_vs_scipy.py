#!/usr/bin/env python3
"""Spectra per second: scipy's find_peaks_cwt loop against our kernel, on the same spectra.

    .venv/bin/python scripts/bench_cwt_vs_scipy.py [--spectra 2000] [--len 119]

Writes N band-excitation-like spectra (|SHO response| + noise, float64) to a temporary file,
times `scipy.signal.find_peaks_cwt(x, np.linspace(20, 60, 30))` over them, runs
`cargo run --release --example cwt_throughput` on the same file (one thread), checks that both
found the same number of peaks, and prints both rates (wall clock and per CPU-second) and their
ratio.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy.signal import find_peaks_cwt


def spectra(n, length, seed=1):
    rng = np.random.default_rng(seed)
    f = np.arange(length, dtype=float)
    out = np.empty((n, length))
    for i in range(n):
        w0 = rng.uniform(0.2, 0.8) * length
        q = rng.uniform(5, 80)
        r = w0 ** 2 / np.sqrt((w0 ** 2 - f ** 2) ** 2 + (w0 * f / q) ** 2)
        noise = rng.normal(size=length) + 1j * rng.normal(size=length)
        out[i] = np.abs(r + 0.3 * noise)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spectra", type=int, default=2000)
    ap.add_argument("--len", type=int, default=119)
    ap.add_argument("--repeats", type=int, default=5, help="runs of our kernel; the best counts")
    a = ap.parse_args()
    data = spectra(a.spectra, a.len)
    widths = np.linspace(20, 60, 30)

    start, start_cpu = time.perf_counter(), time.process_time()
    scipy_peaks = sum(len(find_peaks_cwt(x, widths)) for x in data)
    scipy_rate = a.spectra / (time.perf_counter() - start)
    scipy_cpu_rate = a.spectra / (time.process_time() - start_cpu)

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.NamedTemporaryFile(suffix=".f64") as f:
        f.write(data.astype("<f8").tobytes())
        f.flush()
        run = subprocess.run(
            ["cargo", "run", "--quiet", "--release", "--example", "cwt_throughput", "--",
             f.name, str(a.len), str(a.repeats)],
            cwd=root, check=True, capture_output=True, text=True)
    ours = dict(line.split() for line in run.stdout.splitlines())
    our_rate, our_peaks = float(ours["spectra_per_s"]), int(ours["peaks"])
    our_cpu_rate = float(ours["spectra_per_cpu_s"])

    # Per CPU-second as well: on a shared machine the wall clock counts other jobs' slices.
    print(f"spectra: {a.spectra} x {a.len} samples, widths linspace(20, 60, 30), one thread")
    print(f"{'':24}{'spectra/s':>12}{'per CPU-s':>12}  peaks")
    print(f"{'scipy find_peaks_cwt':24}{scipy_rate:12.0f}{scipy_cpu_rate:12.0f}  {scipy_peaks}")
    print(f"{'usid-peaks PeakFinder':24}{our_rate:12.0f}{our_cpu_rate:12.0f}  {our_peaks}")
    print(f"{'ratio':24}{our_rate / scipy_rate:11.0f}x{our_cpu_rate / scipy_cpu_rate:11.0f}x")
    if our_peaks != scipy_peaks:
        print("peak counts differ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
