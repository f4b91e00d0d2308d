#!/usr/bin/env python3
"""usid-peaks' benchmarks: one driver, one output format.

    scripts/bench.py MODE [options] [--out DIR]

Every mode times one thing, takes the sides it compares in turns round by round (a shared
machine's speed drifts; ratios are taken within a round), checks that every side found the same
peaks (exit 1 if not), and prints the command, the machine, the commit and markdown tables on
stdout. --out DIR also writes each table as DIR/MODE-TABLE.csv and everything as DIR/MODE.json.

Modes:
  kernel      the CWT kernel on one thread, spectra in memory: scipy's find_peaks_cwt loop, this
              tree's transforms, an older commit's kernel (--before REV), at one or more lengths
  threads     `usid-peaks bench` (the engine's row mapper, data in memory) over thread counts,
              pool threads bound to CPUs or left to the OS (--bind auto,none)
  ranks       whole `usid-peaks find` runs over layouts RANKSxTHREADS (mpirun): wall, compute,
              gather, peak memory; start-up cost, an older binary, in place, a scaling plot
  read        a gzip-chunked map read and searched against the same map stored plain
  compare     head-to-head on one map: scipy's loop, pyUSID's parallel_compute, usid-peaks
  python      the Python package: its 2-D call against scipy's loop, its 1-D call against scipy's
  nsid        the same values stored as USID and as NSID: whole `find` of each, alternated
  sho         whole `usid-peaks sho` (the SHO fit) of a BEPS map over threads and mpirun ranks
  cost-model  docs/CLUSTER.md's cost model: the machine's constants, predicted against measured on
              the namespace test cluster (root)

`scripts/bench.py MODE --help` lists a mode's options. The modes that call scipy, pyUSID or the
Python package run in the reference environment (.venv, made by `scripts/bootstrap.sh --tests`);
the driver restarts itself there when it is started by another Python.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RAW = "/Measurement_000/Channel_000/Raw_Data"
GROUP = RAW + "-Peak_Finding_000"
SEED_WIDTHS = (20.0, 60.0, 30)


# ---- the shared part: context, tables, builds, child processes --------------------------------

def die(msg):
    sys.exit(f"bench: {msg}")


def say(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def cores():
    """The CPUs this process may run on (`nproc`)."""
    return len(os.sched_getaffinity(0))


def cpu_model():
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    return next((l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("Model name")), "?")


def load():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Report:
    """The run's tables: printed as they come, written at the end with the run's context."""

    def __init__(self, mode, out):
        self.mode, self.out, self.tables = mode, out, {}
        rev = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                             capture_output=True, text=True).stdout.strip()
        self.context = {
            "command": "scripts/bench.py " + " ".join(sys.argv[1:]),
            "machine": f"{cores()} cores (nproc), {cpu_model()}, {platform.system()} {platform.release()}",
            "commit": rev or "?",
            "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "load_start": load(),
        }
        for key in ("command", "machine", "commit"):
            print(f"{key}: {self.context[key]}")
        print(f"load average at the start: {self.context['load_start']}", flush=True)

    def table(self, name, title, rows, columns=None):
        """A markdown table of `rows` (dicts); `columns` picks and orders them (default: all)."""
        columns = columns or list(dict.fromkeys(k for row in rows for k in row))
        self.tables[name] = {"title": title, "columns": columns, "rows": rows}
        print(f"\n## {title}\n")
        print("| " + " | ".join(columns) + " |")
        print("| " + " | ".join("---" if _is_text(rows, c) else "--:" for c in columns) + " |")
        for row in rows:
            print("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
        sys.stdout.flush()

    def note(self, text):
        print(f"\n{text}", flush=True)
        self.context.setdefault("notes", []).append(text)

    def finish(self):
        self.context["load_end"] = load()
        print(f"\nload average at the end: {self.context['load_end']}")
        if not self.out:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        for name, t in self.tables.items():
            with open(self.out / f"{self.mode}-{name}.csv", "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=t["columns"], extrasaction="ignore")
                w.writeheader()
                w.writerows(t["rows"])
        doc = dict(self.context, mode=self.mode, tables=self.tables)
        (self.out / f"{self.mode}.json").write_text(json.dumps(doc, indent=1) + "\n")
        say(f"wrote {self.out}/{self.mode}.json and {len(self.tables)} CSV file(s)")


def _is_text(rows, col):
    return any(isinstance(r.get(col), (str, bool)) for r in rows)


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int) and abs(v) >= 1000:
        return f"{v:,}".replace(",", " ")
    if isinstance(v, float):
        if v == 0 or abs(v) >= 1000:
            return f"{v:,.0f}".replace(",", " ")
        return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def median(values):
    return statistics.median(values) if values else None


def reference_python(*modules):
    """Import `modules` in this Python, or restart the driver in the reference environment (the
    reference modes; the others run in any Python 3)."""
    try:
        for m in modules:
            __import__(m)
        return
    except ImportError as e:
        venv = REPO / ".venv"
        if Path(sys.prefix).resolve() != venv.resolve() and (venv / "bin/python").exists():
            os.execv(str(venv / "bin/python"), [str(venv / "bin/python"), __file__, *sys.argv[1:]])
        die(f"{e.name} does not import here: run scripts/bootstrap.sh --tests (the reference "
            "environment .venv)" + (" and scripts/test.sh's Python stage (the package)"
                                    if e.name == "usid_peaks" else ""))


def cargo_build(*what, cwd=REPO, env=None):
    """`cargo build --release` of `what` (e.g. "--bin", "usid-peaks"); the target folder."""
    subprocess.run(["cargo", "build", "--release", "--quiet", *what], cwd=cwd, env=env, check=True)
    target = Path((env or os.environ).get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "release"


def binary_path():
    """target/release/usid-peaks, built."""
    return str(cargo_build("--bin", "usid-peaks") / "usid-peaks")


def mpirun_line():
    """The mpirun command line for this OpenMPI, as the shell scripts make it (scripts/lib.sh)."""
    if not shutil.which(os.environ.get("MPIRUN", "mpirun")):
        die("mpirun not found: scripts/bootstrap.sh installs OpenMPI")
    out = subprocess.run(["bash", str(REPO / "scripts/lib.sh"), "mpirun"], capture_output=True,
                         text=True, check=True).stdout
    return out.split("\n")[:-1]


def need(tool, hint):
    if not shutil.which(tool):
        die(f"{tool} not found ({hint})")


def generate(binary, path, rows, cols, bins=119, seed=None, beps=False):
    """`usid-peaks generate`: a BELine map of rows x cols x bins, or BEPS (bins x 16 DC steps)."""
    cmd = [binary, "generate", str(path), "--rows", str(rows), "--cols", str(cols), "--bins", str(bins)]
    cmd += (["--seed", str(seed)] if seed is not None else []) + (["--beps"] if beps else [])
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def timed(cmd, env=None):
    """Run `cmd` to the end: wall and CPU seconds (user + system, the command and every process it
    waited for) and peak resident memory of its largest process (MiB), its stdout; exit 1 with its
    stderr when it fails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            die(f"{' '.join(map(str, cmd))} failed ({p.returncode}): {err.read().decode().strip()[-2000:]}")
        return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mib": ru.ru_maxrss / 1024,
                "stdout": out.read().decode()}


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


