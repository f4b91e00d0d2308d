#!/usr/bin/env python3
"""Write USID main datasets with pyUSID itself, and print pyUSID's view of the file as JSON.

This is the provenance of every pyUSID-written input of the Rust tests: they write files with it
at test time (in a temporary directory) and compare what usid-peaks reads or computes with what
pyUSID reports (printed on stdout).

    tests/reference/pyusid_write.py OUT.h5 --channel float32:1:1 --channel complex64:3:2
    tests/reference/pyusid_write.py OUT.h5 --spec Frequency:48,DC_Offset:4 [--dtype complex64]
        [--rows 3 --cols 4] [--gzip] [--seed 5]
    ... [--anc-dtype Spectroscopic_Values=float16 ...]

--channel DTYPE:POS_DIMS:SPEC_DIMS (repeatable) writes one more main dataset
/Measurement_000/Channel_00k/Raw_Data (k = 0, 1, ...) of random numbers, with the first POS_DIMS
of X, Y, Z (5, 3, 2 steps) and the first SPEC_DIMS of Frequency, DC_Offset, Cycle (7, 3, 2 steps);
Channel_000 also gets a plain 2-D dataset `Not_Main`. Without --channel and --spec, one channel
from --dtype (default float32), --pos-dims and --spec-dims.

--spec NAME:SIZE,... writes one map, /Measurement_000/Channel_000/Raw_Data, with those
spectroscopic dimensions FASTEST-VARYING FIRST (known names get their usual units and values:
Frequency in Hz, DC_Offset in V, Field in V, Cycle without unit) over --rows x --cols positions.
Each spectrum along Frequency is a damped harmonic oscillator response (|A| has a resonance whose
position and height move with the other dimensions' steps and the pixel) plus noise, so that
find_peaks_cwt finds different peaks in different spectra. --gzip stores it in chunks of one row,
gzip-compressed.

--anc-dtype NAME=DTYPE (repeatable) stores that ancillary dataset of every main dataset written
(Position_Indices, Position_Values, Spectroscopic_Indices or Spectroscopic_Values) as DTYPE
instead of pyUSID's uint32 indices and float32 values: pyUSID writes it, then h5py replaces it
with its values converted (numpy's astype: float16 overflows to inf), attributes and references
kept. pyUSID has no such option; its readers accept any numeric type.

Stdout: a JSON list, pyUSID's view of every main dataset it finds (get_all_main), in its order.
"""
import argparse
import json
import sys
import warnings

import h5py
import numpy as np

warnings.simplefilter("ignore")  # pyUSID warns about future defaults; keep stderr clean
import pyusid_numpy2  # noqa: E402,F401  (before pyUSID)
import pyUSID as usid  # noqa: E402

