#!/usr/bin/env python3
"""Print pyUSID's view of one dataset of an HDF5 file as JSON (one object on stdout).

The Rust tests run this on files usid-peaks writes, so that "pyUSID accepts it" is checked by
pyUSID itself:

    tests/reference/pyusid_read.py FILE DATASET [--digest] [--ndim]
    tests/reference/pyusid_read.py FILE OBJECT --attrs
    tests/reference/pyusid_read.py FILE --all-main

Always printed: is_main (pyUSID's check_if_main), and when it is main: dtype, shape, quantity,
units, pos_dims / spec_dims ([name, units, size], in pyUSID's order), the ancillary datasets'
paths. --digest adds the SHA-256 of the data (raw bytes, C order); --ndim adds the shape of
USIDataset.get_n_dim_form(). --attrs prints instead the attributes of any group or dataset as h5py
reads them (strings as str, numbers as numbers, arrays as lists, references as "<reference>").
--all-main prints instead the paths of every main dataset pyUSID's get_all_main finds in the file,
in its order (a list).
"""
import argparse
import hashlib
import json
import sys
import warnings

import h5py

warnings.simplefilter("ignore")  # pyUSID warns about future defaults; keep stdout/stderr clean
import pyusid_numpy2  # noqa: E402,F401  (before pyUSID)
import pyUSID as usid  # noqa: E402
from pyUSID.io.hdf_utils import check_if_main  # noqa: E402


def describe(path, name, digest, ndim):
    with h5py.File(path, "r") as f:
        dset = f[name]
        out = {"is_main": bool(check_if_main(dset))}
        if not out["is_main"]:
            return out
        u = usid.USIDataset(dset)
        out.update(
            dtype=str(u.dtype),
            shape=list(u.shape),
            quantity=u.data_descriptor.split(" (")[0],
            quantity_attr=str(u.attrs["quantity"]),
            units=str(u.attrs["units"]),
            pos_dims=[[n, un, int(s)] for n, un, s in zip(u.pos_dim_labels, u.pos_dim_descriptors, u.pos_dim_sizes)],
            spec_dims=[[n, un, int(s)] for n, un, s in zip(u.spec_dim_labels, u.spec_dim_descriptors, u.spec_dim_sizes)],
            position_indices=u.h5_pos_inds.name,
            position_values=u.h5_pos_vals.name,
            spectroscopic_indices=u.h5_spec_inds.name,
            spectroscopic_values=u.h5_spec_vals.name,
            pos_values_dtype=str(u.h5_pos_vals.dtype),
            pos_indices_dtype=str(u.h5_pos_inds.dtype),
        )
        # Descriptors read "X (m)"; keep just the unit.
        for key in ("pos_dims", "spec_dims"):
            for d in out[key]:
                d[1] = d[1][len(d[0]) + 2:-1] if d[1].startswith(d[0] + " (") else d[1]
        if digest:
            out["sha256"] = hashlib.sha256(dset[()].tobytes()).hexdigest()
        if ndim:
            out["n_dim_shape"] = list(u.get_n_dim_form().shape)
        return out


def plain(v):
    """An attribute value as JSON, the way h5py hands it to Python code."""
    if isinstance(v, h5py.Reference):
        return "<reference>"
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def attrs(path, name):
    with h5py.File(path, "r") as f:
        return {k: plain(v) for k, v in f[name].attrs.items()}


def all_main(path):
    with h5py.File(path, "r") as f:
        return [m.name for m in usid.hdf_utils.get_all_main(f)]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file")
    p.add_argument("dataset", nargs="?")
    p.add_argument("--all-main", action="store_true", help="the paths get_all_main finds instead")
    p.add_argument("--digest", action="store_true", help="add the SHA-256 of the data")
    p.add_argument("--ndim", action="store_true", help="add the shape of get_n_dim_form()")
    p.add_argument("--attrs", action="store_true", help="print the object's attributes instead")
    a = p.parse_args()
    if (a.dataset is None) != a.all_main:
        p.error("a DATASET, or --all-main")
    try:
        if a.all_main:
            out = all_main(a.file)
        elif a.attrs:
            out = attrs(a.file, a.dataset)
        else:
            out = describe(a.file, a.dataset, a.digest, a.ndim)
    except Exception as e:  # one line for the test's failure message
        print(f"pyusid_read: {a.file}:{a.dataset}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
