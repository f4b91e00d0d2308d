#!/usr/bin/env python3
"""Write N odd HDF5 files for the reader's fuzz test (tests/it/fuzz_reader.rs), reproducibly.

    scripts/fuzz_inputs.py OUTDIR [--cases N] [--seed S]

Each case starts from a small valid USID main dataset (the layout pyUSID 0.0.12 writes) and
applies one to three mutations drawn with `random.Random(seed * 1_000_003 + case)`, so one case
can be rebuilt alone from its number. The mutations aim where a reader trusts the file: attribute
types (numbers, arrays, bytes vs str, empty, huge or non-UTF-8 strings), object references
(dangling, to groups, to the main dataset itself, to scalars and 3-D datasets, null, arrays of
references, region references), ancillary shapes (mismatched, transposed, empty, declared huge
but never written), the main dataset (rank 0/1/3, zero or huge declared sizes, strings, bool,
float16, enums, odd compounds), links (hard-link cycles, soft-link loops, dangling external
links) and deep hierarchies.

OUTDIR/manifest.json lists {"file", "case", "mutations"} per case.
"""
import argparse
import json
import os
import random

import h5py
import numpy as np

GROUP = "Measurement_000/Channel_000"
REFS = ["Position_Indices", "Position_Values", "Spectroscopic_Indices", "Spectroscopic_Values"]


def base(f, rng):
    """A valid main dataset of n_pos x n_bins float64 with one position and one spectral dim."""
    n_pos, n_bins = rng.choice([(4, 16), (6, 40), (3, 119)])
    g = f.require_group(GROUP)
    anc = {}
    for prefix, n, spectral in [("Position", n_pos, False), ("Spectroscopic", n_bins, True)]:
        shape = (1, n) if spectral else (n, 1)
        anc[prefix + "_Indices"] = g.create_dataset(prefix + "_Indices", data=np.arange(n, dtype=np.uint32).reshape(shape))
        anc[prefix + "_Values"] = g.create_dataset(prefix + "_Values", data=np.arange(n, dtype=np.float32).reshape(shape))
        for name in (prefix + "_Indices", prefix + "_Values"):
            anc[name].attrs["labels"] = np.array([b"F" if spectral else b"X"])
            anc[name].attrs["units"] = np.array([b"Hz" if spectral else b"m"])
    x = np.arange(n_bins)
    data = np.exp(-((x[None, :] - n_bins / 2) / (n_bins / 8 + 1)) ** 2) + 0.01 * np.arange(n_pos)[:, None]
    main = g.create_dataset("Raw_Data", data=data)
    main.attrs["quantity"] = "Amplitude"
    main.attrs["units"] = "V"
    for name in REFS:
        main.attrs[name] = anc[name].ref
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


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("outdir")
    p.add_argument("--cases", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    manifest = []
    for case in range(a.cases):
        name = f"case_{case:05d}.h5"
        manifest.append({"file": name, "case": case, "mutations": make_case(os.path.join(a.outdir, name), a.seed, case)})
    with open(os.path.join(a.outdir, "manifest.json"), "w") as f:
        json.dump({"seed": a.seed, "cases": manifest}, f, indent=0)


if __name__ == "__main__":
    main()