def same_results(a, b, group=GROUP, datasets=("Peak_Indices", "Peak_Count", "Peak_Frequencies")):
    """The results `datasets` of `group` equal in files a and b (h5diff)."""
    return all(subprocess.run(["h5diff", "-q", str(a), str(b), f"{group}/{d}", f"{group}/{d}"]).returncode == 0
               for d in datasets)


def spectra(n, length, seed=1):
    """Band-excitation-like spectra: |a damped harmonic oscillator response + complex noise|."""
    import numpy as np

    rng = np.random.default_rng(seed)
    f = np.arange(length, dtype=float)
    out = np.empty((n, length))
    for i in range(n):
        w0 = rng.uniform(0.2, 0.8) * length
        q = rng.uniform(5, 80)
        r = w0 ** 2 / np.sqrt((w0 ** 2 - f ** 2) ** 2 + (w0 * f / q) ** 2)
        noise = rng.normal(size=length) + 1j * rng.normal(size=length)
        out[i] = np.abs(r + 0.3 * noise)
    return out


def ints(text):
    return [int(v) for v in text.split(",") if v]


# ---- kernel ------------------------------------------------------------------------------------

def build_before(rev):
    """examples/cwt_throughput of commit `rev`, built in a temporary worktree into target/before-REV
    (kept: a second run builds nothing)."""
    target = REPO / "target" / f"before-{rev}"
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "-q", "--detach", str(tree), rev], check=True)
        try:
            cargo_build("--example", "cwt_throughput", cwd=tree,
                        env=dict(os.environ, CARGO_TARGET_DIR=str(target)))
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)])
    return str(target / "release" / "examples" / "cwt_throughput")