DTYPES = ["float16", "float32", "float64", "complex64", "complex128",
          "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
# --channel's dimensions, fastest varying first (pyUSID's default order): name, units, size.
POS = [("X", "m", 5), ("Y", "m", 3), ("Z", "nm", 2)]
SPEC = [("Frequency", "Hz", 7), ("DC_Offset", "V", 3), ("Cycle", "", 2)]
# --spec's known dimensions: units and values for a size.
KNOWN = {
    "Frequency": ("Hz", lambda n: np.linspace(300e3, 340e3, n)),
    "DC_Offset": ("V", lambda n: np.linspace(-3.0, 3.0, n)),
    "Field": ("V", lambda n: np.arange(n) * 0.5),
    "Cycle": ("", lambda n: np.arange(n, dtype=float)),
}


def channel(text):
    """DTYPE:POS_DIMS:SPEC_DIMS -> (dtype, n_pos_dims, n_spec_dims)."""
    dtype, n_pos, n_spec = text.split(":")
    if dtype not in DTYPES or not 1 <= int(n_pos) <= 3 or not 1 <= int(n_spec) <= 3:
        raise argparse.ArgumentTypeError("bad channel " + text)
    return dtype, int(n_pos), int(n_spec)


def spec_dims(text):
    """NAME:SIZE,... -> [usid.Dimension], fastest first."""
    dims = []
    for part in text.split(","):
        name, size = part.split(":")
        units, values = KNOWN.get(name, ("a.u.", lambda n: np.arange(n, dtype=float)))
        dims.append(usid.Dimension(name, units, values(int(size))))
    return dims


def random_channel(grp, rng, dtype, n_pos_dims, n_spec_dims, quantity, units):
    """One main dataset Raw_Data in grp of random numbers of the given dtype."""
    pos = [usid.Dimension(n, u, np.arange(s) * 1.5 + 0.25) for n, u, s in POS[:n_pos_dims]]
    spec = [usid.Dimension(n, u, np.linspace(-1.0, 1.0, s)) for n, u, s in SPEC[:n_spec_dims]]
    n_pos = int(np.prod([len(d.values) for d in pos]))
    n_bins = int(np.prod([len(d.values) for d in spec]))
    data = rng.normal(size=(n_pos, n_bins)) * 10
    if dtype.startswith("complex"):
        data = data + 1j * rng.normal(size=(n_pos, n_bins))
    usid.hdf_utils.write_main_dataset(grp, data.astype(dtype), "Raw_Data", quantity, units, pos, spec)


def resonance_map(grp, a):
    """One main dataset Raw_Data in grp: resonances along Frequency over the --spec dimensions."""
    rng = np.random.default_rng(a.seed)
    sizes = [len(d.values) for d in a.spec]
    names = [d.name for d in a.spec]
    n_pos, n_bins = a.rows * a.cols, int(np.prod(sizes))
    # The step of every bin along every dimension, fastest first (pyUSID's own order).
    steps = np.array(np.unravel_index(np.arange(n_bins), sizes[::-1]))[::-1]
    f_dim = names.index("Frequency") if "Frequency" in names else 0
    x = steps[f_dim] / max(sizes[f_dim] - 1, 1)  # 0..1 along the sweep
    # Every other step moves the resonance and scales it.
    others = sum(steps[d] * (d + 1) for d in range(len(sizes)) if d != f_dim)
    data = np.empty((n_pos, n_bins), dtype=complex)
    for i in range(n_pos):
        w0 = 0.3 + 0.4 * ((i * 7 + others * 3) % 11) / 10
        amp = 1.0 + 0.2 * ((i + others) % 5)
        q = 12.0
        resp = amp / (w0 ** 2 - x ** 2 + 1j * x * w0 / q + 1e-3)
        noise = rng.normal(size=n_bins) + 1j * rng.normal(size=n_bins)
        data[i] = resp / 30 + 0.05 * noise
    if not a.dtype.startswith("complex"):
        data = np.abs(data)
    pos = [usid.Dimension("X", "m", np.arange(a.cols) * 1e-7),
           usid.Dimension("Y", "m", np.arange(a.rows) * 1e-7)]
    kwargs = {"compression": "gzip", "chunks": (1, n_bins)} if a.gzip else {}
    usid.hdf_utils.write_main_dataset(grp, data.astype(a.dtype), "Raw_Data", "Amplitude", "V",
                                      pos, a.spec, **kwargs)


def anc_dtype(text):
    """NAME=DTYPE -> (NAME, DTYPE)."""
    name, _, dtype = text.partition("=")
    if name not in ANCILLARY or dtype not in DTYPES:
        raise argparse.ArgumentTypeError(f"bad --anc-dtype {text}: one of {ANCILLARY}, a numpy type")
    return name, dtype


ANCILLARY = ["Position_Indices", "Position_Values", "Spectroscopic_Indices", "Spectroscopic_Values"]


def retype(main, name, dtype):
    """The ancillary dataset `name` of `main` stored again as `dtype`, attributes and the main
    dataset's reference kept."""
    old = main.file[main.attrs[name]]
    path, values, attrs = old.name, old[()], dict(old.attrs)
    parent = old.parent
    del parent[path.rsplit("/", 1)[1]]
    with np.errstate(over="ignore"):
        new = parent.create_dataset(path.rsplit("/", 1)[1], data=values.astype(dtype))
    for k, v in attrs.items():
        new.attrs[k] = v
    main.attrs[name] = new.ref


def finite_or_text(values):
    """Nested lists of floats, with "inf", "-inf" and "nan" as text (JSON has no such numbers)."""
    return [[float(x) if np.isfinite(x) else str(float(x)) for x in row]
            for row in np.asarray(values, dtype=float)]


def view(m):
    """pyUSID's view of one main dataset, as the tests compare it."""
    def dims(labels, inds, sizes):
        units = usid.hdf_utils.get_attr(inds, "units")
        return [{"name": str(n), "units": str(u), "size": int(s)} for n, u, s in zip(labels, units, sizes)]

    return {
        "path": m.name,
        "quantity": str(usid.hdf_utils.get_attr(m, "quantity")),
        "units": str(usid.hdf_utils.get_attr(m, "units")),
        "dtype": m.dtype.name,
        "shape": list(m.shape),
        "compression": m.compression,
        "position_dims": dims(m.pos_dim_labels, m.h5_pos_inds, m.pos_dim_sizes),
        "spectroscopic_dims": dims(m.spec_dim_labels, m.h5_spec_inds, m.spec_dim_sizes),
        "position_values": finite_or_text(m.h5_pos_vals[()]),
        "spectroscopic_values": finite_or_text(m.h5_spec_vals[()]),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--channel", action="append", type=channel, default=[],
                   help="DTYPE:POS_DIMS:SPEC_DIMS, repeatable")
    p.add_argument("--dtype", default=None, choices=DTYPES)
    p.add_argument("--pos-dims", type=int, default=2, choices=[1, 2, 3])
    p.add_argument("--spec-dims", type=int, default=1, choices=[1, 2, 3])
    p.add_argument("--quantity", default="Amplitude")
    p.add_argument("--units", default="a.u.")
    p.add_argument("--spec", type=spec_dims, help="a resonance map with these dimensions")
    p.add_argument("--rows", type=int, default=3)
    p.add_argument("--cols", type=int, default=4)
    p.add_argument("--gzip", action="store_true")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--anc-dtype", action="append", type=anc_dtype, default=[],
                   help="NAME=DTYPE: store that ancillary dataset as DTYPE, repeatable")
    a = p.parse_args()
    if a.spec and a.channel:
        p.error("--spec writes one map; --channel is for random channels")

    with h5py.File(a.out, "w") as f:
        if a.spec:
            a.dtype = a.dtype or "complex64"
            resonance_map(f.require_group("Measurement_000/Channel_000"), a)
        else:
            rng = np.random.default_rng(7)
            channels = a.channel or [(a.dtype or "float32", a.pos_dims, a.spec_dims)]
            for k, (dtype, n_pos_dims, n_spec_dims) in enumerate(channels):
                grp = f.require_group("Measurement_000/Channel_{:03d}".format(k))
                random_channel(grp, rng, dtype, n_pos_dims, n_spec_dims, a.quantity, a.units)
                if k == 0:
                    # A plain dataset beside it, which is not main.
                    grp.create_dataset("Not_Main", data=np.zeros((3, 4), dtype="float32"))
        for path in [d.name for d in _datasets(f) if d.name.endswith("/Raw_Data")]:
            for name, dtype in a.anc_dtype:
                retype(f[path], name, dtype)

    with h5py.File(a.out, "r") as f:
        json.dump([view(m) for m in usid.hdf_utils.get_all_main(f)], sys.stdout)
    sys.stdout.write("\n")


def _datasets(group):
    found = []
    group.visititems(lambda _, obj: found.append(obj) if isinstance(obj, h5py.Dataset) else None)
    return found


if __name__ == "__main__":
    main()
