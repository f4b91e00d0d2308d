#!/usr/bin/env python3
"""BGlib 0.0.6 as the reference of the SHO kernel (src/sho): its FakeBEPSGenerator's maps, its
guesses and its fit, written where the Rust tests read them; and BGlib's speed on one core.

This program is the provenance of tests/fixtures/sho/bglib_sho.h5 (tests/it/sho_bglib.rs reads it).
It runs in the BGlib reference environment .venv-bglib (tests/reference/requirements-bglib.txt says
how to make it; Python 3.11):

    .venv-bglib/bin/python tests/reference/bglib_sho.py fixtures
    # a larger differential run, e.g. the issue's 48 x 48 x 64-spectra map:
    .venv-bglib/bin/python tests/reference/bglib_sho.py fixtures --size 48 --steps 32 --size119 16 \
        --out /tmp/sho_48.h5
    SHO_FIXTURES=/tmp/sho_48.h5 cargo test --release --test it sho_bglib -- --nocapture
    .venv-bglib/bin/python tests/reference/bglib_sho.py bench --out out/sho-bench.h5 \\
        --ours target/release/examples/sho_throughput

`fixtures` writes four sets, each a group of the fixture file:
  clean     FakeBEPSGenerator's map as it writes it (noise-free; 37 bins, 300-350 kHz): 800 of its
            4 608 spectra, every one on which BGlib's driver guess is NaN (its do_fit stops on
            them) and a random sample of the others
  noisy     the same map with complex Gaussian noise, std 3 % of each spectrum's largest |r|
  noisy119  a map of 119 bins over 310-330 kHz, with the same noise
  edge      made-up spectra on the 37-bin axis: zeros, a constant, spikes, pure noise, a NaN
with datasets
  freqs         float64 [bins]: the Frequency values as stored (float32) promoted to float64
  spectra       complex64 [n, bins]: the spectra as stored, one per (position, field, DC step)
  truth         float64 [n, 4]: the generator's A, w0, Q, phi (its Raw_Data-SHO_Fit_000/Fit)
  guess         float64 [n, 5]: BGlib's complex_gaussian (SHOestimateGuess, num_points 5, and its
                R2) on complex128/float64 copies of the stored values
  driver_guess  float64 [n, 5]: the Guess BESHOfitter's do_guess writes (on the stored complex64
                values and float32 frequencies: NaN where a pair fits them exactly)
  fit           float64 [n, 5]: BGlib's fit: its driver BESHOfitter (do_guess, do_fit) where it
                runs (attribute fit_by = "BESHOfitter"), else scipy.optimize.least_squares called
                as the driver calls it, on each spectrum whose guess is finite (fit_by =
                "least_squares"; NaN rows where the guess is not)
  index         int64 [n]: each spectrum's place among the map's (position, field, DC step)
  wavelet_peak  int64 [n]: the bin BGlib's wavelet_peaks guess takes (scipy's find_peaks_cwt of
                |r| with widths linspace(10, 200, 20), the peak nearest the middle bin)
(edge has no truth, no driver_guess and no fit). `bench` times BGlib's complex_gaussian and least_squares on one
core as the driver calls them (per spectrum, on the stored complex64 rows), writes the spectra,
and times ours on the same spectra with the program given as --ours.

BGlib 0.0.6's generator needs, as released: an image folder of at least 11 .tif images (made here
at run time, random grayscale, sorted by name so that the coefficients do not depend on the order
the directory lists them), bin_factor=(1, 1), and a module-level `float` that has `.itemsize` (its
_calc_sho calls float(0).itemsize): both patched here at run time, in BGlib's module namespace.
"""
import argparse
import contextlib
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings

# BESHOfitter's workers reopen the file while the parent holds it.
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import scipy  # noqa: E402
from PIL import Image  # noqa: E402
from scipy.optimize import least_squares  # noqa: E402

import BGlib  # noqa: E402
import BGlib.be.translators.beps_data_generator as beps_gen  # noqa: E402
from BGlib.be.analysis import BELoopFitter, BESHOfitter  # noqa: E402
from BGlib.be.analysis.be_sho_fitter import (  # noqa: E402
    SHOGuessFunc,
    _sho_error,
    complex_gaussian,
    wavelet_peaks,
)
from BGlib.be.translators import FakeBEPSGenerator  # noqa: E402
from pyUSID.io.usi_data import USIDataset  # noqa: E402

