#!/usr/bin/env python3
"""Write the files of the bad-input tests (tests/it/bad_inputs.rs) into OUTDIR, and scipy's answers.

    scripts/make_bad_inputs.py OUTDIR

Every file is written with h5py directly (not pyUSID, which refuses most of these shapes), laid
out the way pyUSID 0.0.12 writes a main dataset: `Position_Indices`/`Position_Values`
(positions x dims), `Spectroscopic_Indices`/`Spectroscopic_Values` (dims x bins) with `labels`
and `units`, and object references to them on the main dataset. One case breaks one thing.

OUTDIR/expected.json holds, for the cases usid-peaks must compute rather than refuse, the peaks
`scipy.signal.find_peaks_cwt(np.abs(row), widths, **kwargs)` finds in each row: this script is
the provenance of those answers. A list of {"file", "args" (the usid-peaks options that mean the
same), "peaks": [[...] per row]}.
"""
import json
import os
import sys
import warnings

import h5py
import numpy as np
from scipy.signal import find_peaks_cwt

MAIN = "Measurement_000/Channel_000/Raw_Data"
SEED_WIDTHS = (20.0, 60.0, 30)


def spectra(n_pos, n_bins, seed=1):
    """Rows of one or two Gaussian peaks over a little noise: peaks scipy finds at the seed widths."""
    rng = np.random.default_rng(seed)
    x = np.arange(n_bins, dtype=np.float64)
    rows = []
    for i in range(n_pos):
        c1 = n_bins * (0.3 + 0.4 * rng.random())
        row = np.exp(-(((x - c1) / max(n_bins / 12, 1.0)) ** 2))
        if i % 2:
            row += 0.6 * np.exp(-(((x - n_bins * 0.15) / max(n_bins / 25, 1.0)) ** 2))
        rows.append(row + 0.02 * rng.normal(size=n_bins))
    return np.array(rows, dtype=np.float64).reshape(n_pos, n_bins)


def ancillary(grp, prefix, n_steps, spectral, rows_delta=0, values_delta=0):
    """One dimension of `n_steps` steps, pyUSID's dtypes and attributes."""
    n_ind = n_steps + rows_delta
    n_val = n_steps + rows_delta + values_delta
    shape = (lambda n: (1, n)) if spectral else (lambda n: (n, 1))
    label = b"Frequency" if spectral else b"X"
    unit = b"Hz" if spectral else b"m"
    inds = grp.create_dataset(f"{prefix}_Indices", data=np.arange(n_ind, dtype=np.uint32).reshape(shape(n_ind)))
    vals = grp.create_dataset(f"{prefix}_Values", data=np.arange(n_val, dtype=np.float32).reshape(shape(n_val)))
    for d in (inds, vals):
        d.attrs["labels"] = np.array([label], dtype="S")
        d.attrs["units"] = np.array([unit], dtype="S")
    return inds, vals


def usid_file(path, data, pos_rows_delta=0, pos_values_delta=0, main_shape=None, shared_pos=False):
    """A USID main dataset holding `data` (positions x bins). `main_shape` stores the data reshaped
    (for the 1-D and 3-D cases) while the ancillary datasets keep describing the 2-D layout."""
    n_pos, n_bins = data.shape
    with h5py.File(path, "w") as f:
        grp = f.require_group(os.path.dirname(MAIN))
        pi, pv = ancillary(grp, "Position", n_pos, False, pos_rows_delta, pos_values_delta)
        si, sv = ancillary(grp, "Spectroscopic", n_bins, True)
        stored = data if main_shape is None else data.reshape(main_shape)
        main = grp.create_dataset(os.path.basename(MAIN), data=stored)
        main.attrs["quantity"] = "Amplitude"
        main.attrs["units"] = "a.u."
        if shared_pos:  # one dataset as both Position_Indices and Position_Values (pyUSID accepts it)
            pi = pv
        for name, d in [("Position_Indices", pi), ("Position_Values", pv),
                        ("Spectroscopic_Indices", si), ("Spectroscopic_Values", sv)]:
            main.attrs[name] = d.ref


def scipy_peaks(data, widths=SEED_WIDTHS, **kwargs):
    w = np.linspace(*widths)
    with warnings.catch_warnings():
        # NaN rows make scipy's percentile warn; the answer is what we compare, not the noise.
        warnings.simplefilter("ignore")
        return [[int(p) for p in find_peaks_cwt(np.abs(row), w, **kwargs)] for row in data]