def throughput(exe, path, length, repeats, transform=None, peaks_out=None):
    """One run of a cwt_throughput binary: (spectra/s, spectra per CPU-second, peaks found, peak
    lists or None). An older binary takes neither a transform nor a peaks file."""
    cmd = [exe, path, str(length), str(repeats)]
    if transform:
        cmd += [transform] + ([peaks_out] if peaks_out else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    got = dict(line.split() for line in out.splitlines())
    lists = None
    if peaks_out:
        with open(peaks_out) as f:
            lists = [[int(c) for c in line.split()] for line in f]
    return float(got["spectra_per_s"]), float(got.get("spectra_per_cpu_s", "nan")), int(got["peaks"]), lists


def kernel(a, report):
    import numpy as np
    from scipy.signal import find_peaks_cwt

    exe = str(cargo_build("--example", "cwt_throughput") / "examples" / "cwt_throughput")
    before = build_before(a.before) if a.before else None
    transforms = [t for t in a.transforms.split(",") if t]
    first = transforms[0]
    widths = np.linspace(*SEED_WIDTHS)
    rows, failed = [], False
    for length in ints(a.lengths):
        n = a.spectra or min(2000, max(20, a.samples // length))
        data = spectra(n, length)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "spectra.f64")
            data.astype("<f8").tofile(path)
            reference = None
            for r in range(1, a.rounds + 1):
                here = []
                if not a.no_scipy:
                    t0, c0 = time.perf_counter(), time.process_time()
                    theirs = [[int(p) for p in find_peaks_cwt(x, widths)] for x in data]
                    # Per CPU-second as well: on a shared machine the wall clock counts other jobs.
                    here.append({"method": "scipy find_peaks_cwt", "rate": n / (time.perf_counter() - t0),
                                 "cpu": n / (time.process_time() - c0), "lists": theirs,
                                 "peaks": sum(map(len, theirs))})
                for t in transforms:
                    rate, cpu, peaks, lists = throughput(exe, path, length, a.repeats, t, os.path.join(tmp, "p"))
                    here.append({"method": t, "rate": rate, "cpu": cpu, "peaks": peaks, "lists": lists})
                if before:
                    rate, cpu, peaks, _ = throughput(before, path, length, a.repeats)
                    here.append({"method": a.before, "rate": rate, "cpu": cpu, "peaks": peaks, "lists": None})
                # Identical: every spectrum's peaks equal the first side's (scipy's, when it ran);
                # an older binary reports only its number of peaks.
                reference = reference or here[0]
                scipy = here[0] if not a.no_scipy else None
                for h in here:
                    same = (h["lists"] == reference["lists"]) if h["lists"] is not None else h["peaks"] == reference["peaks"]
                    failed |= not same
                    mine = next(x for x in here if x["method"] == first)
                    rows.append({"round": r, "bins": length, "spectra": n, "method": h["method"],
                                 "spectra/s": h["rate"], "per CPU-s": h["cpu"],
                                 "vs scipy": h["rate"] / scipy["rate"] if scipy else None,
                                 f"{first} / this": mine["rate"] / h["rate"],
                                 "peaks": h["peaks"], "identical": same})
    report.table("rounds", "One thread, spectra in memory, every round", rows)
    summary = []
    for length in ints(a.lengths):
        for method in dict.fromkeys(r["method"] for r in rows if r["bins"] == length):
            mine = [r for r in rows if r["bins"] == length and r["method"] == method]
            rates = [r["spectra/s"] for r in mine]
            firsts = [r["spectra/s"] for r in rows if r["bins"] == length and r["method"] == first]
            summary.append({"bins": length, "method": method, "best spectra/s": max(rates),
                            "median spectra/s": median(rates),
                            "vs scipy (median of rounds)": median([r["vs scipy"] for r in mine if r["vs scipy"]]),
                            f"{first} / this (median of rounds)": median([r[f"{first} / this"] for r in mine]),
                            f"{first} / this (best / best)": max(firsts) / max(rates),
                            "identical": all(r["identical"] for r in mine)})
    report.table("summary", f"Summary over {a.rounds} round(s)", summary)
    return 1 if failed else 0


# ---- threads -----------------------------------------------------------------------------------

def threads(a, report):
    binary = binary_path()
    n = cores()
    counts = ints(a.threads) if a.threads else [1, n]
    with tempfile.TemporaryDirectory() as tmp:
        path = a.map or generate(binary, Path(tmp) / "map.h5", a.rows, a.cols, a.bins)
        binds = a.bind.split(",")
        rows = []
        for r in range(1, a.rounds + 1):
            # Each setting first in every other round.
            for bind in (binds if r % 2 else binds[::-1]):
                out = (a.out or Path(tmp)) / f"threads-{bind}-{r}"
                timed([binary, "bench", str(path), "--threads", ",".join(map(str, counts)),
                       "--repeat", str(a.repeat), "--bind-threads", bind, "--out", str(out)])
                doc = json.loads((out / "bench.json").read_text())
                by = {row["workers"]: row for row in doc["rows"] if row["kind"] == "threads"}
                one = by[counts[0]]
                for c in counts:
                    row = by[c]
                    rows.append({"round": r, "bind": bind, "threads": c, "median ms": row["seconds"] * 1e3,
                                 "best ms": row["seconds_min"] * 1e3,
                                 "speed-up": one["seconds"] / row["seconds"],
                                 "best / best": one["seconds_min"] / row["seconds_min"],
                                 # Slow: a call no faster than 3/4 of the first count's median (threads
                                 # stacked on one CPU, or a CPU the machine did not give us).
                                 "slow runs": None if c == counts[0] else
                                 f"{sum(t > 0.75 * one['seconds'] for t in row['times'])} of {len(row['times'])}",
                                 "bound": bool(row.get("bound")), "identical": doc["identical"]})
    spectra_line = f"{doc['spectra']} spectra x {doc['bins']} bins"
    report.table("rounds", f"usid-peaks bench, {spectra_line}, --repeat {a.repeat}, every round", rows)
    summary = []
    for bind in binds:
        for c in counts[1:]:
            mine = [r for r in rows if r["bind"] == bind and r["threads"] == c]
            ups = [r["speed-up"] for r in mine]
            summary.append({"bind": bind, "threads": f"{counts[0]} -> {c}",
                            "speed-up (median of rounds)": median(ups),
                            "rounds": ", ".join(f"{x:.2f}" for x in ups),
                            "best / best (median of rounds)": median([r["best / best"] for r in mine])})
    report.table("summary", f"Summary over {a.rounds} round(s)", summary)
    return 0 if all(r["identical"] for r in rows) else 1


# ---- ranks -------------------------------------------------------------------------------------

def layouts(text):
    out = []
    for item in text.split(","):
        r, _, t = item.partition("x")
        if not (r.isdigit() and t.isdigit() and int(r) > 0 and int(t) > 0):
            raise argparse.ArgumentTypeError(f"{item}: a layout is RANKSxTHREADS, e.g. 2x1")
        out.append((item, int(r), int(t)))
    return out


def ranks(a, report):
    binary = binary_path()
    need("h5diff", "apt-get install hdf5-tools")
    binaries = [("now", binary)] + ([("before", a.before)] if a.before else [])
    tmp = Path(tempfile.mkdtemp(prefix="bench-ranks."))
    try:
        maps = [(Path(m).name, Path(m)) for m in a.map] or [
            (f"{a.rows} x {a.cols}", generate(binary, tmp / "map.h5", a.rows, a.cols))]
        if a.beps:
            # As many spectra as the BELine map: a quarter of the rows and columns, 16 DC steps.
            beps = generate(binary, tmp / "beps.h5", a.rows // 4, a.cols // 4, beps=True)
            maps.append((f"BEPS {a.rows // 4} x {a.cols // 4} x 16", beps))
        tiny = generate(binary, tmp / "tiny.h5", 4, 4) if a.start_up else None
        rows, firsts = [], {}
        for r in range(1, a.rounds + 1):
            for label, exe in binaries:
                for name, path in maps:
                    for layout, nr, nt in a.layouts:
                        t = find_run(a, exe, path, tmp / "out.h5", nr, nt)
                        start = find_run(a, exe, tiny, tmp / "start.h5", nr, nt)["wall"] if tiny else None
                        # Every run's results against the first run's on the same map.
                        first = firsts.setdefault(name, tmp / f"first-{len(firsts)}.h5")
                        if not first.exists():
                            shutil.copyfile(t["file"], first)
                        rows.append({"round": r, "binary": label, "map": name, "layout": layout,
                                     "wall s": t["wall"], "start-up s": start,
                                     "compute s": t["seconds_compute"], "gather s": t["seconds_gather"],
                                     "read s": t["seconds_read"], "spectra/s": t["spectra_per_s"],
                                     "CPU s": t["cpu"], "peak RSS MiB": t["rss_mib"], "ranks": t["ranks"],
                                     "threads": t["threads"],
                                     "identical": same_results(first, t["file"], t["group"])})
        report.table("runs", f"Whole `find` ({'in place' if a.in_place else '--output'}), every run", rows)
        summary = ranks_summary(a, rows)
        report.table("summary", f"Summary over {a.rounds} round(s); ratios against the first line", summary)
        if a.plot:
            plot_scaling(a, report, binary, maps[0][1], rows)
        return 0 if all(x["identical"] for x in rows) else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def find_run(a, exe, source, target, ranks_, threads_):
    """One timed `find` of `source` into `target` (or, --in-place, into `target` as a copy of
    `source`) on RANKS x THREADS; the timings and the --json summary."""
    target.unlink(missing_ok=True)
    if a.in_place:
        shutil.copyfile(source, target)
        cmd = [exe, "find", str(target)]
    else:
        cmd = [exe, "find", str(source), "--output", str(target)]
    cmd += ["--threads", str(threads_), "--json", "--quiet", *a.find_options]
    if a.mpirun or ranks_ > 1:
        cmd = mpirun_line() + ["-np", str(ranks_)] + cmd
    t = timed(cmd)
    t.update(last_json(t["stdout"]), file=target)
    return t


def ranks_summary(a, rows):
    """Per binary, map and layout: best and median times, and ratios against the first of them."""
    summary, base = [], None
    for key in dict.fromkeys((x["binary"], x["map"], x["layout"]) for x in rows):
        mine = [x for x in rows if (x["binary"], x["map"], x["layout"]) == key]
        s = dict(zip(("binary", "map", "layout"), key))
        s.update({"best wall s": min(x["wall s"] for x in mine),
                  "median wall s": median([x["wall s"] for x in mine]),
                  "compute s (median)": median([x["compute s"] for x in mine]),
                  "gather s (median)": median([x["gather s"] for x in mine]),
                  "spectra/s (median)": median([x["spectra/s"] for x in mine]),
                  "peak RSS MiB": max(x["peak RSS MiB"] for x in mine)})
        if a.start_up:
            s["start-up s (best)"] = min(x["start-up s"] for x in mine)
        base = base or s
        s["wall / first (best)"] = s["best wall s"] / base["best wall s"]
        s["compute speed-up vs first"] = base["compute s (median)"] / s["compute s (median)"]
        s["spectra/s / first"] = s["spectra/s (median)"] / base["spectra/s (median)"]
        if a.start_up:
            s["after start-up / first"] = ((s["best wall s"] - s["start-up s (best)"])
                                           / (base["best wall s"] - base["start-up s (best)"]))
        summary.append(s)
    return summary


def plot_scaling(a, report, binary, source, rows):
    """The ranks of 1-thread layouts beside `usid-peaks bench` over as many threads: one scaling
    plot (OUT/scaling.png) and table."""
    if not a.out:
        die("--plot writes OUT/scaling.png: give --out DIR")
    one_thread = [x for x in rows if x["binary"] == "now" and x["threads"] == 1 and x["map"] == rows[0]["map"]]
    counts = sorted({x["ranks"] for x in one_thread})
    a.out.mkdir(parents=True, exist_ok=True)
    with open(a.out / "ranks.csv", "w") as f:
        f.write("ranks,seconds,spectra_per_s,identical\n")
        for c in counts:
            mine = [x for x in one_thread if x["ranks"] == c]
            same = str(all(x["identical"] for x in mine)).lower()
            f.write(f"{c},{median([x['compute s'] for x in mine])},{median([x['spectra/s'] for x in mine])},{same}\n")
    t = timed([binary, "bench", str(source), "--threads", ",".join(map(str, counts)), "--repeat", "3",
               "--ranks-csv", str(a.out / "ranks.csv"), "--out", str(a.out)])
    report.note("usid-peaks bench beside the ranks (compute phase of find; threads: data in memory):\n"
                + t["stdout"].strip())


# ---- read --------------------------------------------------------------------------------------

def markdown_rows(text):
    """The rows of the markdown tables in `text`, as dicts."""
    rows, head = [], None
    for line in text.splitlines():
        if not line.startswith("|"):
            head = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if head is None:
            head = cells
        elif not all(set(c) <= set("-:") for c in cells):
            rows.append(dict(zip(head, (_number(c) for c in cells))))
    return rows


def _number(text):
    try:
        return float(text) if any(ch in text for ch in ".e") else int(text)
    except ValueError:
        return text


def read(a, report):
    binary = binary_path()
    bench = str(cargo_build("--example", "read_bench") / "examples" / "read_bench")
    need("h5repack", "apt-get install hdf5-tools")
    need("h5diff", "apt-get install hdf5-tools")
    counts = ints(a.threads)
    with tempfile.TemporaryDirectory() as tmp:
        plain = generate(binary, Path(tmp) / "plain.h5", a.rows, a.cols)
        gz = Path(tmp) / "gzip.h5"
        # pyUSID's compression='gzip' layout: chunks of 1024 rows x all bins, shuffle, deflate 4.
        subprocess.run(["h5repack", "-l", f"{RAW}:CHUNK=1024x119", "-f", f"{RAW}:SHUF", "-f", f"{RAW}:GZIP=4",
                        str(plain), str(gz)], check=True)
        report.note(f"plain.h5 {plain.stat().st_size / 1e6:.0f} MB, gzip.h5 {gz.stat().st_size / 1e6:.0f} MB "
                    "(chunks 1024 x 119, shuffle, deflate 4)")
        threads_ = ",".join(map(str, counts))
        ours = timed([bench, str(plain), str(gz), "--threads", threads_, "--repeat", str(a.repeat)])["stdout"]
        lib = timed([bench, str(gz), "--threads", threads_, "--repeat", str(a.repeat), "--library"])["stdout"]
        report.table("read", f"Read only, {a.rows} x {a.cols} spectra, file to memory, nothing computed",
                     markdown_rows(ours) + markdown_rows(lib))
        rows = []
        for r in range(1, a.rounds + 1):
            # Alternated, so that a machine whose load drifts treats both alike.
            for name, path in (("plain", plain), ("gzip", gz)):
                t = timed([binary, "find", str(path), "--threads", str(max(counts)), "--quiet",
                           "--output", str(Path(tmp) / f"out-{name}.h5")])
                rows.append({"round": r, "map": name, "wall s": t["wall"], "CPU s": t["cpu"]})
        same = same_results(Path(tmp) / "out-plain.h5", Path(tmp) / "out-gzip.h5")
        report.table("find", f"Whole find at {max(counts)} threads, the two maps alternated", rows)
        summary = [{"map": m, "mean wall s": statistics.mean(x["wall s"] for x in rows if x["map"] == m),
                    "mean CPU s": statistics.mean(x["CPU s"] for x in rows if x["map"] == m),
                    "identical": same} for m in ("plain", "gzip")]
        report.table("summary", "Whole find, mean of the rounds", summary)
        return 0 if same else 1


# ---- compare -----------------------------------------------------------------------------------

def seed_peaks(row, widths):
    """The seed's per-pixel function (top level, so joblib's processes can pickle it)."""
    import numpy as np
    from scipy.signal import find_peaks_cwt

    return find_peaks_cwt(np.abs(row), widths)


def compare(a, report):
    import contextlib
    import warnings

    import h5py
    import numpy as np
    sys.path.insert(0, str(REPO / "tests" / "reference"))
    import pyusid_numpy2  # noqa: F401  (before pyUSID)
    from pyUSID.io.hdf_utils import get_all_main
    from pyUSID.processing.comp_utils import parallel_compute

    warnings.simplefilter("ignore")
    binary = binary_path()
    n_cores = cores()
    widths = np.linspace(*SEED_WIDTHS)
    tmp = Path(tempfile.mkdtemp(prefix="bench-compare."))
    try:
        path = a.map or generate(binary, tmp / "map.h5", 128, 128)
        with h5py.File(path, "r") as f:
            mains = get_all_main(f)
            if len(mains) != 1:
                die(f"{path} has {len(mains)} main datasets; compare wants exactly one")
            data = mains[0][()]
        n = data.shape[0]
        pixels = (np.unique(np.linspace(0, n - 1, a.scipy_pixels).round().astype(int))
                  if a.scipy_pixels and a.scipy_pixels < n else np.arange(n))
        scale, approx = n / len(pixels), len(pixels) < n

        def differing(lists):
            return sum(not np.array_equal(np.asarray(lists[i]), reference[i]) for i in pixels)

        t0 = time.perf_counter()
        reference = dict(zip(pixels.tolist(), (seed_peaks(data[i], widths) for i in pixels)))
        scipy_s = (time.perf_counter() - t0) * scale
        sub = np.ascontiguousarray(data[pixels])
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):  # pyUSID prints its progress on stdout
            theirs = parallel_compute(sub, seed_peaks, cores=n_cores, func_args=[widths])
        pyusid_s = (time.perf_counter() - t0) * scale
        rows = [("scipy loop (seed, 1 core)", scipy_s, None, 0),
                (f"pyUSID parallel_compute ({n_cores} cores)", pyusid_s, None,
                 differing(dict(zip(pixels.tolist(), theirs))))]
        runs = [("usid-peaks find, 1 thread", [binary, "find", str(path), "--threads", "1"]),
                (f"usid-peaks find, {n_cores} threads", [binary, "find", str(path)]),
                (f"usid-peaks find, mpirun -np {a.ranks} x 1 thread",
                 mpirun_line() + ["-np", str(a.ranks), binary, "find", str(path), "--threads", "1"])]
        for k, (label, cmd) in enumerate(runs):
            out = tmp / f"r{k}.h5"
            t = timed(cmd + ["--json", "--quiet", "--force", "--output", str(out)])
            summary = last_json(t["stdout"])
            with h5py.File(out, "r") as f:
                idx = f[summary["group"]]["Peak_Indices"][()]
            rows.append((label, t["wall"], summary["seconds_compute"], differing([r[r >= 0] for r in idx])))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report.note(f"data: {n} spectra x {data.shape[1]} bins ({data.dtype}); find_peaks_cwt(np.abs(row), "
                f"np.linspace(20, 60, 30)); scipy and pyUSID on {len(pixels)} pixels")
    # Extrapolated: scipy and pyUSID timed on --scipy-pixels pixels only.
    table = [{"method": label, "seconds": s, "spectra/s": n / s, "vs scipy loop": scipy_s / s,
              "extrapolated": bool(approx) and c is None, "usid-peaks compute s": c,
              "pixels differing from scipy": d, "pixels compared": len(pixels)}
             for label, s, c, d in rows]
    report.table("methods", "Head-to-head, whole command for usid-peaks (start to exit)", table)
    return 1 if any(d for *_, d in rows) else 0


# ---- python ------------------------------------------------------------------------------------

def python(a, report):
    import h5py
    import numpy as np
    from scipy.signal import find_peaks_cwt as scipy_find

    import usid_peaks

    widths = np.linspace(*SEED_WIDTHS)
    with tempfile.TemporaryDirectory() as tmp:
        path = a.map or generate(binary_path(), Path(tmp) / "seed.h5", 128, 128)
        with h5py.File(path, "r") as f:
            raw = np.abs(f[RAW][:])
    n, bins = raw.shape
    report.note(f"map: {n} x {bins} ({raw.dtype}), widths np.linspace(20, 60, 30), threads "
                f"{a.threads or cores()}, Python {platform.python_version()}")
    times = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        ours = usid_peaks.find_peaks_cwt(raw, widths, threads=a.threads)
        times.append(time.perf_counter() - t0)
    rows_ = min(a.scipy_rows or n, n)
    t0 = time.perf_counter()
    ref = [scipy_find(raw[i], widths) for i in range(rows_)]
    t_scipy = (time.perf_counter() - t0) * n / rows_
    same = sum(np.array_equal(ours[i], ref[i]) for i in range(rows_))
    sample = raw[np.linspace(0, n - 1, 500).astype(int)]

    def per_call(find):
        best = float("inf")
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            for row in sample:
                find(row, widths)
            best = min(best, (time.perf_counter() - t0) / len(sample))
        return best

    t_one, t_ref = per_call(usid_peaks.find_peaks_cwt), per_call(scipy_find)
    scaled = "" if rows_ == n else f" (timed on {rows_} spectra, scaled to {n})"
    rows = [{"call": f"2-D call, {n} x {bins} (median of {a.repeat})", "seconds": median(times),
             "scipy seconds": t_scipy, "speed-up": t_scipy / median(times),
             "same peaks": f"{same} of {rows_}{scaled}"},
            {"call": f"1-D call, {bins} points (best of {a.repeat}, per spectrum)", "seconds": t_one,
             "scipy seconds": t_ref, "speed-up": t_ref / t_one, "same peaks": ""}]
    report.table("calls", "usid_peaks.find_peaks_cwt against scipy.signal.find_peaks_cwt", rows)
    return 0 if same == rows_ else 1


# ---- cost-model --------------------------------------------------------------------------------

def bytes_per_s(rate):
    """A tc rate (1gbit, 100mbit, 500kbit) in bytes per second."""
    value, unit = rate.removesuffix("bit"), 1
    if value[-1:] in ("g", "m", "k"):
        value, unit = value[:-1], {"g": 1e9, "m": 1e6, "k": 1e3}[value[-1]]
    return float(value) * unit / 8


def cost_model(a, report):
    """docs/CLUSTER.md's model: t = t_start + max(N / (k r e(k)), N w) + N B (H-1)/H / bandwidth
    + t_tail, the write (w per spectrum, rank 0's writer thread) overlapped with the computation."""
    src = binary_path()
    n_cores = cores()
    tmp = Path(tempfile.mkdtemp(prefix="cost-model."))
    made = False
    try:
        binary = str(tmp / "usid-peaks")
        shutil.copy(src, binary)  # a rebuild meanwhile changes nothing
        big = generate(binary, tmp / "map.h5", a.rows, a.cols, seed=3)
        tiny = generate(binary, tmp / "tiny.h5", 8, 8, seed=3)
        n = a.rows * a.cols
        plain = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}

        def best_of(file, threads_, launch, env=None):
            """The fastest of --repeat runs (the least disturbed): (wall, its --json)."""
            best = None
            for _ in range(a.repeat):
                (tmp / "out.h5").unlink(missing_ok=True)
                t = timed(launch + [binary, "find", str(file), "--threads", str(threads_), "--output",
                                    str(tmp / "out.h5"), "--json", "-q"], env=env)
                if best is None or t["wall"] < best[0]:
                    best = (t["wall"], last_json(t["stdout"]))
            return best

        def constants():
            _, j1 = best_of(big, 1, [], plain)
            r = j1["computed"] / j1["seconds_compute"]
            _, jc = best_of(big, n_cores, [], plain)
            e = (jc["computed"] / jc["seconds_compute"]) / (n_cores * r) if n_cores > 1 else 1.0
            return {"r": r, "e": e, "w": j1["seconds_writer"] / n, "tail": j1["seconds_write"],
                    "s1": j1["seconds_total"] - j1["seconds_compute"] - j1["seconds_write"],
                    "B": (4 * n + 4 * j1["peaks"]) / n}

        c = constants()
        report.table("constants", f"Constants on a {a.rows} x {a.cols} map, best of {a.repeat}, {n_cores} cores", [
            {"constant": "r (spectra/s, 1 thread)", "value": c["r"]},
            {"constant": f"e({n_cores})", "value": c["e"]},
            {"constant": "w (s per 10^6 spectra, overlapped)", "value": c["w"] * 1e6},
            {"constant": "t_tail (s)", "value": c["tail"]},
            {"constant": "s1 (s)", "value": c["s1"]},
            {"constant": "B (bytes/spectrum)", "value": c["B"]}])
        if a.constants:
            return 0
        if os.geteuid() != 0:
            die("the cluster part needs root (or run with --constants)")

        def cluster(*args):
            subprocess.run(["bash", str(REPO / "scripts/cluster.sh"), *args], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def eff(k, e):  # efficiency of k busy cores, linear between e(1) = 1 and e(C)
            return 1.0 if n_cores <= 1 or k <= 1 else 1 - (1 - e) * (k - 1) / (n_cores - 1)

        rate = bytes_per_s(a.rate)
        rows = []
        for hosts in ints(a.hosts):
            made = True
            cluster("up", str(hosts))
            for link in ("as-is", "shaped"):
                bandwidth = None
                if link == "shaped":
                    cluster("shape", *(["--delay", a.delay] if a.delay else []), "--rate", a.rate)
                    bandwidth = rate
                for per_host, threads_ in ((1, 1), (1, n_cores), (n_cores, 1)):
                    np_ = hosts * per_host
                    # Measured again beside each run: a shared machine's load drifts.
                    c = constants()
                    launch = ["bash", str(REPO / "scripts/cluster.sh"), "mpirun", "-np", str(np_), "--"]
                    start, _ = best_of(tiny, threads_, launch)
                    measured, _ = best_of(big, threads_, launch)
                    # The test cluster's hosts share this machine's cores.
                    k = min(np_ * threads_, n_cores)
                    gather = n * c["B"] * (hosts - 1) / hosts / bandwidth if bandwidth else 0
                    compute = n / (k * c["r"] * eff(k, c["e"]))
                    predicted = start + max(compute, n * c["w"]) + gather + c["tail"]
                    rows.append({"hosts x ranks x threads": f"{hosts} x {per_host} x {threads_}",
                                 "link": "veth" if link == "as-is" else f"{a.delay + ' ms, ' if a.delay else ''}{a.rate}",
                                 "r beside it": c["r"], "e beside it": c["e"], "t_start s": start,
                                 "predicted s": predicted, "measured s": measured,
                                 "error %": (predicted - measured) / measured * 100})
                if link == "shaped":
                    cluster("shape", "off")
            cluster("down")
            made = False
        report.table("model", "Predicted against measured on the namespace test cluster", rows)
        return 0
    finally:
        if made:
            subprocess.run(["bash", str(REPO / "scripts/cluster.sh"), "down"], stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


# ---- nsid, sho: the same engine over an NSID source and under the SHO fit ---------------------

def launched(cmd, ranks_):
    """`cmd` as is for one rank, under mpirun for more."""
    return mpirun_line() + ["-np", str(ranks_)] + cmd if ranks_ > 1 else cmd


def nsid(a, report):
    """The same complex64 values as a USID map and as an NSID (y, x, Frequency) dataset (written by
    examples/nsid_read_bench), both contiguous: whole `find` of each, alternated, per layout."""
    import h5py
    import numpy as np

    binary = binary_path()
    writer = str(cargo_build("--example", "nsid_read_bench") / "examples" / "nsid_read_bench")
    with tempfile.TemporaryDirectory() as tmp:
        usid = generate(binary, Path(tmp) / "map.h5", a.rows, a.cols, seed=5)
        subprocess.run([writer, str(usid), "--repeat", "1"], check=True, stdout=subprocess.DEVNULL)
        maps = {"USID": usid, "NSID": Path(tmp) / "map-nsid.h5"}
        rows, peaks = [], {}
        for _, ranks_, threads_ in a.layouts:
            for r in range(0, a.rounds + 1):  # round 0: a warm-up of each, not reported
                for kind, source in maps.items():
                    out = Path(tmp) / f"out-{kind}.h5"
                    out.unlink(missing_ok=True)
                    t = timed(launched([binary, "find", str(source), "-q", "--json", "--threads", str(threads_),
                                        "--output", str(out)], ranks_))
                    if r:
                        rows.append({"layout": f"{ranks_}x{threads_}", "round": r, "map": kind,
                                     "wall s": t["wall"], "peak RSS MiB": t["rss_mib"]})
                    with h5py.File(out, "r") as f:
                        group = last_json(t["stdout"])["group"]
                        d = f[group]["Peak_Indices"]
                        peaks[kind] = np.asarray(d["Peak_Indices"] if isinstance(d, h5py.Group) else d).reshape(-1)
                same = np.array_equal(peaks["USID"], peaks["NSID"])
                if not same:
                    die(f"NSID and USID peaks differ ({ranks_}x{threads_})")
        report.table("runs", f"Whole find, {a.rows} x {a.cols} x 119 complex64, USID and NSID alternated", rows)
        summary = []
        for layout in dict.fromkeys(r["layout"] for r in rows):
            wall = {k: [r["wall s"] for r in rows if r["layout"] == layout and r["map"] == k] for k in maps}
            ratios = [n / u for u, n in zip(wall["USID"], wall["NSID"])]
            summary.append({"layout": layout, "USID s": median(wall["USID"]), "NSID s": median(wall["NSID"]),
                            "NSID / USID": median(ratios), "identical": True})
        report.table("summary", "Medians of the rounds; the ratio is the median of each round's", summary)
        return 0


def sho(a, report):
    """Whole `usid-peaks sho` of a generated BEPS map (--rows x --cols x (119 x 16)) over thread
    counts and mpirun -np --ranks, alternated round by round: spectra per second."""
    binary = binary_path()
    group = RAW + "-SHO_Fit_000"
    with tempfile.TemporaryDirectory() as tmp:
        beps = generate(binary, Path(tmp) / "beps.h5", a.rows, a.cols, beps=True, seed=5)
        sides = [(1, t) for t in ints(a.threads or f"1,{cores()}")] + ([(a.ranks, 1)] if a.ranks > 1 else [])
        rows, first = [], None
        for r in range(1, a.rounds + 1):
            for ranks_, threads_ in sides:
                out = Path(tmp) / f"sho-{ranks_}x{threads_}.h5"
                out.unlink(missing_ok=True)
                t = timed(launched([binary, "sho", str(beps), "-q", "--json", "--threads", str(threads_),
                                    "--output", str(out)], ranks_))
                got = last_json(t["stdout"])
                spectra_ = got["pixels"] * got["spectra_per_pixel"]
                rows.append({"round": r, "layout": f"{ranks_}x{threads_}", "spectra": spectra_,
                             "wall s": t["wall"], "spectra/s": got.get("spectra_per_s"),
                             "peak RSS MiB": t["rss_mib"]})
                first = first or out
                if not same_results(first, out, group, ("Guess", "Fit")):
                    die(f"{ranks_}x{threads_} wrote other SHO records than {first.name}")
        report.table("runs", f"Whole sho, BEPS {a.rows} x {a.cols} x (119 x 16), sides alternated", rows)
        summary = [{"layout": l, "spectra/s": median([x["spectra/s"] for x in rows if x["layout"] == l]),
                    "wall s": median([x["wall s"] for x in rows if x["layout"] == l]), "identical": True}
                   for l in dict.fromkeys(x["layout"] for x in rows)]
        report.table("summary", "Medians of the rounds", summary)
        return 0


# ---- the command line --------------------------------------------------------------------------

def parser():
    p = argparse.ArgumentParser(prog="scripts/bench.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True, metavar="MODE")

    def mode(name, fn, help_, needs=()):
        m = sub.add_parser(name, help=help_, description=help_)
        m.set_defaults(fn=fn, needs=needs)
        m.add_argument("--out", type=Path, help="write DIR/MODE.json and one CSV per table there")
        return m

    k = mode("kernel", kernel, "the CWT kernel on one thread against scipy's loop, transforms, "
                               "lengths, an older commit", ("numpy", "scipy"))
    k.add_argument("--lengths", default="119", help="spectrum lengths, comma-separated [119]")
    k.add_argument("--spectra", type=int, help="spectra per length (default: from --samples)")
    k.add_argument("--samples", type=int, default=250000,
                   help="samples per length: spectra = samples / length, 20 to 2000 [250000]")
    k.add_argument("--rounds", type=int, default=3, help="rounds of every side, alternated [3]")
    k.add_argument("--repeats", type=int, default=5, help="passes per run of our kernel; the best counts [5]")
    k.add_argument("--transforms", default="auto",
                   help="this tree's transforms (cwt_throughput: auto, matrices, full-bank, gemm, fft, "
                        "direct); ratios are taken against the first [auto]")
    k.add_argument("--before", metavar="REV", help="also the kernel of commit REV (its own worktree and target)")
    k.add_argument("--no-scipy", action="store_true", help="leave scipy's loop out")

    t = mode("threads", threads, "usid-peaks bench over thread counts, bound or not")
    t.add_argument("--map", help="a USID file [default: a generated map, --rows x --cols x --bins]")
    t.add_argument("--rows", type=int, default=128)
    t.add_argument("--cols", type=int, default=128)
    t.add_argument("--bins", type=int, default=119)
    t.add_argument("--threads", help="thread counts, the first the base [1,nproc]")
    t.add_argument("--repeat", type=int, default=9, help="bench's --repeat: timed calls per count [9]")
    t.add_argument("--rounds", type=int, default=1, help="[1]")
    t.add_argument("--bind", default="auto", help="bench's --bind-threads settings, alternated: auto,none [auto]")

    r = mode("ranks", ranks, "whole find runs over layouts RANKSxTHREADS")
    r.add_argument("--map", action="append", default=[],
                   help="a USID file with one main dataset, repeatable [default: a generated map]")
    r.add_argument("--rows", type=int, default=512)
    r.add_argument("--cols", type=int, default=512)
    r.add_argument("--beps", action="store_true",
                   help="also a generated BEPS map with as many spectra: rows/4 x cols/4 x (119 x 16)")
    r.add_argument("--layouts", type=layouts, default=layouts("1x2,2x1"),
                   help="RANKSxTHREADS, comma-separated; more than one rank runs under mpirun [1x2,2x1]")
    r.add_argument("--mpirun", action="store_true", help="launch one-rank layouts with mpirun too")
    r.add_argument("--rounds", type=int, default=3, help="[3]")
    r.add_argument("--start-up", action="store_true",
                   help="also time each layout on a 4 x 4 map: its fixed cost, subtracted for a second ratio")
    r.add_argument("--before", metavar="BIN", help="also an older usid-peaks binary, same layouts, each round")
    r.add_argument("--in-place", action="store_true", help="find writes into (a copy of) the map, not --output")
    r.add_argument("--plot", action="store_true",
                   help="then usid-peaks bench over as many threads beside the 1-thread layouts: OUT/scaling.png")
    r.add_argument("find_options", nargs="*", metavar="-- FIND_OPTION",
                   help="more options of every find, after --, e.g. -- --max-mem 512")

    d = mode("read", read, "a gzip-chunked map against the same map stored plain")
    d.add_argument("--rows", type=int, default=512)
    d.add_argument("--cols", type=int, default=512)
    d.add_argument("--threads", default="1,2", help="read_bench's thread counts; find runs with the most [1,2]")
    d.add_argument("--repeat", type=int, default=5, help="read_bench's timed passes [5]")
    d.add_argument("--rounds", type=int, default=3, help="whole finds of each map, alternated [3]")

    c = mode("compare", compare, "scipy's loop, pyUSID's parallel_compute and usid-peaks on one map",
             ("numpy", "scipy", "h5py", "pyUSID"))
    c.add_argument("--map", help="a USID file with one main dataset [default: the 128 x 128 x 119 map]")
    c.add_argument("--scipy-pixels", type=int, default=0,
                   help="time scipy and pyUSID on N evenly spread pixels and extrapolate (quick runs)")
    c.add_argument("--ranks", type=int, default=2, help="ranks of the mpirun row [2]")

    y = mode("python", python, "the Python package's 2-D and 1-D calls against scipy",
             ("numpy", "scipy", "h5py", "usid_peaks"))
    y.add_argument("--map", help="a USID file [default: the 128 x 128 x 119 map]")
    y.add_argument("--threads", type=int, default=None)
    y.add_argument("--scipy-rows", type=int, default=None, help="time scipy's loop on N spectra, scaled")
    y.add_argument("--repeat", type=int, default=5, help="[5]")

    n = mode("nsid", nsid, "the same values as USID and as NSID: whole find of each, alternated", ("h5py",))
    n.add_argument("--rows", type=int, default=512)
    n.add_argument("--cols", type=int, default=512)
    n.add_argument("--layouts", type=layouts, default=layouts("1x2,2x1"),
                   help="RANKSxTHREADS, comma-separated; more than one rank runs under mpirun [1x2,2x1]")
    n.add_argument("--rounds", type=int, default=5, help="after one warm-up of each [5]")

    h = mode("sho", sho, "whole usid-peaks sho of a BEPS map over threads and ranks")
    h.add_argument("--rows", type=int, default=128)
    h.add_argument("--cols", type=int, default=128)
    h.add_argument("--threads", help="thread counts of one process [1,nproc]")
    h.add_argument("--ranks", type=int, default=2, help="also mpirun -np N x 1 thread; 1: none [2]")
    h.add_argument("--rounds", type=int, default=3, help="[3]")

    m = mode("cost-model", cost_model, "docs/CLUSTER.md's cost model: constants, then predicted vs measured")
    m.add_argument("--constants", action="store_true", help="the machine's constants only (one process)")
    m.add_argument("--rows", type=int, default=512)
    m.add_argument("--cols", type=int, default=512)
    m.add_argument("--repeat", type=int, default=3, help="runs of each, the fastest counts [3]")
    m.add_argument("--hosts", default="2,3", help="test cluster sizes [2,3]")
    m.add_argument("--rate", default="1gbit", help="the shaped link's rate (tc) [1gbit]")
    m.add_argument("--delay", default=None, help="the shaped link's delay in ms (netem)")
    return p


def main():
    a = parser().parse_args()
    reference_python(*a.needs)
    report = Report(a.mode, a.out)
    rc = a.fn(a, report)
    report.finish()
    return rc


if __name__ == "__main__":
    sys.exit(main())
