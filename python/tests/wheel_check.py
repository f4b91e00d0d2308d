"""The checks of the wheel installed into a fresh venv, run by scripts/build-wheel.sh --check on
this machine and in a fresh Debian chroot (not a pytest module). Needs only Python and its venv
module, and PyPI for numpy, then scipy and h5py:

    python3 wheel_check.py DIR WHEEL  a venv DIR/v, numpy into it, then the wheel with an empty
                                     cache (timed), `import usid_peaks` in 5 fresh processes
                                     (timed), the bare checks, scipy and h5py, the full checks;
                                     the figures in DIR/figures.json

which runs, in the venv:

    python wheel_check.py bare DIR   numpy only (the bare install): import, find, pixel, 1-D and 2-D
                                     find_peaks_cwt; DIR holds map.h5 (and gz.h5, the same map
                                     gzip-chunked), raw.npy (the map's spectra,
                                     np.abs) and cli_indices.npy (the command's Peak_Indices);
                                     writes DIR/py.h5, DIR/py_gz.h5 and DIR/pixel.json for the caller to compare
    python wheel_check.py full DIR   with scipy and h5py installed afterwards: the 1-D call against
                                     scipy, the results read back with h5py in the same process

Prints one line per check; exits 1 at the first that fails."""

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __name__ == "__main__" and sys.argv[1] in ("bare", "full"):
    import numpy as np

    import usid_peaks

RAW = "/Measurement_000/Channel_000/Raw_Data"


def ok(what):
    print(f"wheel_check: ok: {what}", flush=True)


def fail(what):
    print(f"wheel_check: FAIL: {what}", flush=True)
    sys.exit(1)


def bare(d):
    widths = np.linspace(20, 60, 30)
    ok(f"usid_peaks {usid_peaks.__version__}, HDF5 {usid_peaks._native.hdf5_version}, "
       f"numpy {np.__version__}, Python {sys.version.split()[0]}")
    raw, cli = np.load(d / "raw.npy"), np.load(d / "cli_indices.npy")
    rows = usid_peaks.find_peaks_cwt(raw, widths)
    bad = [i for i, (p, c) in enumerate(zip(rows, cli)) if not np.array_equal(p, c[c >= 0])]
    if len(rows) != len(cli) or bad:
        fail(f"2-D find_peaks_cwt differs from the command's peaks in rows {bad[:10]}")
    ok(f"2-D find_peaks_cwt: the command's peaks in all {len(rows)} rows")
    bad = [i for i in range(0, len(raw), 7)
           if not np.array_equal(usid_peaks.find_peaks_cwt(raw[i], widths), cli[i][cli[i] >= 0])]
    if bad:
        fail(f"1-D find_peaks_cwt differs from the command's peaks in rows {bad[:10]}")
    ok("1-D find_peaks_cwt: the command's peaks in every 7th row")
    summary = usid_peaks.find(str(d / "map.h5"), output=str(d / "py.h5"), progress=False)
    ok(f"find: {summary['group']}, {summary['peaks']} peaks")
    # The same map stored gzip-chunked: the direct chunk reader against the HDF5 inside the wheel.
    summary = usid_peaks.find(str(d / "gz.h5"), output=str(d / "py_gz.h5"), progress=False)
    ok(f"find on the gzip-chunked map: {summary['peaks']} peaks")
    got = usid_peaks.pixel(str(d / "map.h5"), 5, 7)
    (d / "pixel.json").write_text(json.dumps({k: (v.tolist() if isinstance(v, np.ndarray) else v)
                                              for k, v in got.items()}))
    ok("pixel 5,7 written")


def full(d):
    widths = np.linspace(20, 60, 30)
    import h5py
    from scipy.signal import find_peaks_cwt as scipy_find

    raw = np.load(d / "raw.npy")
    bad = [i for i in range(0, len(raw), 7)
           if not np.array_equal(usid_peaks.find_peaks_cwt(raw[i], widths), scipy_find(raw[i], widths))]
    if bad:
        fail(f"1-D find_peaks_cwt differs from scipy's in rows {bad[:10]}")
    ok(f"1-D find_peaks_cwt: scipy's peaks in every 7th row (h5py {h5py.__version__}, "
       f"its HDF5 {h5py.version.hdf5_version})")
    with h5py.File(d / "map.h5", "r") as f:
        if not np.array_equal(np.abs(f[RAW][:]), raw):
            fail("h5py reads other spectra than raw.npy")
        summary = usid_peaks.find(str(d / "map.h5"), output=str(d / "py2.h5"), progress=False)
    with h5py.File(d / "py2.h5", "r") as f, h5py.File(d / "py.h5", "r") as g:
        for name in ("Peak_Indices", "Peak_Count", "Peak_Frequencies"):
            a, b = f[summary["group"] + "/" + name][:], g[summary["group"] + "/" + name][:]
            if not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
                fail(f"{name} differs between find next to h5py and the bare find")
    ok("find next to h5py in one process: the bare run's results, read back with h5py")


def pip(venv, *args):
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    *args], check=True)


def install_and_check(d, wheel):
    venv = d / "v"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip(venv, "numpy")
    t0 = time.perf_counter()
    pip(venv, "--no-cache-dir", str(wheel))
    figures = {"install_s": time.perf_counter() - t0}
    ok(f"installed {wheel.name} in {figures['install_s']:.2f} s (numpy present, no cache)")
    timing = "import time; t = time.perf_counter(); import usid_peaks; print(time.perf_counter() - t)"
    imports = [float(subprocess.run([str(venv / "bin" / "python"), "-c", timing], check=True,
                                    capture_output=True, text=True).stdout) for _ in range(5)]
    figures["import_s"] = statistics.median(imports)
    ok(f"import usid_peaks: median {figures['import_s']:.3f} s of {[round(t, 3) for t in imports]}")
    me = str(Path(__file__).resolve())
    subprocess.run([str(venv / "bin" / "python"), me, "bare", str(d)], check=True)
    pip(venv, "scipy", "h5py")
    subprocess.run([str(venv / "bin" / "python"), me, "full", str(d)], check=True)
    (d / "figures.json").write_text(json.dumps(figures))


if __name__ == "__main__":
    if sys.argv[1] in ("bare", "full"):
        {"bare": bare, "full": full}[sys.argv[1]](Path(sys.argv[2]))
    else:
        install_and_check(Path(sys.argv[1]), Path(sys.argv[2]))
