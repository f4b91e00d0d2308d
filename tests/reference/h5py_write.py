#!/usr/bin/env python3
"""Write small HDF5 files with h5py directly, in pyUSID 0.0.12's layout, for the tests that need
files pyUSID would refuse to write: one program, two sets.

    tests/reference/h5py_write.py bad-inputs OUTDIR
    tests/reference/h5py_write.py fuzz OUTDIR [--cases N] [--seed S]

Every file starts from the layout pyUSID writes for a main dataset (`usid_main`):
`Position_Indices`/`Position_Values` (positions x dims), `Spectroscopic_Indices`/
`Spectroscopic_Values` (dims x bins) with `labels` and `units`, and object references to them on
the main dataset.

**bad-inputs** (tests/it/bad_inputs.rs): one case breaks one thing. OUTDIR/expected.json holds,
for the cases usid-peaks must compute rather than refuse, the peaks
`scipy.signal.find_peaks_cwt(np.abs(row), widths, **kwargs)` finds in each row: this program is the
provenance of those answers. A list of {"file", "args" (the usid-peaks options that mean the
same), "peaks": [[...] per row]}.

**fuzz** (tests/it/fuzz_reader.rs): N odd files, reproducibly. Each case starts from a small valid
main dataset and applies one to three mutations drawn with `random.Random(seed * 1_000_003 +
case)`, so one case can be rebuilt alone from its number. The mutations aim where a reader trusts
the file: attribute types (numbers, arrays, bytes vs str, empty, huge or non-UTF-8 strings),
object references (dangling, to groups, to the main dataset itself, to scalars and 3-D datasets,
null, arrays of references, region references), ancillary shapes (mismatched, transposed, empty,
declared huge but never written), the main dataset (rank 0/1/3, zero or huge declared sizes,
strings, bool, float16, enums, odd compounds), links (hard-link cycles, soft-link loops, dangling
external links) and deep hierarchies. OUTDIR/manifest.json lists {"file", "case", "mutations"}.
"""
import argparse
import json
import os
import random
import warnings

import h5py
import numpy as np
from scipy.signal import find_peaks_cwt

GROUP = "Measurement_000/Channel_000"
REFS = ["Position_Indices", "Position_Values", "Spectroscopic_Indices", "Spectroscopic_Values"]


def ancillary(grp, prefix, n_steps, spectral, label, rows_delta=0, values_delta=0):
    """One dimension of `n_steps` steps, pyUSID's dtypes and attributes: (indices, values)."""
    n_ind = n_steps + rows_delta
    n_val = n_steps + rows_delta + values_delta
    shape = (lambda n: (1, n)) if spectral else (lambda n: (n, 1))
    unit = b"Hz" if spectral else b"m"
    inds = grp.create_dataset(f"{prefix}_Indices", data=np.arange(n_ind, dtype=np.uint32).reshape(shape(n_ind)))
    vals = grp.create_dataset(f"{prefix}_Values", data=np.arange(n_val, dtype=np.float32).reshape(shape(n_val)))
    for d in (inds, vals):
        d.attrs["labels"] = np.array([label], dtype="S")
        d.attrs["units"] = np.array([unit], dtype="S")
    return inds, vals


def usid_main(grp, data, units, spec_label, pos_rows_delta=0, pos_values_delta=0, main_shape=None,
              shared_pos=False):
    """A main dataset `Raw_Data` in `grp` holding `data` (positions x bins), one position dim X and
    one spectroscopic dim: (main, {name: ancillary dataset} in REFS' order). `main_shape` stores the
    data reshaped (the 1-D and 3-D cases) while the ancillary datasets keep describing the 2-D
    layout; `shared_pos` makes one dataset both Position_Indices and Position_Values (pyUSID
    accepts it)."""
    n_pos, n_bins = data.shape
    pi, pv = ancillary(grp, "Position", n_pos, False, b"X", pos_rows_delta, pos_values_delta)
    si, sv = ancillary(grp, "Spectroscopic", n_bins, True, spec_label)
    stored = data if main_shape is None else data.reshape(main_shape)
    main = grp.create_dataset("Raw_Data", data=stored)
    main.attrs["quantity"] = "Amplitude"
    main.attrs["units"] = units
    if shared_pos:
        pi = pv
    anc = dict(zip(REFS, (pi, pv, si, sv)))
    for name in REFS:
        main.attrs[name] = anc[name].ref
    return main, anc


