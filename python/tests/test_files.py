"""usid_peaks.find and usid_peaks.pixel against the usid-peaks command on generated maps: the
same results group (h5diff-equal), the same pixel, a KeyboardInterrupt that leaves a
checkpoint the next call resumes from, and progress shown in a notebook or given to a callable.

Needs the command (`cargo build --release` makes target/release/usid-peaks; USID_PEAKS_BIN
overrides) and h5diff (hdf5-tools)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy.signal import find_peaks_cwt as scipy_find

import usid_peaks

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("USID_PEAKS_BIN", REPO / "target" / "release" / "usid-peaks"))
RAW = "/Measurement_000/Channel_000/Raw_Data"
DATASETS = ("Peak_Indices", "Peak_Frequencies", "Peak_Count")


def cli(*args):
    if not BIN.exists():
        pytest.fail(f"{BIN} is missing: run `cargo build --release` first (or set USID_PEAKS_BIN)")
    done = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, f"usid-peaks {' '.join(map(str, args))}: {done.stderr}"
    return done.stdout


def generate(path, rows, cols, seed):
    cli("generate", path, "--rows", rows, "--cols", cols, "--seed", seed)
    return path


def assert_same_group(a, group_a, b, group_b):
    h5diff = shutil.which("h5diff")
    if h5diff is None:
        pytest.fail("h5diff is missing: install hdf5-tools (scripts/bootstrap.sh --tests does)")
    for d in DATASETS:
        done = subprocess.run([h5diff, str(a), str(b), f"{group_a}/{d}", f"{group_b}/{d}"],
                              capture_output=True, text=True)
        assert done.returncode == 0, f"{d} differs: {done.stdout}{done.stderr}"


@pytest.fixture(scope="module")
def small_map(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("map") / "map.h5", 24, 20, 3)


def test_find_writes_the_same_group_as_the_command(small_map, tmp_path):
    summary = usid_peaks.find(small_map, output=tmp_path / "py.h5", progress=False, threads=2)
    ours = json.loads(cli("find", small_map, "-q", "--json", "-o", tmp_path / "cli.h5", "--threads", 2))
    assert summary["group"] == ours["group"] == f"{RAW}-Peak_Finding_000"
    assert (summary["pixels"], summary["peaks"], summary["computed"]) == (ours["pixels"], ours["peaks"], 480)
    assert summary["reused"] is False and summary["file"] == str(tmp_path / "py.h5")
    # Bound as the command binds (both on the same CPUs).
    assert summary["threads_bound"] == ours["threads_bound"]
    assert_same_group(tmp_path / "py.h5", summary["group"], tmp_path / "cli.h5", ours["group"])
    # The same call again finds the complete group and reuses it; force computes a new one.
    assert usid_peaks.find(small_map, output=tmp_path / "py.h5", progress=False)["reused"] is True
    forced = usid_peaks.find(small_map, output=tmp_path / "py.h5", progress=False, force=True)
    assert forced["group"] == f"{RAW}-Peak_Finding_001"


def test_find_with_parameters_matches_the_command_and_the_2d_call(small_map, tmp_path):
    kw = dict(widths=[2.0, 4.5, 9.0], min_snr=0.5, noise_perc=20, window_size=7, gap_thresh=3)
    summary = usid_peaks.find(small_map, output=tmp_path / "py.h5", progress=False, **kw)
    cli("find", small_map, "-q", "-o", tmp_path / "cli.h5", "--width-list", "2,4.5,9", "--min-snr", 0.5,
        "--noise-perc", 20, "--window-size", 7, "--gap-thresh", 3)
    assert_same_group(tmp_path / "py.h5", summary["group"], tmp_path / "cli.h5", summary["group"])
    with h5py.File(small_map, "r") as f:
        raw = np.abs(f[RAW][:])
    with h5py.File(tmp_path / "py.h5", "r") as f:
        indices = f[summary["group"] + "/Peak_Indices"][:]
    found = usid_peaks.find_peaks_cwt(raw, **kw)
    assert len(found) == len(indices) == 480
    for row, peaks in zip(indices, found):
        assert np.array_equal(row[row >= 0], peaks)


def test_pixel_equals_the_command_and_scipy(small_map):
    got = usid_peaks.pixel(small_map, 5, 7)
    ours = json.loads(cli("pixel", small_map, "--pixel", "5,7", "--json"))
    assert (got["index"], got["row"], got["col"]) == (ours["index"], ours["row"], ours["col"])
    assert got["peaks"].tolist() == ours["peaks"] and got["values"].tolist() == ours["values"]
    assert (got["axis"], got["units"]) == (ours["axis"], ours["units"])
    with h5py.File(small_map, "r") as f:
        spectrum = np.abs(f[RAW][got["index"]])
    assert np.array_equal(got["peaks"], scipy_find(spectrum, np.linspace(20, 60, 30)))
    assert usid_peaks.pixel(small_map, index=got["index"])["peaks"].tolist() == ours["peaks"]
    with pytest.raises(ValueError, match="outside"):
        usid_peaks.pixel(small_map, 0, 20)
    with pytest.raises(ValueError, match="outside"):
        usid_peaks.pixel(small_map, index=480)


def test_find_reports_progress_to_a_callable(tmp_path):
    big = generate(tmp_path / "big.h5", 96, 96, 5)
    calls = []
    summary = usid_peaks.find(big, output=tmp_path / "out.h5", max_mem_mb=1, threads=1,
                              progress=lambda done, total: calls.append((done, total)))
    assert calls, "the callable was never called"
    assert {total for _, total in calls} == {96 * 96}
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == 96 * 96, done
    # A reused group computes nothing: nothing to report.
    calls.clear()
    assert usid_peaks.find(big, output=tmp_path / "out.h5", progress=calls.append)["reused"] is True
    assert calls == []


def test_an_exception_in_the_progress_callable_stops_find_and_the_next_call_resumes(tmp_path):
    # Long enough on one thread (≈ 1.5 s here) for reports before the end on a faster machine too.
    big = generate(tmp_path / "big.h5", 480, 480, 6)
    out = tmp_path / "out.h5"

    def stop_early(done, total):
        if done > 0:
            raise RuntimeError(f"stop at {done} of {total}")

    with pytest.raises(RuntimeError, match="stop at"):
        usid_peaks.find(big, output=out, max_mem_mb=1, threads=1, progress=stop_early)
    assert list(tmp_path.glob(".out.h5.*ckpt")), "no checkpoint left to resume from"
    summary = usid_peaks.find(big, output=out, progress=False)
    assert summary["resumed"] > 0 and summary["resumed"] + summary["computed"] == 480 * 480


NOTEBOOK = textwrap.dedent(
    """
    import sys, types, usid_peaks
    # What find() sees in a Jupyter kernel: ipykernel loaded and stderr not a terminal.
    sys.modules["ipykernel"] = types.ModuleType("ipykernel")
    sys.modules["tqdm"] = None  # as if tqdm were not installed: the self-updating line
    usid_peaks.find(sys.argv[1], output=sys.argv[2], max_mem_mb=1, threads=1)
    """
)


def test_in_a_notebook_find_shows_a_line_that_updates_itself(tmp_path):
    big = generate(tmp_path / "big.h5", 480, 480, 7)
    done = subprocess.run([sys.executable, "-c", NOTEBOOK, str(big), str(tmp_path / "out.h5")],
                          capture_output=True, timeout=120)
    stderr = done.stderr.decode()  # bytes: text mode would turn each \r into a line break
    assert done.returncode == 0, stderr
    updates = stderr.split("\r")[1:]
    assert len(updates) >= 2, stderr
    assert updates[-1].startswith("usid-peaks: 100% (230400/230400 spectra)") and stderr.endswith("\n"), stderr


NOTEBOOK_TQDM = textwrap.dedent(
    """
    import sys, types, usid_peaks

    class Bar:  # stands for tqdm.auto.tqdm: records what find() does with it
        def __init__(self, total, **kw):
            self.total, self.n, self.updates = total, 0, 0
        def update(self, k):
            self.n += k
            self.updates += 1
        def close(self):
            print(f"closed {self.n}/{self.total} after {self.updates} updates", file=sys.stderr)

    sys.modules["ipykernel"] = types.ModuleType("ipykernel")
    sys.modules["tqdm"] = types.ModuleType("tqdm")
    sys.modules["tqdm.auto"] = auto = types.ModuleType("tqdm.auto")
    auto.tqdm = Bar
    usid_peaks.find(sys.argv[1], output=sys.argv[2], max_mem_mb=1, threads=1)
    """
)


def test_in_a_notebook_with_tqdm_find_drives_a_tqdm_bar_to_the_end(tmp_path):
    big = generate(tmp_path / "big.h5", 320, 320, 8)
    done = subprocess.run([sys.executable, "-c", NOTEBOOK_TQDM, str(big), str(tmp_path / "out.h5")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "closed 102400/102400 after" in done.stderr, done.stderr


INTERRUPTED = textwrap.dedent(
    """
    import signal, sys, usid_peaks
    # As in a terminal or Jupyter, whatever SIGINT disposition the test runner inherited
    # (a shell's background job ignores it).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        usid_peaks.find(sys.argv[1], output=sys.argv[2], max_mem_mb=1, threads=1, progress=False)
    except KeyboardInterrupt as e:
        print("interrupted:", e, flush=True)
        sys.exit(42)
    print("finished", flush=True)
    """
)


def test_keyboard_interrupt_stops_find_and_the_next_call_resumes(tmp_path):
    big = generate(tmp_path / "big.h5", 160, 160, 9)
    out = tmp_path / "out.h5"
    child = subprocess.Popen([sys.executable, "-c", INTERRUPTED, str(big), str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # SIGINT once the first batches are checkpointed, as Ctrl-C in a terminal would send it.
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.h5.*ckpt")) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 42, f"{stdout}{stderr}"
    assert "run the same command again to resume" in stdout
    assert list(tmp_path.glob(".out.h5.*ckpt")), "no checkpoint left to resume from"

    summary = usid_peaks.find(big, output=out, progress=False)
    assert summary["resumed"] > 0 and summary["resumed"] + summary["computed"] == 160 * 160
    assert not list(tmp_path.glob(".out.h5.*ckpt"))
    cli("find", big, "-q", "-o", tmp_path / "cli.h5")
    assert_same_group(out, summary["group"], tmp_path / "cli.h5", summary["group"])


AFTER_FIND = textwrap.dedent(
    """
    import os, signal, sys, time, usid_peaks
    signal.signal(signal.SIGINT, signal.default_int_handler)
    usid_peaks.find(sys.argv[1], output=sys.argv[2], progress=False)
    caught = 0
    for _ in range(3):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            caught += 1
    print("caught", caught, flush=True)
    """
)


def test_python_keeps_its_own_sigint_handling_after_find(small_map, tmp_path):
    # find() leaves no signal handler of its own behind: each later Ctrl-C is one
    # KeyboardInterrupt raised by Python, never an exit of the process (a handler that ends the
    # process on a second signal would make the child exit with 130 here).
    child = subprocess.run([sys.executable, "-c", AFTER_FIND, str(small_map), str(tmp_path / "out.h5")],
                           capture_output=True, text=True, timeout=120)
    assert (child.returncode, child.stdout.strip()) == (0, "caught 3"), child.stderr


# A BEPS map: every pixel holds 119 Frequency x 16 DC_Offset values, Frequency fastest.
@pytest.fixture(scope="module")
def beps_map(tmp_path_factory):
    path = tmp_path_factory.mktemp("beps") / "beps.h5"
    cli("generate", path, "--beps", "--rows", 4, "--cols", 3, "--seed", 5)
    return path


# Along Frequency with the seed's widths; along DC_Offset (16 values) with widths that fit them.
ALONG = [("Frequency", [], {}, 16), ("DC_Offset", ["--width-list", "1,2,3"], {"widths": [1.0, 2.0, 3.0]}, 119)]


@pytest.mark.parametrize("along, cli_widths, kw, per_pixel", ALONG, ids=[a[0] for a in ALONG])
def test_find_along_a_dimension_writes_the_same_group_and_summary_as_the_command(
        beps_map, tmp_path, along, cli_widths, kw, per_pixel):
    summary = usid_peaks.find(beps_map, along=along, output=tmp_path / "py.h5", progress=False, **kw)
    ours = json.loads(cli("find", beps_map, "--along", along, *cli_widths, "-q", "--json", "-o", tmp_path / "cli.h5"))
    # The command's --json dict: the same fields, the same values but the output file and timings.
    assert summary.keys() == ours.keys()
    varying = {"file", "spectra_per_s"} | {k for k in ours if k.startswith("seconds_")}
    assert {k: v for k, v in summary.items() if k not in varying} == {k: v for k, v in ours.items() if k not in varying}
    assert (summary["along"], summary["spectra_per_pixel"], summary["computed"]) == (along, per_pixel, 12)
    assert_same_group(tmp_path / "py.h5", summary["group"], tmp_path / "cli.h5", ours["group"])


def test_find_along_a_dimension_the_dataset_lacks_names_those_it_has(beps_map):
    for call in (lambda: usid_peaks.find(beps_map, along="Time", progress=False),
                 lambda: usid_peaks.pixel(beps_map, 0, 0, along="Time")):
        with pytest.raises(ValueError, match=r"no spectroscopic dimension Time \(it has DC_Offset, Frequency\)"):
            call()


def test_pixel_of_a_beps_map_gives_every_spectrum_like_the_command_and_scipy(beps_map):
    widths = [1.0, 2.0, 3.0]
    got = usid_peaks.pixel(str(beps_map), 2, 1, along="DC_Offset", widths=widths)
    ours = json.loads(cli("pixel", beps_map, "--pixel", "2,1", "--along", "DC_Offset", "--width-list", "1,2,3",
                          "--json"))
    assert "peaks" not in got and len(got["spectra"]) == len(ours["spectra"]) == 119
    for key in ("file", "dataset", "index", "row", "col", "axis", "units"):
        assert got[key] == ours[key], key
    for g, o in zip(got["spectra"], ours["spectra"]):
        assert (g["label"], g["spectrum"], g["peaks"].tolist(), g["values"].tolist()) == \
            (o["label"], o["spectrum"], o["peaks"], o["values"])
    # scipy on the spectra cut from the pixel's row by the file's own Spectroscopic_Indices.
    with h5py.File(beps_map, "r") as f:
        row = np.abs(f[RAW][got["index"]])
        spec = f[f[RAW].attrs["Spectroscopic_Indices"]]
        labels = [x.decode() if isinstance(x, bytes) else str(x) for x in spec.attrs["labels"]]
        freq, dc = spec[labels.index("Frequency")], spec[labels.index("DC_Offset")]
    assert sum(len(s["peaks"]) for s in got["spectra"]) > 0
    for s in got["spectra"]:
        bins = np.flatnonzero(freq == s["spectrum"])
        spectrum = row[bins[np.argsort(dc[bins])]]
        assert np.array_equal(s["peaks"], scipy_find(spectrum, widths)), s["label"]
    # Along Frequency (the default), 16 spectra.
    assert len(usid_peaks.pixel(beps_map, 2, 1)["spectra"]) == 16


MID_RUN_FAILURE = textwrap.dedent(
    """
    import resource, signal, sys, usid_peaks
    # Files this process writes may not grow past 8 KiB: the checkpoint's first batch fits, a
    # later one does not, nor do the results streamed into the output file (the writes fail with
    # EFBIG once SIGXFSZ is ignored); whichever fails first ends the call.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
    try:
        usid_peaks.find(sys.argv[1], output=sys.argv[2], max_mem_mb=1, threads=1, progress=False)
    except usid_peaks.OutputError as e:
        print("OutputError:", e, flush=True)
    print("still running", flush=True)
    """
)


def test_a_failure_in_the_middle_of_find_is_an_exception_not_an_exit(tmp_path):
    big = generate(tmp_path / "big.h5", 60, 60, 4)
    out = tmp_path / "out.h5"
    child = subprocess.run([sys.executable, "-c", MID_RUN_FAILURE, str(big), str(out)],
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stdout + child.stderr
    failed = child.stdout.splitlines()[0] if child.stdout else ""
    assert failed.startswith("OutputError: ") and ("cannot write the checkpoint" in failed or out.name in failed), \
        child.stdout + child.stderr
    assert child.stdout.rstrip().endswith("still running")
    # It failed after the first batch was checkpointed: the next call resumes from there.
    summary = usid_peaks.find(big, output=out, progress=False)
    assert summary["resumed"] > 0 and summary["resumed"] + summary["computed"] == 60 * 60


# Groups written by release 0.1.0 (tests/fixtures/compat, made with the command): the keywords
# must give the reuse key that release wrote, byte for byte, or the groups are not reused.
COMPAT = REPO / "tests" / "fixtures" / "compat"
EVERY_PARAMETER = dict(widths=[3, 5.5, 9, 14], max_distances=[1, 1.5, 2, 3], gap_thresh=2.5, min_length=2,
                       min_snr=0.5, noise_perc=25, window_size=7, snr_from="ridge_max", component="phase")


@pytest.mark.parametrize("file, kw, n", [
    ("beline.h5", {}, "000"),
    ("beline.h5", EVERY_PARAMETER, "001"),
    ("beline.h5", dict(widths=np.linspace(4, 16, 7), component="real"), "002"),
    ("beps.h5", dict(along="DC_Offset", widths=[1, 2], min_length=1), "001"),
])
def test_keywords_reuse_the_groups_an_earlier_release_wrote(tmp_path, file, kw, n):
    copy = shutil.copy(COMPAT / file, tmp_path / file)
    summary = usid_peaks.find(copy, progress=False, **kw)
    assert (summary["reused"], summary["group"]) == (True, f"{RAW}-Peak_Finding_{n}")
