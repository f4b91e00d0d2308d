#!/usr/bin/env python3
"""Write the NSID test maps with pyNSID itself (sidpy Datasets through pyNSID's
`write_nsid_dataset`), one file per case, and print what each case is as JSON.

This is the provenance of the NSID test inputs: the Rust tests run it at test time into a
temporary directory and hold our NSID model and reader to these files and to what pyNSID reads
back from them (tests/reference/nsid_read.py).

    tests/reference/nsid_write.py OUTDIR [CASE ...]

Without CASE, every case. Each case is OUTDIR/CASE.h5 with its datasets at pyNSID's usual
/Measurement_000/Channel_00k/NAME/NAME. Stdout: a JSON object, CASE -> list of
{"path", "shape", "dtype", "dims": [[name, dimension_type], ...]} as written.

The maps hold a Lorentzian resonance per pixel (shifting with position and, where there is one,
with the DC step) plus noise, so that a spectrum along the frequency axis has peaks.

`generic_axis` has scales sidpy refuses (an empty unit, a blank quantity), which pyNSID's reader
replaces by generic axes. Bad cases: `no_spatial` (valid NSID, but no SPATIAL axis), `wrong_length` (pyNSID-written, then
the Frequency scale replaced by one value short and re-attached with h5py's dimension-scale
API, so pyNSID's check no longer lists it) and `no_scales` (pyNSID-written, then every scale
detached: the attributes are NSID's, the dimension scales are gone).
"""
import json
import os
import sys
import warnings

import h5py
import numpy as np

warnings.simplefilter("ignore")  # sidpy/pyNSID/dask warn about future defaults; keep stderr clean
import sidpy  # noqa: E402
from pyNSID.io.hdf_io import write_nsid_dataset  # noqa: E402

SPATIAL, SPECTRAL = "SPATIAL", "SPECTRAL"
UNKNOWN, CHANNEL = "UNKNOWN", "CHANNEL"

# An axis: (name, quantity, units, dimension_type, values).
def y_axis(n):
    return ("y", "Length", "m", SPATIAL, np.arange(n) * 2.5e-8)


def x_axis(n):
    return ("x", "Length", "m", SPATIAL, np.arange(n) * 2.5e-8 + 1e-9)


def freq_axis(n, dim_type=SPECTRAL, name="Frequency"):
    return (name, "Frequency", "Hz", dim_type, np.linspace(300e3, 340e3, n))


def dc_axis(n):
    return ("DC_Offset", "Voltage", "V", SPECTRAL, np.linspace(-4.0, 4.0, n))


def channel_axis(n):
    return ("Channel", "Channel", "a.u.", CHANNEL, np.arange(n, dtype=float))


def repeat_axis():
    return ("Repeat", "Repeat", "a.u.", UNKNOWN, np.zeros(1))


def resonance(axes, dtype, rng):
    """Data of shape (len(values) of each axis): a Lorentzian along the axis named Frequency,
    centred at a frequency that moves with the spatial and DC coordinates, plus noise."""
    shape = tuple(len(a[4]) for a in axes)
    grids = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
    names = [a[0] for a in axes]
    shift = np.zeros(shape)
    for name, grid in zip(names, grids):
        if name in ("x", "y", "DC_Offset", "Channel"):
            shift += {"x": 0.7, "y": 1.3, "DC_Offset": 2.1, "Channel": 3.0}[name] * grid
    f = grids[names.index("Frequency")] if "Frequency" in names else grids[-1]
    n_f = shape[names.index("Frequency")] if "Frequency" in names else shape[-1]
    centre = n_f * 0.3 + (shift % (n_f * 0.4))
    amp = 1.0 / (1.0 + ((f - centre) / (n_f / 12.0)) ** 2)
    amp = amp + 0.4 / (1.0 + ((f - 0.8 * n_f) / (n_f / 20.0)) ** 2)  # a second, smaller peak
    amp = amp + 0.01 * rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        return (amp * np.exp(1j * (f / n_f) * np.pi)).astype(dtype)
    if np.dtype(dtype).kind in "iu":
        scale = 100 if np.dtype(dtype).itemsize == 1 else 10000
        return np.round(amp * scale).astype(dtype)
    return amp.astype(dtype)


def write(group, name, axes, dtype, rng, data_type="SPECTRAL_IMAGE", **h5_kwargs):
    """One NSID dataset, written by pyNSID into `group` (it creates group/name/name)."""
    data = resonance(axes, dtype, rng)
    ds = sidpy.Dataset.from_array(data, title=name)
    ds.data_type = data_type
    ds.quantity = "Amplitude"
    ds.units = "V"
    ds.modality = "Band Excitation"
    ds.source = "usid-peaks tests"
    for i, (dim_name, quantity, units, dim_type, values) in enumerate(axes):
        ds.set_dimension(i, sidpy.Dimension(values, name=dim_name, quantity=quantity,
                                            units=units, dimension_type=dim_type))
    h5_main = write_nsid_dataset(ds, group, main_data_name=name, **h5_kwargs)
    return {"path": h5_main.name, "shape": list(data.shape), "dtype": str(data.dtype),
            "dims": [[a[0], a[3]] for a in axes]}


def channel_group(f, k=0):
    return f.require_group("Measurement_000").create_group("Channel_%03d" % k)