# ==== fuzz ====

def base(f, rng):
    """A valid main dataset of n_pos x n_bins float64 with one position and one spectral dim."""
    n_pos, n_bins = rng.choice([(4, 16), (6, 40), (3, 119)])
    g = f.require_group(GROUP)
    x = np.arange(n_bins)
    data = np.exp(-((x[None, :] - n_bins / 2) / (n_bins / 8 + 1)) ** 2) + 0.01 * np.arange(n_pos)[:, None]
    main, anc = usid_main(g, data, "V", b"F")
    return g, main, anc


# ---- mutations: each takes (f, g, main, anc, rng) and returns a short description ----

def m_attr_type(f, g, main, anc, rng):
    target = rng.choice([main] + list(anc.values()))
    name = rng.choice(["quantity", "units", "labels", "units"] if target is main else ["labels", "units"])
    value = rng.choice([
        ("int", 7), ("float array", np.arange(3.0)), ("bytes", b"V"), ("empty str", ""),
        ("vlen str array", np.array(["a", "b"], dtype=h5py.string_dtype())), ("bool", True),
        ("huge str", "x" * 100_000), ("non-utf8 bytes", np.bytes_(b"\xff\xfe\x80")),
        ("2-D str array", np.array([[b"a", b"b"], [b"c", b"d"]])), ("empty array", np.array([], dtype="S1")),
        ("many labels", np.array([b"L%d" % i for i in range(5000)])), ("scalar bytes label", np.bytes_(b"X")),
        ("str label (vlen)", "X"), ("int array", np.arange(4)), ("complex", 1 + 2j),
    ])
    if name in target.attrs:
        del target.attrs[name]
    target.attrs[name] = value[1]
    return f"{target.name}.{name} = {value[0]}"


def m_attr_missing(f, g, main, anc, rng):
    target = rng.choice([main] + list(anc.values()))
    names = list(target.attrs)
    if not names:
        return "no attribute to drop"
    name = rng.choice(names)
    del target.attrs[name]
    return f"{target.name}.{name} removed"


def m_reference(f, g, main, anc, rng):
    name = rng.choice(REFS)
    kind = rng.choice(["dangling", "group", "self", "scalar", "3-D", "string dataset", "null",
                       "array of refs", "region ref", "string", "int", "other ancillary", "1-D"])
    if kind == "dangling":
        tmp = g.create_dataset("tmp_target", data=np.zeros((3, 1)))
        ref = tmp.ref
        del g["tmp_target"]
        value = ref
    elif kind == "group":
        value = g.ref
    elif kind == "self":
        value = main.ref
    elif kind == "scalar":
        value = g.create_dataset("scalar_ds", data=3.0).ref
    elif kind == "3-D":
        value = g.create_dataset("cube", data=np.zeros((2, 2, 2))).ref
    elif kind == "1-D":
        value = g.create_dataset("line", data=np.zeros(5)).ref
    elif kind == "string dataset":
        value = g.create_dataset("words", data=np.array([b"a", b"b"])).ref
    elif kind == "null":
        value = h5py.Reference()
    elif kind == "array of refs":
        value = np.array([anc[name].ref, anc[name].ref], dtype=h5py.ref_dtype)
    elif kind == "region ref":
        value = anc[name].regionref[0:1, :]
    elif kind == "string":
        value = anc[name].name
    elif kind == "int":
        value = 12345
    else:
        value = anc[rng.choice([r for r in REFS if r != name])].ref
    del main.attrs[name]
    main.attrs[name] = value
    return f"{name} -> {kind}"


