#!/usr/bin/env python3
"""Write a small USID main dataset with pyUSID itself, and print pyUSID's view of it as JSON.

This is the provenance of the pyUSID interop fixtures used by the Rust tests: the tests create
files with it at test time (in a temporary directory) and compare what `usid-peaks inspect --json`
reports with what pyUSID's USIDataset reports (printed on stdout).

    scripts/pyusid_write_fixture.py OUT.h5 --dtype complex64 --pos-dims 3 [--spec-dims 1]
    scripts/pyusid_write_fixture.py OUT.h5 --channel float32:1:1 --channel complex64:3:2

Each --channel DTYPE:POS_DIMS:SPEC_DIMS writes one more main dataset,
/Measurement_000/Channel_00k/Raw_Data (k = 0, 1, ...); without any, one channel from --dtype,
--pos-dims and --spec-dims. Channel_000 also gets a plain 2-D dataset `Not_Main`.
Stdout: a JSON list, pyUSID's view of every main dataset it finds (get_all_main), in its order.
"""
import argparse
import json
import sys

import warnings

import h5py
import numpy as np

warnings.simplefilter("ignore")  # pyUSID warns about future defaults; keep stderr clean
import pyUSID as usid  # noqa: E402

# Position dims, fastest varying first (pyUSID's default order): name, units, size.
POS = [("X", "m", 5), ("Y", "m", 3), ("Z", "nm", 2)]
# Spectroscopic dims, fastest varying first.
SPEC = [("Frequency", "Hz", 7), ("DC_Offset", "V", 3), ("Cycle", "", 2)]


DTYPES = ["float32", "float64", "complex64", "complex128",
          "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


def channel(text):
    """DTYPE:POS_DIMS:SPEC_DIMS -> (dtype, n_pos_dims, n_spec_dims)."""
    dtype, n_pos, n_spec = text.split(":")
    if dtype not in DTYPES or not 1 <= int(n_pos) <= 3 or not 1 <= int(n_spec) <= 3:
        raise argparse.ArgumentTypeError("bad channel " + text)
    return dtype, int(n_pos), int(n_spec)


def write_channel(grp, rng, dtype, n_pos_dims, n_spec_dims, quantity, units):
    """One main dataset Raw_Data in grp, written by pyUSID, random data of the given dtype."""
    pos = [usid.Dimension(n, u, np.arange(s) * 1.5 + 0.25) for n, u, s in POS[:n_pos_dims]]
    spec = [usid.Dimension(n, u, np.linspace(-1.0, 1.0, s)) for n, u, s in SPEC[:n_spec_dims]]
    n_pos = int(np.prod([len(d.values) for d in pos]))
    n_bins = int(np.prod([len(d.values) for d in spec]))
    data = rng.normal(size=(n_pos, n_bins)) * 10
    if dtype.startswith("complex"):
        data = data + 1j * rng.normal(size=(n_pos, n_bins))
    usid.hdf_utils.write_main_dataset(grp, data.astype(dtype), "Raw_Data", quantity, units, pos, spec)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--dtype", default="float32", choices=DTYPES)
    p.add_argument("--pos-dims", type=int, default=2, choices=[1, 2, 3])
    p.add_argument("--spec-dims", type=int, default=1, choices=[1, 2, 3])
    p.add_argument("--channel", action="append", type=channel, default=[],
                   help="DTYPE:POS_DIMS:SPEC_DIMS, repeatable")
    p.add_argument("--quantity", default="Amplitude")
    p.add_argument("--units", default="a.u.")
    a = p.parse_args()
    channels = a.channel or [(a.dtype, a.pos_dims, a.spec_dims)]

    rng = np.random.default_rng(7)
    with h5py.File(a.out, "w") as f:
        for k, (dtype, n_pos_dims, n_spec_dims) in enumerate(channels):
            grp = f.require_group("Measurement_000/Channel_{:03d}".format(k))
            write_channel(grp, rng, dtype, n_pos_dims, n_spec_dims, a.quantity, a.units)
            if k == 0:
                # A plain dataset beside it, which is not main.
                grp.create_dataset("Not_Main", data=np.zeros((3, 4), dtype="float32"))

    with h5py.File(a.out, "r") as f:
        mains = usid.hdf_utils.get_all_main(f)
        view = []
        for m in mains:
            view.append({
                "path": m.name,
                "quantity": str(usid.hdf_utils.get_attr(m, "quantity")),
                "units": str(usid.hdf_utils.get_attr(m, "units")),
                "dtype": m.dtype.name,
                "shape": list(m.shape),
                "position_dims": [{"name": str(n), "units": str(u), "size": int(s)} for n, u, s in
                                  zip(m.pos_dim_labels,
                                      usid.hdf_utils.get_attr(m.h5_pos_inds, "units"),
                                      m.pos_dim_sizes)],
                "spectroscopic_dims": [{"name": str(n), "units": str(u), "size": int(s)} for n, u, s in
                                       zip(m.spec_dim_labels,
                                           usid.hdf_utils.get_attr(m.h5_spec_inds, "units"),
                                           m.spec_dim_sizes)],
                "position_values": np.asarray(m.h5_pos_vals[()], dtype=float).tolist(),
                "spectroscopic_values": np.asarray(m.h5_spec_vals[()], dtype=float).tolist(),
            })
    json.dump(view, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