RAW = "Measurement_000/Channel_000/Raw_Data"
TRUTH = "Measurement_000/Channel_000/Raw_Data-SHO_Fit_000"
FIELDS = ["Amplitude [V]", "Frequency [Hz]", "Quality Factor", "Phase [rad]", "R2 Criterion"]


def patch_generator():
    """The two run-time patches BGlib 0.0.6's generator needs (see the module doc)."""
    beps_gen.float = np.float64
    listed = FakeBEPSGenerator._parse_file_path
    FakeBEPSGenerator._parse_file_path = staticmethod(lambda path, ftype="all": sorted(listed(path, ftype)))


def generate(path, size, steps, bins, start, end, seed):
    """FakeBEPSGenerator's map of size x size positions, `steps` DC steps, 2 fields, `bins` bins."""
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as images:
        for i in range(11):
            pixels = rng.integers(0, 256, (size, size), dtype=np.uint8)
            Image.fromarray(pixels).save(os.path.join(images, f"{i:02d}.tif"))
        np.random.seed(seed)  # the generator's own noisy "Guess" uses the global generator
        FakeBEPSGenerator().translate(
            path, n_steps=steps, n_bins=bins, start_freq=start, end_freq=end,
            image_folder=images, bin_factor=(1, 1),
        )


def read_map(path):
    """The stored spectra (positions x fields x steps, bins), the frequency axis and the truth."""
    with h5py.File(path, "r") as f:
        main = USIDataset(f[RAW])
        bins = frequency_bins(f)
        freq_row = main.spec_dim_labels.index("Frequency")
        freqs = main.h5_spec_vals[freq_row, :bins].astype(np.float64)
        spectra = main[()].reshape(-1, bins)
        fit = f[TRUTH + "/Fit"][()].reshape(-1)
        truth = np.stack([fit[name] for name in FIELDS[:4]], axis=1).astype(np.float64)
    return freqs, spectra, truth