def m_anc_shape(f, g, main, anc, rng):
    name = rng.choice(list(anc))
    old = anc[name]
    kind = rng.choice(["extra row", "transposed", "empty", "huge declared", "3-D", "scalar", "strings",
                       "too many dims", "huge declared dims"])
    shape = old.shape
    labels, units = old.attrs.get("labels"), old.attrs.get("units")
    del g[name]
    if kind == "extra row":
        new = g.create_dataset(name, data=np.zeros((shape[0] + 1, shape[1])))
    elif kind == "transposed":
        new = g.create_dataset(name, data=np.zeros(shape[::-1]))
    elif kind == "empty":
        new = g.create_dataset(name, shape=(0, 0), dtype="f8")
    elif kind == "huge declared":
        # Chunked and never written: tiny on disk, 2^40 elements declared.
        huge = (2**40, 1) if shape[1] == 1 else (1, 2**40)
        new = g.create_dataset(name, shape=huge, dtype="f8", chunks=(1, 1), maxshape=(None, None))
    elif kind == "huge declared dims":
        new = g.create_dataset(name, shape=(shape[0], 2**30) if shape[1] == 1 else (2**30, shape[1]),
                               dtype="f8", chunks=(1, 1), maxshape=(None, None))
    elif kind == "3-D":
        new = g.create_dataset(name, data=np.zeros(shape + (2,)))
    elif kind == "scalar":
        new = g.create_dataset(name, data=1.0)
    elif kind == "strings":
        new = g.create_dataset(name, data=np.full(shape, b"ab"))
    else:
        wide = (shape[0], 300) if shape[1] == 1 else (300, shape[1])
        new = g.create_dataset(name, data=np.zeros(wide))
    if labels is not None:
        new.attrs["labels"] = labels
    if units is not None:
        new.attrs["units"] = units
    anc[name] = new
    main.attrs[name] = new.ref
    return f"{name}: {kind}"


def m_main(f, g, main, anc, rng):
    kind = rng.choice(["scalar", "1-D", "3-D", "zero rows", "zero bins", "huge declared", "strings", "bool",
                       "float16", "enum", "compound", "complex fields swapped", "vlen", "empty dataspace",
                       "uint64", "int8", "complex64"])
    attrs = dict(main.attrs)
    n_pos, n_bins = main.shape
    del g["Raw_Data"]
    if kind == "scalar":
        new = g.create_dataset("Raw_Data", data=1.0)
    elif kind == "1-D":
        new = g.create_dataset("Raw_Data", data=np.zeros(n_pos * n_bins))
    elif kind == "3-D":
        new = g.create_dataset("Raw_Data", data=np.zeros((n_pos, n_bins, 1)))
    elif kind == "zero rows":
        new = g.create_dataset("Raw_Data", shape=(0, n_bins), dtype="f8")
    elif kind == "zero bins":
        new = g.create_dataset("Raw_Data", shape=(n_pos, 0), dtype="f8")
    elif kind == "huge declared":
        new = g.create_dataset("Raw_Data", shape=(2**40, n_bins), dtype="f8", chunks=(1, n_bins), maxshape=(None, n_bins))
    elif kind == "strings":
        new = g.create_dataset("Raw_Data", data=np.full((n_pos, n_bins), b"x"))
    elif kind == "bool":
        new = g.create_dataset("Raw_Data", data=np.ones((n_pos, n_bins), dtype=bool))
    elif kind == "float16":
        new = g.create_dataset("Raw_Data", data=np.ones((n_pos, n_bins), dtype=np.float16))
    elif kind == "enum":
        dt = h5py.enum_dtype({"A": 0, "B": 1}, basetype="i1")
        new = g.create_dataset("Raw_Data", data=np.zeros((n_pos, n_bins), dtype="i1"), dtype=dt)
    elif kind == "compound":
        dt = np.dtype([("a", "f8"), ("b", "i4"), ("c", "f4")])
        new = g.create_dataset("Raw_Data", shape=(n_pos, n_bins), dtype=dt)
    elif kind == "complex fields swapped":
        dt = np.dtype([("i", "f4"), ("r", "f4")])
        new = g.create_dataset("Raw_Data", shape=(n_pos, n_bins), dtype=dt)
    elif kind == "vlen":
        new = g.create_dataset("Raw_Data", shape=(n_pos, n_bins), dtype=h5py.vlen_dtype("f8"))
    elif kind == "empty dataspace":
        new = g.create_dataset("Raw_Data", data=h5py.Empty("f8"))
    elif kind == "uint64":
        new = g.create_dataset("Raw_Data", data=np.full((n_pos, n_bins), 2**63 + 5, dtype=np.uint64))
    elif kind == "int8":
        new = g.create_dataset("Raw_Data", data=np.full((n_pos, n_bins), -128, dtype=np.int8))
    else:
        new = g.create_dataset("Raw_Data", data=(np.ones((n_pos, n_bins)) * (1 + 1j)).astype(np.complex64))
    for k, v in attrs.items():
        new.attrs[k] = v
    return f"Raw_Data: {kind}"


