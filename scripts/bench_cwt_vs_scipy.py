#!/usr/bin/env python3
"""Spectra per second: scipy's find_peaks_cwt loop against our kernel, on the same spectra.

    .venv/bin/python scripts/bench_cwt_vs_scipy.py [--spectra 2000] [--len 119] [--rounds 3]

Writes N band-excitation-like spectra (|SHO response| + noise, float64) to a temporary file,
times `scipy.signal.find_peaks_cwt(x, np.linspace(20, 60, 30))` over them, runs the
`cwt_throughput` example on the same file (one thread) for each of our transforms (default: the
automatic path and `full-bank`, the packed products before the low-rank bank), checks that each
found as many peaks as scipy, and prints the rates (wall clock and per CPU-second) and the
ratios, round by round and as medians.
"""
import argparse
import os
import statistics
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
    ap.add_argument("--repeats", type=int, default=5, help="runs of our kernel per round; the best counts")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds of scipy then each of our transforms, alternated (the machine's "
                         "speed drifts; the ratios are taken within a round)")
    ap.add_argument("--transforms", default="auto,full-bank",
                    help="our transforms to time (cwt_throughput's names), the first the default path")
    a = ap.parse_args()
    data = spectra(a.spectra, a.len)
    widths = np.linspace(20, 60, 30)
    transforms = a.transforms.split(",")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run(["cargo", "build", "--quiet", "--release", "--example", "cwt_throughput"],
                   cwd=root, check=True)
    binary = os.path.join(root, "target", "release", "examples", "cwt_throughput")

    print(f"spectra: {a.spectra} x {a.len} samples, widths linspace(20, 60, 30), one thread")
    print(f"{'round':6}{'':24}{'spectra/s':>12}{'per CPU-s':>12}  peaks{'ratio':>8}")
    ratios = {t: [] for t in transforms}
    failed = False
    with tempfile.NamedTemporaryFile(suffix=".f64") as f:
        f.write(data.astype("<f8").tobytes())
        f.flush()
        for r in range(1, a.rounds + 1):
            start, start_cpu = time.perf_counter(), time.process_time()
            scipy_peaks = sum(len(find_peaks_cwt(x, widths)) for x in data)
            scipy_rate = a.spectra / (time.perf_counter() - start)
            scipy_cpu_rate = a.spectra / (time.process_time() - start_cpu)
            # Per CPU-second as well: on a shared machine the wall clock counts other jobs' slices.
            print(f"{r:<6}{'scipy find_peaks_cwt':24}{scipy_rate:12.0f}{scipy_cpu_rate:12.0f}  {scipy_peaks}")
            for t in transforms:
                run = subprocess.run([binary, f.name, str(a.len), str(a.repeats), t],
                                     check=True, capture_output=True, text=True)
                ours = dict(line.split() for line in run.stdout.splitlines())
                rate, peaks = float(ours["spectra_per_s"]), int(ours["peaks"])
                ratios[t].append(rate / scipy_rate)
                print(f"{r:<6}{'usid-peaks ' + t:24}{rate:12.0f}{float(ours['spectra_per_cpu_s']):12.0f}"
                      f"  {peaks}{rate / scipy_rate:7.0f}x")
                if peaks != scipy_peaks:
                    print(f"peak counts differ ({t})", file=sys.stderr)
                    failed = True
    for t in transforms:
        print(f"median ratio, {t}: {statistics.median(ratios[t]):.0f}x "
              f"(rounds: {', '.join(f'{x:.0f}x' for x in ratios[t])})")
    for t in transforms[1:]:
        per_round = [x / y for x, y in zip(ratios[transforms[0]], ratios[t])]
        print(f"{transforms[0]} / {t}: median {statistics.median(per_round):.2f}x "
              f"(rounds: {', '.join(f'{x:.2f}x' for x in per_round)})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