def case_complex3d(f, rng):
    return [write(channel_group(f), "Raw_Data", [y_axis(5), x_axis(7), freq_axis(64)],
                  "complex64", rng)]


def case_beps4d(f, rng):
    return [write(channel_group(f), "Raw_Data",
                  [y_axis(4), x_axis(6), freq_axis(48), dc_axis(5)], "float32", rng)]


def case_complex4d(f, rng):
    # A BEPS map as the SHO fit takes it: complex, the DC steps a further axis after Frequency.
    return [write(channel_group(f), "Raw_Data",
                  [y_axis(3), x_axis(4), freq_axis(48), dc_axis(3)], "complex64", rng)]


def case_xy_order(f, rng):
    return [write(channel_group(f), "Raw_Data", [x_axis(7), y_axis(5), freq_axis(40)],
                  "float64", rng)]


def case_resume(f, rng):
    # Large enough that a one-thread run in 1 MiB batches is stopped mid-run by a test.
    return [write(channel_group(f), "Raw_Data", [y_axis(128), x_axis(128), freq_axis(119)],
                  "complex64", rng)]


def case_unknown_freq(f, rng):
    return [write(channel_group(f), "Raw_Data",
                  [y_axis(5), x_axis(6), freq_axis(40, UNKNOWN)], "float32", rng)]


def case_not_leading(f, rng):
    return [write(channel_group(f), "Raw_Data", [freq_axis(40), y_axis(5), x_axis(6)],
                  "complex64", rng)]


def case_interleaved(f, rng):
    return [write(channel_group(f), "Raw_Data",
                  [dc_axis(3), y_axis(4), freq_axis(32), x_axis(5)], "float32", rng)]


def case_singleton(f, rng):
    return [write(channel_group(f), "Raw_Data",
                  [y_axis(4), x_axis(5), freq_axis(40), repeat_axis()], "float32", rng)]


def case_channel(f, rng):
    return [write(channel_group(f), "Raw_Data",
                  [y_axis(4), x_axis(5), freq_axis(40), channel_axis(2)], "float32", rng)]


def case_gzip(f, rng):
    # Chunks that do not divide the shape: edge chunks overhang the dataset.
    return [write(channel_group(f), "Raw_Data", [y_axis(9), x_axis(11), freq_axis(64)],
                  "complex64", rng, compression="gzip", compression_opts=4, shuffle=True,
                  chunks=(2, 4, 64))]


def case_dtypes(f, rng):
    dtypes = ["float16", "float32", "float64", "complex128", "int8", "int16", "int32", "int64",
              "uint8", "uint16", "uint32", "uint64"]
    return [write(channel_group(f, k), "Raw_Data", [y_axis(3), x_axis(4), freq_axis(24)], t, rng)
            for k, t in enumerate(dtypes)]


def case_no_spatial(f, rng):
    return [write(channel_group(f), "Raw_Data", [freq_axis(32), dc_axis(4)], "float32", rng,
                  data_type="SPECTRUM")]


def case_wrong_length(f, rng):
    written = write(channel_group(f), "Raw_Data", [y_axis(4), x_axis(5), freq_axis(40)],
                    "float32", rng)
    main = f[written["path"]]
    group = main.parent
    old = group["Frequency"]
    attrs = {k: old.attrs[k] for k in ("name", "quantity", "units", "dimension_type")}
    main.dims[2].detach_scale(old)
    del group["Frequency"]
    short = group.create_dataset("Frequency", data=np.linspace(300e3, 340e3, 39))
    for k, v in attrs.items():
        short.attrs[k] = v
    short.make_scale("Frequency")
    main.dims[2].attach_scale(short)
    return [written]


def case_no_scales(f, rng):
    written = write(channel_group(f), "Raw_Data", [y_axis(4), x_axis(5), freq_axis(40)],
                    "float32", rng)
    main = f[written["path"]]
    for i, dim in enumerate(main.dims):
        for scale in list(dim.values()):
            main.dims[i].detach_scale(scale)
    return [written]


def case_generic_axis(f, rng):
    # Empty units / quantity on two scales (sidpy never writes them; other writers can): pyNSID's
    # reader keeps generic dimensions (b, c) for those axes instead.
    written = write(channel_group(f), "Raw_Data", [y_axis(5), x_axis(7), freq_axis(48)],
                    "float32", rng)
    group = f[written["path"]].parent
    group["Frequency"].attrs["units"] = ""
    group["x"].attrs["quantity"] = " "
    return [written]


CASES = {name[len("case_"):]: fn for name, fn in sorted(globals().items())
         if name.startswith("case_")}


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: nsid_write.py OUTDIR [CASE ...]; cases: " + " ".join(CASES))
    out, names = sys.argv[1], sys.argv[2:] or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        sys.exit("unknown case(s): %s; cases: %s" % (" ".join(unknown), " ".join(CASES)))
    os.makedirs(out, exist_ok=True)
    written = {}
    for name in names:
        path = os.path.join(out, name + ".h5")
        # Every case its own seed, fixed: the files are the same from run to run.
        rng = np.random.default_rng(1000 + sorted(CASES).index(name))
        with h5py.File(path, "w") as f:
            written[name] = CASES[name](f, rng)
    json.dump(written, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
