#!/usr/bin/env python3
"""What pyNSID reads from HDF5 files, as JSON: the reference the Rust tests hold our NSID model
and our written results to. One run answers many questions (sidpy takes seconds to import).

    tests/reference/nsid_read.py FILE...
        A JSON object: FILE -> every dataset pyNSID's get_all_main lists in it, in its order,
        each read with pyNSID's read_h5py_dataset: {"path", "shape", "dtype" (as h5py stores
        it), "title", "quantity", "units", "data_type", "modality", "source", "dims": [{"name",
        "quantity", "units", "dimension_type", "values", "value_bits"}, ...], "scales": [{"label",
        "names", "is_scale", "is_attached"}, ...]}, with "error" in place of what pyNSID's reader
        gives where it raises. "value_bits" are the float64 values' IEEE bits (exact in JSON).
        "scales" is the HDF5 library's own view (h5py.h5ds), one entry per axis: the label, the
        NAME of every scale attached, and whether each is a scale and attached both ways
        (the dataset's DIMENSION_LIST and the scale's REFERENCE_LIST).

    tests/reference/nsid_read.py --rows OUT.h5 FILE DSET ALONG [FILE DSET ALONG ...]
        For the k-th triple, dataset "k" of OUT.h5: the spectra of DSET along the axis named
        ALONG as numpy arranges them: the SPATIAL axes first (in storage order: the positions,
        row-major), then the other axes in storage order, ALONG last; reshaped to
        (spectra, len(ALONG)) (complex and float32/float64 as stored, float16 and integers
        as float64).

    tests/reference/nsid_read.py --peaks FILE GROUP [FILE GROUP ...]
        A JSON object: FILE -> {"spectra", "mismatches", "first_mismatches" [[spectrum, ours,
        scipy], ...], "count_mismatches", "dtypes" {result: h5py's dtype}, "main": what the first
        form gives for FILE}: the results group GROUP (usid-peaks' NSID results) against
        scipy's find_peaks_cwt, with the group's parameters, on every spectrum of its
        `source_dataset` arranged as --rows arranges them along its `along` axis.
"""
import contextlib
import json
import sys
import warnings

import h5py
import numpy as np

warnings.simplefilter("ignore")  # sidpy/pyNSID/dask warn about future defaults; keep stderr clean
from h5py import h5ds  # noqa: E402
from pyNSID.io.hdf_utils import get_all_main, read_h5py_dataset  # noqa: E402


def name_of(value):
    """An enum's name (sidpy's DimensionType, DataType) or the value as text."""
    return getattr(value, "name", str(value))


def scales(h5_dset):
    out = []
    for i, dim in enumerate(h5_dset.dims):
        attached = list(dim.values())
        out.append({"label": dim.label, "names": list(dim.keys()),
                    "is_scale": all(h5ds.is_scale(s.id) for s in attached),
                    "is_attached": all(h5ds.is_attached(h5_dset.id, s.id, i) for s in attached)})
    return out


def describe(h5_dset):
    out = {"path": h5_dset.name, "shape": list(h5_dset.shape), "dtype": str(h5_dset.dtype),
           "scales": scales(h5_dset)}
    try:
        ds = read_h5py_dataset(h5_dset)
    except Exception as e:  # the reader's failure is the answer here, not a crash of the check
        out["error"] = "%s: %s" % (type(e).__name__, e)
        return out
    out.update({"title": str(ds.title), "quantity": ds.quantity, "units": ds.units,
                "data_type": name_of(ds.data_type), "modality": ds.modality,
                "source": ds.source, "dims": []})
    for i in range(ds.ndim):
        dim = ds._axes[i]
        values = np.ascontiguousarray(np.asarray(dim.values, dtype="<f8"))
        out["dims"].append({"name": dim.name, "quantity": dim.quantity, "units": dim.units,
                            "dimension_type": name_of(dim.dimension_type),
                            "values": [float(v) for v in values],
                            "value_bits": values.view("<u8").tolist()})
    return out


def expected_rows(path, dset, along):
    with h5py.File(path, "r") as f:
        h5_dset = f[dset]
        ds = read_h5py_dataset(h5_dset)
        data = h5_dset[()]
        names = [ds._axes[i].name for i in range(data.ndim)]
        spatial = [i for i in range(data.ndim)
                   if name_of(ds._axes[i].dimension_type) == "SPATIAL"]
        a = names.index(along)
        others = [i for i in range(data.ndim) if i not in spatial and i != a]
        rows = np.transpose(data, spatial + others + [a]).reshape(-1, data.shape[a])
    if rows.dtype == np.float16 or rows.dtype.kind in "iu":
        return rows.astype(np.float64)
    return np.ascontiguousarray(rows)


def peaks_check(path, group):
    from scipy.signal import find_peaks_cwt
    from scipy_peaks import component, cwt_params, text

    with h5py.File(path, "r") as f:
        g = f[group]
        params, comp = cwt_params(g.attrs), text(g.attrs["component"])
        src, along = text(g.attrs["source_dataset"]), text(g.attrs["along"])
        ours = g["Peak_Indices/Peak_Indices"][()]
        counts = g["Peak_Count/Peak_Count"][()].reshape(-1)
        dtypes = {n: str(g[n][n].dtype) for n in ("Peak_Indices", "Peak_Frequencies", "Peak_Count")}
        ours = ours.reshape(-1, ours.shape[-1])
        main_sets = [describe(d) for d in get_all_main(f)]
    values = component(expected_rows(path, src, along), comp)
    mismatches, count_mismatches = [], 0
    for i, row in enumerate(values):
        ref = [int(p) for p in find_peaks_cwt(row, **params)]
        got = [int(p) for p in ours[i] if p >= 0]
        if ref != got:
            mismatches.append([i, got, ref])
        count_mismatches += int(counts[i]) != len(got)
    return {"spectra": len(values), "mismatches": len(mismatches), "first_mismatches": mismatches[:10],
            "count_mismatches": count_mismatches, "dtypes": dtypes, "main": main_sets}


def main():
    args = sys.argv[1:]
    if args[:1] == ["--peaks"] and len(args) >= 3 and len(args) % 2 == 1:
        with contextlib.redirect_stdout(sys.stderr):
            found = {args[k]: peaks_check(args[k], args[k + 1]) for k in range(1, len(args), 2)}
        json.dump(found, sys.stdout)
        sys.stdout.write("\n")
        return
    # pyNSID prints its findings ("length of dimension scale 2 is wrong") to stdout: keep them
    # out of the JSON.
    if args[:1] == ["--rows"] and len(args) >= 5 and (len(args) - 2) % 3 == 0:
        with contextlib.redirect_stdout(sys.stderr), h5py.File(args[1], "w") as out:
            for k in range((len(args) - 2) // 3):
                path, dset, along = args[2 + 3 * k:5 + 3 * k]
                out.create_dataset(str(k), data=expected_rows(path, dset, along))
        return
    if not args or args[0].startswith("-"):
        sys.exit("usage: nsid_read.py FILE... | --rows OUT.h5 FILE DSET ALONG [...] | --peaks FILE GROUP [...]")
    found = {}
    for path in args:
        with h5py.File(path, "r") as f, contextlib.redirect_stdout(sys.stderr):
            found[path] = [describe(d) for d in get_all_main(f)]
    json.dump(found, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
