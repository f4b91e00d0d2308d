#!/usr/bin/env python3
"""Head-to-head on one file, in one run: the seed's serial scipy loop, pyUSID's parallel_compute on
all cores, usid-peaks (1 thread, all threads) and mpirun -np 2; every method's peaks compared with
scipy's, pixel by pixel; a markdown table of times and ratios on stdout.

    scripts/compare.py --bin BIN FILE [--scipy-pixels N] [--ranks 2]

Run through scripts/compare.sh, which builds usid-peaks and makes the default map.
--scipy-pixels N times scipy and pyUSID on N evenly spread pixels and extrapolates their times to
the whole map (marked "~" in the table); equality is then checked on those pixels only. The
recorded table (docs/BENCHMARKS.md) uses the whole map.
"""
import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import h5py
import numpy as np
from scipy.signal import find_peaks_cwt

warnings.simplefilter("ignore")
WIDTHS = np.linspace(20, 60, 30)


def seed_peaks(row, widths):
    """The seed's per-pixel function (top level, so joblib's processes can pickle it)."""
    return find_peaks_cwt(np.abs(row), widths)


def main_dataset(path):
    """The file's only USID main dataset, as pyUSID finds it."""
    from pyUSID.io.hdf_utils import get_all_main

    with h5py.File(path, "r") as f:
        mains = get_all_main(f)
        if len(mains) != 1:
            sys.exit(f"compare: {path} has {len(mains)} main datasets; this script wants exactly one")
        return mains[0].name


def run_usid_peaks(cmd, out, group_hint):
    """Run one `usid-peaks find` (maybe under mpirun); return (wall s, summary, peak lists)."""
    t = time.perf_counter()
    p = subprocess.run(cmd + ["--json", "--quiet", "--force", "--output", out], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"compare: {' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    summary = json.loads(p.stdout.strip().splitlines()[-1])
    with h5py.File(out, "r") as f:
        idx = f[summary["group"]]["Peak_Indices"][()]
    peaks = [row[row >= 0] for row in idx]
    return wall, summary, peaks


def same(a_lists, b_lists, pixels):
    return sum(1 for i in pixels if not np.array_equal(np.asarray(a_lists[i]), np.asarray(b_lists[i])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--bin", required=True, help="the usid-peaks binary")
    ap.add_argument("--scipy-pixels", type=int, default=0, help="time scipy/pyUSID on N pixels only")
    ap.add_argument("--ranks", type=int, default=2, help="MPI ranks of the mpirun row")
    a = ap.parse_args()

    cores = os.cpu_count() or 1
    dset = main_dataset(a.file)
    with h5py.File(a.file, "r") as f:
        data = f[dset][()]
    n = data.shape[0]
    if a.scipy_pixels and a.scipy_pixels < n:
        pixels = np.unique(np.linspace(0, n - 1, a.scipy_pixels).round().astype(int))
    else:
        pixels = np.arange(n)
    scale = n / len(pixels)
    approx = "~" if len(pixels) < n else ""
    print(f"compare: {a.file}:{dset} {data.shape} {data.dtype}; scipy and pyUSID on {len(pixels)} pixels",
          file=sys.stderr)

    # 1. The seed's serial loop.
    t = time.perf_counter()
    scipy_lists = [seed_peaks(data[i], WIDTHS) for i in pixels]
    scipy_s = (time.perf_counter() - t) * scale
    reference = dict(zip(pixels.tolist(), scipy_lists))

    # 2. pyUSID's parallel_compute on all cores (joblib, pyUSID's default multiprocessing backend).
    from pyUSID.processing.comp_utils import parallel_compute

    sub = np.ascontiguousarray(data[pixels])
    t = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # pyUSID prints progress on stdout
        pyusid_lists = parallel_compute(sub, seed_peaks, cores=cores, func_args=[WIDTHS])
    pyusid_s = (time.perf_counter() - t) * scale
    rows = [
        ("scipy loop (seed, 1 core)", scipy_s, None, 0),
        (f"pyUSID parallel_compute ({cores} cores)", pyusid_s, None,
         same(dict(zip(pixels.tolist(), pyusid_lists)), reference, pixels)),
    ]

    # 3. usid-peaks: whole command (start to exit, including reading and writing the file).
    tmp = tempfile.mkdtemp(prefix="compare-")
    try:
        mpi = ["mpirun", "--oversubscribe", "-np", str(a.ranks)]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            mpi.insert(1, "--allow-run-as-root")
        runs = [
            ("usid-peaks find, 1 thread", [a.bin, "find", a.file, "--threads", "1"]),
            (f"usid-peaks find, {cores} threads", [a.bin, "find", a.file]),
            (f"usid-peaks find, mpirun -np {a.ranks} x 1 thread", mpi + [a.bin, "find", a.file, "--threads", "1"]),
        ]
        for k, (label, cmd) in enumerate(runs):
            wall, summary, lists = run_usid_peaks(cmd, os.path.join(tmp, f"r{k}.h5"), dset)
            rows.append((label, wall, summary["seconds_compute"], same(lists, reference, pixels)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith("Model name")), "?")
    print(f"machine: {cores} cores (nproc), {model}, {platform.system()} {platform.release()}")
    print(f"data: {n} spectra x {data.shape[1]} bins ({data.dtype}); "
          f"find_peaks_cwt(np.abs(row), np.linspace(20, 60, 30)); equality on {len(pixels)} pixels")
    print()
    print("| method | seconds | spectra/s | vs scipy loop | usid-peaks compute s | pixels differing from scipy |")
    print("|:--|--:|--:|--:|--:|--:|")
    for label, s, compute, diff in rows:
        mark = approx if compute is None else ""
        print(f"| {label} | {mark}{s:.2f} | {mark}{n / s:,.0f} | {mark}{scipy_s / s:.1f}x | "
              f"{'' if compute is None else f'{compute:.2f}'} | {diff} of {len(pixels)} |")
    bad = [r for r in rows if r[3]]
    if bad:
        sys.exit(f"compare: peaks differ from scipy's: {', '.join(r[0] for r in bad)}")


if __name__ == "__main__":
    main()
