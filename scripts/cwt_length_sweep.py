#!/usr/bin/env python3
"""Spectra per second at every spectrum length: scipy's find_peaks_cwt loop against our kernel.

    .venv/bin/python scripts/cwt_length_sweep.py [--lengths 119,256,512,1024,2048,8192]
        [--samples 250000] [--transforms auto,direct]

For each length: band-excitation-like spectra (|SHO response| + noise, float64, the spectra of
scripts/bench_cwt_vs_scipy.py), about `--samples` samples in all (at least 20 spectra), widths
np.linspace(20, 60, 30), scipy's defaults otherwise, one thread. Times the scipy loop, then
`examples/cwt_throughput` with each transform on the same spectra (best of 5 runs), checks that
every spectrum's peaks equal scipy's, and prints a markdown table: wall-clock rates and rates per
CPU-second (on a shared machine the wall clock counts other jobs' time slices; the ratio of CPU
rates is the steadier figure). Exits 1 if any spectrum's peaks differ.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy.signal import find_peaks_cwt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_cwt_vs_scipy import spectra  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", default="119,256,512,1024,2048,8192")
    ap.add_argument("--samples", type=int, default=250000, help="samples per length (sets the count)")
    ap.add_argument("--transforms", default="auto,direct",
                    help="comma-separated: auto, matrices, fft, direct")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(["cargo", "build", "--quiet", "--release", "--example", "cwt_throughput"],
                   cwd=root, check=True)
    exe = os.path.join(root, "target", "release", "examples", "cwt_throughput")
    widths = np.linspace(20, 60, 30)
    transforms = [t for t in a.transforms.split(",") if t]

    head = "| bins | spectra | scipy /s |"
    rule = "| ---: | ---: | ---: |"
    for t in transforms:
        head += f" {t} /s | {t} vs scipy | {t} vs scipy (CPU-s) | {t} identical |"
        rule += " ---: | ---: | ---: | :--- |"
    print(head)
    print(rule, flush=True)
    all_same = True
    for length in [int(v) for v in a.lengths.split(",")]:
        n = min(2000, max(20, a.samples // length))
        data = spectra(n, length)
        start, start_cpu = time.perf_counter(), time.process_time()
        theirs = [list(find_peaks_cwt(x, widths)) for x in data]
        scipy_rate = n / (time.perf_counter() - start)
        scipy_cpu_rate = n / (time.process_time() - start_cpu)
        row = f"| {length} | {n} | {scipy_rate:.0f} |"
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "spectra.f64")
            data.astype("<f8").tofile(path)
            for t in transforms:
                peaks_path = os.path.join(tmp, f"{t}.peaks")
                run = subprocess.run([exe, path, str(length), "5", t, peaks_path],
                                     check=True, capture_output=True, text=True)
                ours = dict(line.split() for line in run.stdout.splitlines())
                with open(peaks_path) as f:
                    found = [[int(c) for c in line.split()] for line in f]
                same = found == theirs
                all_same &= same
                rate, cpu_rate = float(ours["spectra_per_s"]), float(ours["spectra_per_cpu_s"])
                differing = sum(p != q for p, q in zip(found, theirs))
                row += (f" {rate:.0f} | {rate / scipy_rate:.0f}x | {cpu_rate / scipy_cpu_rate:.0f}x |"
                        f" {'yes' if same else f'no ({differing} of {n})'} |")
        print(row, flush=True)
    return 0 if all_same else 1


if __name__ == "__main__":
    sys.exit(main())
