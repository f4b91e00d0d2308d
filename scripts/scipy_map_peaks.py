#!/usr/bin/env python3
"""Compare a usid-peaks results group with scipy's find_peaks_cwt on every pixel.

    scripts/scipy_map_peaks.py FILE GROUP [--source DATASET_FILE]

Reads the group's parameters (widths, max_distances, gap_thresh, min_length, min_snr, noise_perc,
window_size, component) and its Peak_Indices, runs scipy.signal.find_peaks_cwt with those
parameters on the component of every spectrum of the source dataset (the group's
`source_dataset`, in FILE or in --source), and prints one JSON object:
{"pixels": N, "mismatches": M, "first_mismatches": [[pixel, ours, scipy], ...], "seconds_scipy": s}.
This is the whole-map equality check of the `find` tests and of scripts/compare.sh.
"""
import argparse
import json
import sys
import time
import warnings

import h5py
import numpy as np
from scipy.signal import find_peaks_cwt

warnings.simplefilter("ignore")


def component(data, name):
    if name == "abs":
        return np.abs(data)
    if name == "real":
        return np.real(data)
    if name == "imag":
        return np.imag(data)
    if name == "phase":
        return np.angle(data)
    raise SystemExit(f"unknown component {name}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("group")
    ap.add_argument("--source", help="file holding the source dataset (default: FILE)")
    a = ap.parse_args()
    with h5py.File(a.file, "r") as f:
        g = f[a.group]
        at = g.attrs
        ours = g["Peak_Indices"][()]
        src_path = at["source_dataset"]
        src_path = src_path.decode() if isinstance(src_path, bytes) else str(src_path)
        params = dict(
            widths=np.asarray(at["widths"], dtype=float),
            max_distances=np.asarray(at["max_distances"], dtype=float),
            gap_thresh=float(at["gap_thresh"]),
            min_length=int(at["min_length"]),
            min_snr=float(at["min_snr"]),
            noise_perc=float(at["noise_perc"]),
            window_size=int(at["window_size"]),
        )
        comp = at["component"]
        comp = comp.decode() if isinstance(comp, bytes) else str(comp)
    with h5py.File(a.source or a.file, "r") as f:
        data = f[src_path][()]
    values = component(data, comp)
    t0 = time.perf_counter()
    mismatches = []
    for i, row in enumerate(values):
        ref = [int(p) for p in find_peaks_cwt(row, **params)]
        got = [int(p) for p in ours[i] if p >= 0]
        if ref != got:
            mismatches.append([i, got, ref])
    secs = time.perf_counter() - t0
    json.dump({"pixels": int(values.shape[0]), "mismatches": len(mismatches),
               "first_mismatches": mismatches[:10], "seconds_scipy": secs}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
