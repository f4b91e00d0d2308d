"""h5py and usid_peaks in one process. h5py's wheel carries its own HDF5; this package links the
system's (the source build) or carries its own inside the module (the wheel). Each keeps its own:
the module exports no HDF5 symbol, and each library answers with the version it was built
against, so neither took the other's functions. A file h5py holds open for writing is refused
with BusyError at once; with HDF5_USE_FILE_LOCKING=FALSE there is no lock to see, and what
happens then is pinned here and written in the README.

Needs the command (USID_PEAKS_BIN, as test_files.py), h5diff and nm (binutils)."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest

import usid_peaks
from test_files import RAW, assert_same_group, cli, generate

HDF5_ERROR_STACK = "HDF5-DIAG"

BOTH = textwrap.dedent(
    """
    import json, sys
    if sys.argv[1] == "h5py-first":
        import h5py, usid_peaks
    else:
        import usid_peaks, h5py
    a, b, out = sys.argv[2:5]
    with h5py.File(a, "r") as f:  # held open, read-only, while find reads it and writes its copy
        raw = f["%s"][:]
        first = usid_peaks.find(a, progress=False)
        second = usid_peaks.find(b, output=out, progress=False)
    with h5py.File(a, "r") as f, h5py.File(out, "r") as g:
        counts = [int(f[first["group"] + "/Peak_Count"][:].sum()), int(g[second["group"] + "/Peak_Count"][:].sum())]
    with open("/proc/self/maps") as m:
        libs = sorted({line.split()[-1] for line in m if "libhdf5" in line})
    print(json.dumps({
        "shape": list(raw.shape), "groups": [first["group"], second["group"]],
        "peaks": [first["peaks"], second["peaks"]], "counts": counts, "libs": libs,
        "ours": [usid_peaks._native.hdf5_version, usid_peaks._native.hdf5_built_version],
        "h5py": [h5py.version.hdf5_version, ".".join(map(str, h5py.version.hdf5_built_version_tuple))],
    }))
    """
    % RAW
)


@pytest.mark.parametrize("order", ["h5py-first", "usid_peaks-first"])
def test_h5py_and_find_in_one_process_give_the_commands_results_and_no_hdf5_errors(tmp_path, order):
    a, b = generate(tmp_path / "a.h5", 24, 20, 3), generate(tmp_path / "b.h5", 16, 12, 4)
    shutil.copy(a, tmp_path / "a_cli.h5")
    cli("find", tmp_path / "a_cli.h5", "-q")
    cli("find", b, "-q", "-o", tmp_path / "b_cli.h5")
    done = subprocess.run([sys.executable, "-c", BOTH, order, str(a), str(b), str(tmp_path / "out.h5")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert HDF5_ERROR_STACK not in done.stderr and "#000:" not in done.stderr, done.stderr
    got = json.loads(done.stdout)
    assert got["shape"] == [24 * 20, 119]
    group = f"{RAW}-Peak_Finding_000"
    assert got["groups"] == [group, group]
    assert got["counts"] == got["peaks"] and min(got["peaks"]) > 0, got
    assert_same_group(a, group, tmp_path / "a_cli.h5", group)
    assert_same_group(tmp_path / "out.h5", group, tmp_path / "b_cli.h5", group)
    # Each library answers with its own version: had one taken the other's symbols, one of the
    # pairs would differ. The versions differ (1.10 or 2.2 here, h5py's 2.0), so the check can fail.
    ours, theirs = got["ours"], got["h5py"]
    assert ours[0] == ours[1] and theirs[0] == theirs[1], got
    assert ours[0] != theirs[0], f"both HDF5 {ours[0]}: this check cannot tell the libraries apart"
    # h5py's library is mapped; ours is the system's (source build) or inside the module (wheel).
    assert any("h5py" in lib for lib in got["libs"]), got["libs"]


def test_the_module_exports_no_hdf5_symbol():
    nm = shutil.which("nm")
    if nm is None:
        pytest.fail("nm is missing: install binutils")
    module = usid_peaks._native.__file__
    done = subprocess.run([nm, "-D", "--defined-only", module], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    exported = [line.split()[-1] for line in done.stdout.splitlines() if line.strip()]
    assert "PyInit__native" in exported, exported
    assert not [s for s in exported if s.startswith("H5")], exported


@pytest.fixture
def locking_on(monkeypatch):
    # h5py's HDF5 reads the variable at each open: the test runs with file locking as HDF5's default.
    monkeypatch.delenv("HDF5_USE_FILE_LOCKING", raising=False)


def test_find_on_a_file_h5py_holds_open_for_writing_is_a_busy_error_at_once(tmp_path, locking_on):
    path = generate(tmp_path / "map.h5", 24, 20, 3)
    other = generate(tmp_path / "other.h5", 8, 8, 4)
    with h5py.File(path, "a") as f:
        f["before"] = np.arange(5)
        started = time.monotonic()
        with pytest.raises(usid_peaks.BusyError, match="open for writing in another program"):
            usid_peaks.find(path, progress=False)
        # As the output of a run on another file too.
        with pytest.raises(usid_peaks.BusyError, match="open for writing in another program"):
            usid_peaks.find(other, output=path, progress=False)
        assert time.monotonic() - started < 5, "BusyError came late: did find wait for the lock?"
        f["after"] = np.arange(3)
    # h5py's writes are all there, nothing of ours is, and nothing was left beside the file.
    with h5py.File(path, "r") as f:
        assert f["before"][:].tolist() == [0, 1, 2, 3, 4] and f["after"][:].tolist() == [0, 1, 2]
        assert list(f["/Measurement_000/Channel_000"]) == [
            "Position_Indices", "Position_Values", "Raw_Data", "Spectroscopic_Indices", "Spectroscopic_Values"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.h5", "other.h5"]
    # Once h5py has closed it, the same call runs.
    assert usid_peaks.find(path, progress=False)["group"] == f"{RAW}-Peak_Finding_000"


NO_LOCKS = textwrap.dedent(
    """
    import sys, h5py, numpy as np, usid_peaks
    path = sys.argv[1]
    f = h5py.File(path, "a")  # HDF5_USE_FILE_LOCKING=FALSE: no lock taken
    f["flushed"] = np.arange(5)
    f.flush()
    print(usid_peaks.find(path, progress=False)["group"], flush=True)
    f["after_find"] = np.arange(3)
    f.close()
    """
)


def test_without_hdf5_file_locking_find_goes_ahead_and_the_writers_later_writes_are_lost(tmp_path):
    # Lustre/NFS sites often set HDF5_USE_FILE_LOCKING=FALSE: h5py's writer then holds no lock,
    # find cannot tell it is there, and replaces the file with its copy (plus the results). The
    # file stays whole and keeps what the writer had flushed; what the writer writes afterwards
    # goes to the file find replaced, and is lost.
    path = generate(tmp_path / "map.h5", 24, 20, 3)
    shutil.copy(path, tmp_path / "cli.h5")
    cli("find", tmp_path / "cli.h5", "-q")
    env = dict(os.environ, HDF5_USE_FILE_LOCKING="FALSE")
    done = subprocess.run([sys.executable, "-c", NO_LOCKS, str(path)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert HDF5_ERROR_STACK not in done.stderr, done.stderr
    group = f"{RAW}-Peak_Finding_000"
    assert done.stdout.strip() == group
    with h5py.File(path, "r") as f:
        assert f["flushed"][:].tolist() == [0, 1, 2, 3, 4]
        assert "after_find" not in f
    assert_same_group(path, group, tmp_path / "cli.h5", group)