def add_noise(path, level, seed):
    """Complex Gaussian noise, std `level` x each spectrum's largest |r|, written into the map."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "r+") as f:
        raw = f[RAW]
        bins = frequency_bins(f)
        spectra = raw[()].reshape(-1, bins).astype(np.complex128)
        sigma = level * np.abs(spectra).max(axis=1, keepdims=True) / np.sqrt(2)
        noise = rng.standard_normal(spectra.shape) + 1j * rng.standard_normal(spectra.shape)
        raw[...] = (spectra + sigma * noise).astype(np.complex64).reshape(raw.shape)


def frequency_bins(f):
    main = USIDataset(f[RAW])
    return main.spec_dim_sizes[main.spec_dim_labels.index("Frequency")]


def bglib_guesses(spectra, freqs):
    """complex_gaussian (BGlib's default guess, with its R2) on complex128 copies."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BGlib's weights divide by zero on exact pairs
        return np.array([complex_gaussian(s.astype(np.complex128), freqs, num_points=5) for s in spectra])


def bglib_wavelet_bins(spectra):
    """The bin BGlib's wavelet_peaks guess takes: its find_peaks_cwt call, then its choice (the one
    peak, else the one nearest the middle bin, else the middle bin)."""
    chosen = []
    for s in spectra:
        peaks = wavelet_peaks(s.astype(np.complex128), peak_width_bounds=[10, 200], peak_width_step=20)
        middle = int(0.5 * len(s))
        if len(peaks) == 0:
            chosen.append(middle)
        else:
            chosen.append(int(peaks[np.argmin(np.abs(np.array(peaks) - middle))]))
    return np.array(chosen, dtype=np.int64)


def driver_run(path):
    """BESHOfitter's do_guess and do_fit on the map, as a BGlib user runs them. Returns its Guess
    and its Fit, each (n, 5) float64 in spectrum order, or None for the Fit where do_fit stops
    (and why)."""
    as_rows = lambda d: np.stack([d[name] for name in FIELDS], axis=1).astype(np.float64)  # noqa: E731
    with h5py.File(path, "r+") as f, contextlib.redirect_stdout(io.StringIO()):  # pyUSID's progress
        del f[TRUTH]  # the generator's truth group would be taken for a finished guess
        fitter = BESHOfitter(USIDataset(f[RAW]), verbose=False)
        fitter.set_up_guess(guess_func=SHOGuessFunc.complex_gaussian, num_points=5)
        guess = as_rows(fitter.do_guess()[()].reshape(-1))
        fitter.set_up_fit()
        try:
            return guess, as_rows(fitter.do_fit()[()].reshape(-1)), None
        except Exception as e:  # on NaN guesses: least_squares refuses them
            return guess, None, f"{type(e).__name__}: {e}"


def least_squares_fit(spectra, freqs, guesses):
    """The driver's per-spectrum call — least_squares(_sho_error, guess, jac='cs') — where the
    guess is finite; its R2 is 1 - fun as the driver writes it."""
    out = np.full((len(spectra), 5), np.nan)
    for i, (s, g) in enumerate(zip(spectra, guesses)):
        if np.all(np.isfinite(g[:4])):
            res = least_squares(_sho_error, g[:4], args=[s, freqs], jac="cs")
            out[i, :4] = res.x
            out[i, 4] = 1 - res.fun[0]
    return out


def edge_spectra(bins, rng):
    """Spectra no generator writes: zeros, a constant, spikes, pure complex noise, two close peaks,
    a NaN and an inf."""
    c = lambda v: np.full(bins, v, dtype=np.complex64)  # noqa: E731
    rows = [c(0), c(0.25 - 1.5j), c(1e-30 + 0j)]
    for at in (0, bins // 2, bins - 1):
        spike = c(0)
        spike[at] = 1 + 1j
        rows.append(spike)
    for scale in (1e-3, 1.0, 1e3):
        rows += [(scale * (rng.standard_normal(bins) + 1j * rng.standard_normal(bins))).astype(np.complex64)
                 for _ in range(4)]
    x = np.linspace(-1, 1, bins)
    rows.append((1 / (x - 0.3 + 0.05j) + 1 / (x + 0.2 + 0.03j)).astype(np.complex64))
    rows.append((np.exp(-x**2 * 40) * np.exp(1j * 3 * x)).astype(np.complex64))
    for bad in (np.nan, np.inf):
        r = c(1 + 1j)
        r[bins // 3] = bad
        rows.append(r)
    return np.array(rows)


def write_set(out, name, attrs, **arrays):
    g = out.create_group(name)
    for key, value in attrs.items():
        g.attrs[key] = value
    for key, value in arrays.items():
        opts = {"compression": "gzip", "compression_opts": 9, "shuffle": True} if value.ndim == 2 else {}
        g.create_dataset(key, data=value, **opts)


def map_set(out, work, name, size, steps, bins, start, end, noise, seed, keep=None):
    """One map through BGlib: its guesses, its driver, its fit. With `keep`, only that many of the
    map's spectra are written: every one whose driver guess is NaN, and a random sample of the rest."""
    path = os.path.join(work, name + ".h5")
    print(f"{name}: generating {size} x {size} positions x {2 * steps} spectra x {bins} bins", file=sys.stderr)
    with contextlib.redirect_stdout(io.StringIO()):  # pyUSID's dataset-writing log
        generate(path, size, steps, bins, start, end, seed)
    if noise > 0:
        add_noise(path, noise, seed + 1000)
    freqs, spectra, truth = read_map(path)
    driver_guess, driver_fit, stopped = driver_run(path)
    nan = lambda g: np.isnan(g[:, :4]).any(axis=1)  # noqa: E731
    index = np.arange(len(spectra))
    if keep is not None and keep < len(spectra):
        exact = np.flatnonzero(nan(driver_guess))
        rest = np.setdiff1d(index, exact)
        sample = np.random.default_rng(seed).choice(rest, keep - len(exact), replace=False)
        index = np.sort(np.concatenate([exact, sample]))
    spectra, truth, driver_guess = spectra[index], truth[index], driver_guess[index]
    guesses = bglib_guesses(spectra, freqs)
    if driver_fit is not None:
        fit, fit_by = driver_fit[index], "BESHOfitter"
    else:
        print(f"  BESHOfitter's do_fit stopped ({stopped}); least_squares per spectrum", file=sys.stderr)
        fit, fit_by = least_squares_fit(spectra, freqs, guesses), "least_squares"
    print(f"  {len(spectra)} of {size * size * 2 * steps} spectra; NaN guesses {nan(guesses).sum()} (complex128 "
          f"copies), {nan(driver_guess).sum()} (the driver's); fit by {fit_by}", file=sys.stderr)
    attrs = {"noise": noise, "fit_by": fit_by, "start_freq": start, "end_freq": end, "seed": seed,
             "positions": size * size, "spectra_per_position": 2 * steps}
    write_set(out, name, attrs, freqs=freqs, spectra=spectra, truth=truth, guess=guesses, fit=fit,
              driver_guess=driver_guess, wavelet_peak=bglib_wavelet_bins(spectra), index=index)


def versions():
    return {"python": platform.python_version(), "bglib": "0.0.6", "numpy": np.__version__,
            "scipy": scipy.__version__, "h5py": h5py.__version__}


def fixtures(args):
    patch_generator()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with tempfile.TemporaryDirectory() as work, h5py.File(args.out, "w") as out:
        out.attrs["provenance"] = "tests/reference/bglib_sho.py fixtures " + " ".join(sys.argv[2:])
        out.attrs["versions"] = json.dumps(versions())
        map_set(out, work, "clean", args.size_clean, args.steps, 37, 300e3, 350e3, 0.0, args.seed, keep=args.keep)
        map_set(out, work, "noisy", args.size, args.steps, 37, 300e3, 350e3, args.noise, args.seed)
        map_set(out, work, "noisy119", args.size119, args.steps, 119, 310e3, 330e3, args.noise, args.seed + 1)
        freqs, _, _ = read_map(os.path.join(work, "clean.h5"))
        edge = edge_spectra(len(freqs), np.random.default_rng(args.seed + 2))
        write_set(out, "edge", {"noise": 0.0, "fit_by": "none"}, freqs=freqs, spectra=edge,
                  guess=bglib_guesses(edge, freqs), wavelet_peak=bglib_wavelet_bins(edge))
    print(f"wrote {args.out} ({os.path.getsize(args.out) // 1024} KiB)", file=sys.stderr)


def time_bglib(spectra, freqs):
    """Seconds for BGlib's guess and fit of every spectrum, one core, as the driver calls them:
    complex_gaussian on each stored (complex64) row and the stored (float32) frequencies, then
    least_squares from that guess."""
    freqs = freqs.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        guesses = [complex_gaussian(s, freqs, num_points=5) for s in spectra]
        t1 = time.perf_counter()
        fits = 0
        for s, g in zip(spectra, guesses):
            if np.all(np.isfinite(g[:4])):
                least_squares(_sho_error, g[:4], args=[s, freqs], jac="cs")
                fits += 1
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1, fits


def bench(args):
    """BGlib against ours on the same spectra, one core each, sides alternated."""
    patch_generator()
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "map.h5")
        with contextlib.redirect_stdout(io.StringIO()):
            generate(path, args.size, args.steps, args.bins, args.start, args.end, args.seed)
        add_noise(path, args.noise, args.seed + 1000)
        freqs, spectra, _ = read_map(path)
    with h5py.File(args.out, "w") as f:
        f["freqs"] = freqs
        f["spectra"] = spectra
    rng = np.random.default_rng(args.seed)
    sample = spectra[rng.choice(len(spectra), size=min(args.sample, len(spectra)), replace=False)]
    rows = []
    for round_ in range(args.rounds):
        guess_s, fit_s, fits = time_bglib(sample, freqs)
        ours = json.loads(subprocess.run([args.ours, args.out], check=True, capture_output=True, text=True).stdout)
        rows.append({"round": round_, "bglib_guess_us": 1e6 * guess_s / len(sample),
                     "bglib_fit_us": 1e6 * fit_s / fits, "bglib_us": 1e6 * (guess_s + fit_s) / len(sample),
                     "ours_us": ours["us_per_spectrum"]})
        rows[-1]["ratio"] = rows[-1]["bglib_us"] / rows[-1]["ours_us"]
        print(json.dumps(rows[-1]), file=sys.stderr)
    med = {k: float(np.median([r[k] for r in rows])) for k in rows[0] if k != "round"}
    print(json.dumps({"spectra": len(spectra), "bglib_sample": len(sample), "bins": len(freqs),
                      "versions": versions(), "median": med}, indent=1))


def loop(args):
    """BGlib's BELoopFitter on the Fit `usid-peaks sho` (--ours) writes of a small noisy
    FakeBEPSGenerator map into an --output file: the data type, VS mode and cycle fraction the
    loop fitter is given are read from that file, where our writer copied them. Prints what it
    wrote as JSON; exits 1 where the loop fitter does not complete."""
    patch_generator()
    with tempfile.TemporaryDirectory() as work:
        path, out = os.path.join(work, "map.h5"), os.path.join(work, "sho.h5")
        with contextlib.redirect_stdout(io.StringIO()):
            generate(path, args.size, args.steps, 37, 300e3, 350e3, args.seed)
        add_noise(path, 0.03, args.seed + 1000)
        ours = subprocess.run([args.ours, "sho", path, "/" + RAW, "-q", "--json", "-o", out],
                              check=True, capture_output=True, text=True)
        group = json.loads(ours.stdout)["group"]
        with h5py.File(out, "r+") as f, contextlib.redirect_stdout(io.StringIO()):
            text = lambda v: v.decode() if isinstance(v, bytes) else str(v)  # noqa: E731
            meas = f["Measurement_000"].attrs
            told = [text(f.attrs["data_type"]), text(meas["VS_mode"]), text(meas["VS_cycle_fraction"])]
            fitter = BELoopFitter(USIDataset(f[group + "/Fit"]), *told, verbose=False)
            fitter.set_up_guess()
            guess = fitter.do_guess()
            fitter.set_up_fit()
            fit = fitter.do_fit()
            result = {"group": group, "told": told, "loop_group": fit.parent.name,
                      "guess_shape": list(guess.shape), "fit_shape": list(fit.shape),
                      "fit_fields": list(fit.dtype.names),
                      "fit_finite": int(sum(np.isfinite(fit[()][n]).sum() for n in fit.dtype.names))}
    print(json.dumps(result))
    complete = result["fit_shape"][0] == args.size * args.size and result["fit_finite"] > 0
    return 0 if complete else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    fx = sub.add_parser("fixtures")
    fx.add_argument("--out", default="tests/fixtures/sho/bglib_sho.h5")
    fx.add_argument("--noise", type=float, default=0.03)
    fx.add_argument("--seed", type=int, default=23)
    fx.add_argument("--size", type=int, default=5, help="positions per side of the noisy 37-bin map")
    fx.add_argument("--size-clean", type=int, default=12, help="positions per side of the noise-free map")
    fx.add_argument("--keep", type=int, default=800, help="spectra of the noise-free map written")
    fx.add_argument("--size119", type=int, default=3, help="positions per side of the 119-bin map")
    fx.add_argument("--steps", type=int, default=16, help="DC steps (spectra per position: 2 x steps)")
    bn = sub.add_parser("bench")
    bn.add_argument("--out", required=True, help="HDF5 file the spectra are written to for --ours")
    bn.add_argument("--ours", required=True, help="our timing program (examples/sho_throughput.rs)")
    bn.add_argument("--size", type=int, default=10)
    bn.add_argument("--steps", type=int, default=32)
    bn.add_argument("--bins", type=int, default=37)
    bn.add_argument("--start", type=float, default=300e3)
    bn.add_argument("--end", type=float, default=350e3)
    bn.add_argument("--noise", type=float, default=0.03)
    bn.add_argument("--sample", type=int, default=2000, help="spectra BGlib is timed on (ours: all)")
    bn.add_argument("--rounds", type=int, default=3)
    bn.add_argument("--seed", type=int, default=23)
    lp = sub.add_parser("loop")
    lp.add_argument("--ours", required=True, help="the usid-peaks binary")
    lp.add_argument("--size", type=int, default=3, help="positions per side")
    lp.add_argument("--steps", type=int, default=16, help="DC steps")
    lp.add_argument("--seed", type=int, default=23)
    args = ap.parse_args()
    sys.exit({"fixtures": fixtures, "bench": bench, "loop": loop}[args.cmd](args))


if __name__ == "__main__":
    main()