def cli_args(widths, kwargs):
    """The usid-peaks options for np.linspace(*widths) and scipy's keyword arguments."""
    args = ["--widths", "%r:%r:%d" % widths]
    for k, v in kwargs.items():
        args += ["--" + k.replace("_", "-"), repr(v)]
    return args


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)
    expected = []

    def computed(name, data, widths=SEED_WIDTHS, write=True, **kwargs):
        if write:
            usid_file(p(name), data)
        expected.append({"file": name, "args": cli_args(widths, kwargs),
                         "peaks": scipy_peaks(data, widths, **kwargs)})

    # The reference case everything else departs from.
    good = spectra(6, 119)
    computed("good.h5", good)

    # Not HDF5 at all, or HDF5 cut short.
    with open(p("not_hdf5.h5"), "w") as f:
        f.write("x,y\n1,2\n" * 100)
    open(p("empty.h5"), "wb").close()
    usid_file(p("big.h5"), spectra(400, 119))
    with open(p("big.h5"), "rb") as f:
        whole = f.read()
    os.remove(p("big.h5"))
    with open(p("truncated.h5"), "wb") as f:
        f.write(whole[: len(whole) // 2])
    # Only the superblock: HDF5's signature, nothing else readable.
    with open(p("truncated_head.h5"), "wb") as f:
        f.write(whole[:100])

    # Position_Indices and Position_Values are the same dataset: valid for pyUSID, computed.
    usid_file(p("shared_position.h5"), good, shared_pos=True)
    computed("shared_position.h5", good, write=False)

    # HDF5, but nothing USID in it.
    with h5py.File(p("no_main.h5"), "w") as f:
        f.create_dataset("data", data=good)
        f["data"].attrs["quantity"] = "Amplitude"

    # Ancillary datasets that do not describe the main dataset.
    usid_file(p("anc_rows_mismatch.h5"), good, pos_rows_delta=1)
    usid_file(p("anc_pair_mismatch.h5"), good, pos_values_delta=2)

    # Main datasets of the wrong rank (the references and attributes are all there).
    usid_file(p("one_d.h5"), good, main_shape=(good.size,))
    usid_file(p("three_d.h5"), good, main_shape=(2, 3, 119))

    # Nothing to compute.
    usid_file(p("zero_rows.h5"), np.zeros((0, 119)))
    usid_file(p("zero_bins.h5"), np.zeros((6, 0)))

    # Spectra shorter than the widest wavelets: scipy clips each wavelet to the spectrum.
    computed("short_12.h5", spectra(4, 12, seed=2))
    computed("short_40.h5", spectra(4, 40, seed=3))
    computed("single_bin.h5", spectra(3, 1, seed=4))
    computed("short_12.h5", spectra(4, 12, seed=2), widths=(2.0, 8.0, 7), write=False)

    # NaN and ±inf: computed like scipy (which finds what it finds), never an error.
    odd = spectra(6, 119, seed=5)
    odd[0, 40] = np.nan
    odd[1, :] = np.nan
    odd[2, 70] = np.inf
    odd[3, 10] = -np.inf
    odd[4, :] = np.inf
    computed("nan_inf.h5", odd)

    # Integers are analysed as numbers, like np.abs(row) then scipy do. (int8's -128 is left out:
    # numpy's abs wraps it to -128, we widen first and get 128.)
    for dtype, scale in [("int16", 1000), ("uint8", 200), ("int64", 10**6), ("int8", 100)]:
        info = np.iinfo(dtype)
        computed(f"{dtype}.h5", np.clip(np.round(good * scale), info.min + 1, info.max).astype(dtype))
    computed("float32.h5", good.astype(np.float32))

    # Descending widths: np.linspace(60, 20, 30); scipy's ridge lines start from the last row.
    computed("good.h5", good, widths=(60.0, 20.0, 30), write=False)

    # scipy accepts a negative min_snr (keeps every ridge line) and window_size 0 (NaN noise).
    noisy = good + 0.3 * np.random.default_rng(9).normal(size=good.shape)
    computed("noisy.h5", noisy)
    computed("noisy.h5", noisy, min_snr=-1.0, write=False)
    computed("noisy.h5", noisy, window_size=0, write=False)
    computed("nan_inf.h5", odd, window_size=0, write=False)

    # Fewer pixels than ranks.
    computed("two_pixels.h5", spectra(2, 119, seed=6))

    with open(p("expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