def m_links(f, g, main, anc, rng):
    kind = rng.choice(["hard cycle", "soft loop", "dangling soft", "external missing", "deep", "second main",
                       "results-like name", "self soft"])
    if kind == "hard cycle":
        g["loop"] = g
        f["Measurement_000"]["up"] = f["/"]
    elif kind == "soft loop":
        g["a"] = h5py.SoftLink(g.name + "/b")
        g["b"] = h5py.SoftLink(g.name + "/a")
    elif kind == "dangling soft":
        g["nowhere"] = h5py.SoftLink("/does/not/exist")
    elif kind == "self soft":
        g["me"] = h5py.SoftLink(g.name + "/me")
    elif kind == "external missing":
        g["ext"] = h5py.ExternalLink("missing-file.h5", "/data")
    elif kind == "deep":
        cur = f
        for i in range(300):
            cur = cur.create_group(f"d{i}")
        cur["Raw_Data_link"] = main
    elif kind == "second main":
        g["Raw_Data_2"] = main  # a second hard link to the same main dataset
    else:
        rg = g.create_group("Raw_Data-Peak_Finding_000")
        rg["Peak_Indices"] = main
    return f"links: {kind}"


MUTATIONS = [m_attr_type, m_attr_missing, m_reference, m_anc_shape, m_main, m_links]


def make_case(path, seed, case):
    rng = random.Random(seed * 1_000_003 + case)
    done = []
    with h5py.File(path, "w") as f:
        g, main, anc = base(f, rng)
        for _ in range(rng.choice([1, 1, 2, 3])):
            mutation = rng.choice(MUTATIONS)
            main = g["Raw_Data"]
            anc = {k: g[k] for k in list(anc) if k in g}
            try:
                done.append(mutation(f, g, main, anc, rng))
            except Exception as e:  # h5py refused to write it: that mutation is not a case
                done.append(f"{mutation.__name__} not written ({type(e).__name__})")
    return done

def fuzz(a):
    os.makedirs(a.outdir, exist_ok=True)
    manifest = []
    for case in range(a.cases):
        name = f"case_{case:05d}.h5"
        manifest.append({"file": name, "case": case, "mutations": make_case(os.path.join(a.outdir, name), a.seed, case)})
    with open(os.path.join(a.outdir, "manifest.json"), "w") as f:
        json.dump({"seed": a.seed, "cases": manifest}, f, indent=0)


# ==== bad inputs ====

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


def usid_file(path, data, **layout):
    """A file holding one main dataset (`usid_main`'s options) at GROUP/Raw_Data."""
    with h5py.File(path, "w") as f:
        usid_main(f.require_group(GROUP), data, "a.u.", b"Frequency", **layout)


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


def bad_inputs(out):
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


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="set", required=True)
    b = sub.add_parser("bad-inputs", help="the bad-input cases and scipy's answers")
    b.add_argument("outdir")
    z = sub.add_parser("fuzz", help="seeded odd files for the reader's fuzz test")
    z.add_argument("outdir")
    z.add_argument("--cases", type=int, default=100)
    z.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if a.set == "fuzz":
        fuzz(a)
    else:
        bad_inputs(a.outdir)


if __name__ == "__main__":
    main()
