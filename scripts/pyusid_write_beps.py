#!/usr/bin/env python3
"""Write a small BEPS-like map with pyUSID itself: several spectroscopic dimensions, in any order.

This is the provenance of the multi-dimensional fixtures of the Rust tests (tests/it/spectra.rs):

    scripts/pyusid_write_beps.py OUT.h5 --spec Frequency:48,DC_Offset:4 [--dtype complex64]
        [--rows 3 --cols 4] [--gzip] [--seed 5]

--spec lists the spectroscopic dimensions FASTEST-VARYING FIRST, as NAME:SIZE (known names get
their usual units and values: Frequency in Hz, DC_Offset in V, Field in V, Cycle without unit).
Each spectrum along Frequency is a damped harmonic oscillator response (|A| has a resonance whose
position and height move with the other dimensions' steps and the pixel) plus noise, so that
find_peaks_cwt finds different peaks in different spectra. --gzip stores the main dataset in
chunks of one row, gzip-compressed. The main dataset is /Measurement_000/Channel_000/Raw_Data.
Stdout: one JSON object {"path", "shape", "spectroscopic_dims": [[name, size], ...] (fastest
first), "compression"} as h5py reads the file back.
"""
import json
import sys
import argparse
import warnings

import h5py
import numpy as np

warnings.simplefilter("ignore")  # pyUSID warns about future defaults; keep stderr clean
import pyUSID as usid  # noqa: E402

KNOWN = {
    "Frequency": ("Hz", lambda n: np.linspace(300e3, 340e3, n)),
    "DC_Offset": ("V", lambda n: np.linspace(-3.0, 3.0, n)),
    "Field": ("V", lambda n: np.arange(n) * 0.5),
    "Cycle": ("", lambda n: np.arange(n, dtype=float)),
}


def spec_dims(text):
    dims = []
    for part in text.split(","):
        name, size = part.split(":")
        units, values = KNOWN.get(name, ("a.u.", lambda n: np.arange(n, dtype=float)))
        dims.append((name, units, values(int(size))))
    return dims


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--spec", required=True, type=spec_dims)
    p.add_argument("--dtype", default="complex64",
                   choices=["complex64", "complex128", "float32", "float64"])
    p.add_argument("--rows", type=int, default=3)
    p.add_argument("--cols", type=int, default=4)
    p.add_argument("--gzip", action="store_true")
    p.add_argument("--seed", type=int, default=5)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)

    names = [d[0] for d in a.spec]
    sizes = [len(d[2]) for d in a.spec]
    n_pos, n_bins = a.rows * a.cols, int(np.prod(sizes))
    # The step of every bin along every dimension, fastest first (pyUSID's own order).
    steps = np.array(np.unravel_index(np.arange(n_bins), sizes[::-1]))[::-1]
    f_dim = names.index("Frequency") if "Frequency" in names else 0
    n_f = sizes[f_dim]
    x = steps[f_dim] / max(n_f - 1, 1)  # 0..1 along the sweep
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
    if a.dtype.startswith("float"):
        data = np.abs(data)

    pos = [usid.Dimension("X", "m", np.arange(a.cols) * 1e-7),
           usid.Dimension("Y", "m", np.arange(a.rows) * 1e-7)]
    spec = [usid.Dimension(n, u, v) for n, u, v in a.spec]
    kwargs = {"compression": "gzip", "chunks": (1, n_bins)} if a.gzip else {}
    with h5py.File(a.out, "w") as f:
        grp = f.require_group("Measurement_000/Channel_000")
        usid.hdf_utils.write_main_dataset(grp, data.astype(a.dtype), "Raw_Data", "Amplitude", "V",
                                          pos, spec, **kwargs)
    with h5py.File(a.out, "r") as f:
        d = f["Measurement_000/Channel_000/Raw_Data"]
        json.dump({"path": d.name, "shape": list(d.shape), "compression": d.compression,
                   "spectroscopic_dims": [[n, s] for n, s in zip(names, sizes)]}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
