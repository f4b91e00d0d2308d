#!/usr/bin/env python3
"""Compare a usid-peaks results group with scipy's find_peaks_cwt on every pixel.

    tests/reference/scipy_peaks.py FILE GROUP [--source DATASET_FILE]

Reads the group's parameters (widths, max_distances, gap_thresh, min_length, min_snr, noise_perc,
window_size, component) and its Peak_Indices, runs scipy.signal.find_peaks_cwt with those
parameters on the component of every spectrum of the source dataset (the group's
`source_dataset`, in FILE or in --source), and prints one JSON object:
{"pixels": N, "mismatches": M, "first_mismatches": [[pixel, ours, scipy], ...], "seconds_scipy": s}.
This is the whole-map equality check of the `find` tests.

With several spectroscopic dimensions, every spectrum is the run along the group's `along`
dimension at one position and one step of every other dimension: the source and the group's
Peak_Indices and Peak_Count are reshaped by pyUSID (USIDataset.get_n_dim_form) and matched by
dimension name, and the object also has "spectra", "count_mismatches" (Peak_Count against the
peaks listed) and "n_dim" ({dataset: [[label, size], ...]}, the n-dim forms in pyUSID's order).
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


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def n_dim(dset):
    import pyusid_numpy2  # noqa: F401  (before pyUSID)
    import pyUSID as usid

    u = usid.USIDataset(dset)
    return u.get_n_dim_form(), [str(x) for x in u.n_dim_labels]


def compare_n_dim(f_results, group, f_source, src_path, params, comp):
    """Every spectrum along the group's `along` dimension, matched through pyUSID's n-dim forms."""
    import itertools

    import pyusid_numpy2  # noqa: F401  (before pyUSID)
    import pyUSID as usid  # noqa: F401  (slow to import; only this path needs it)

    g = f_results[group]
    along = text(g.attrs["along"])
    shapes, results = {}, {}
    for name in ("Peak_Indices", "Peak_Count", "Peak_Frequencies"):
        data, labels = n_dim(g[name])
        shapes[name] = [[lab, int(n)] for lab, n in zip(labels, data.shape)]
        results[name] = (data, labels)
    src, src_labels = n_dim(f_source[src_path])
    shapes["source"] = [[lab, int(n)] for lab, n in zip(src_labels, src.shape)]
    values = component(src, comp)
    # Source axes: everything but `along`, then `along` last; the results' axes in that order.
    keep = [lab for lab in src_labels if lab != along]
    values = np.transpose(values, [src_labels.index(lab) for lab in keep] + [src_labels.index(along)])
    ind, ind_labels = results["Peak_Indices"]
    ind = np.transpose(ind, [ind_labels.index(lab) for lab in keep] + [ind_labels.index("Peak")])
    cnt, cnt_labels = results["Peak_Count"]
    cnt = np.transpose(cnt, [cnt_labels.index(lab) for lab in keep])
    t0 = time.perf_counter()
    mismatches, count_mismatches, n = [], 0, 0
    for where in itertools.product(*[range(s) for s in values.shape[:-1]]):
        ref = [int(p) for p in find_peaks_cwt(values[where], **params)]
        got = [int(p) for p in ind[where] if p >= 0]
        n += 1
        if ref != got:
            mismatches.append([dict(zip(keep, map(int, where))), got, ref])
        if int(cnt[where]) != len(got):
            count_mismatches += 1
    return {"pixels": int(f_source[src_path].shape[0]), "spectra": n, "mismatches": len(mismatches), "first_mismatches": mismatches[:10],
            "count_mismatches": count_mismatches, "n_dim": shapes,
            "seconds_scipy": time.perf_counter() - t0}


def cwt_params(at):
    """find_peaks_cwt's keywords as a results group's attributes `at` record them."""
    return dict(
        widths=np.asarray(at["widths"], dtype=float),
        max_distances=np.asarray(at["max_distances"], dtype=float),
        gap_thresh=float(at["gap_thresh"]),
        min_length=int(at["min_length"]),
        min_snr=float(at["min_snr"]),
        noise_perc=float(at["noise_perc"]),
        window_size=int(at["window_size"]),
    )


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
        src_path = text(at["source_dataset"])
        params = cwt_params(at)
        comp = text(at["component"])
        with h5py.File(a.source or a.file, "r") as fs:
            if fs[src_path].attrs["Spectroscopic_Indices"] and fs[fs[src_path].attrs["Spectroscopic_Indices"]].shape[0] > 1:
                json.dump(compare_n_dim(f, a.group, fs, src_path, params, comp), sys.stdout)
                print()
                return
            data = fs[src_path][()]
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
