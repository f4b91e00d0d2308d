#!/usr/bin/env bash
# This tree's CWT kernel against an older commit's, on the same spectra, one thread: the
# whole kernel (transform and ridge stage) as examples/cwt_throughput times it, both binaries
# alternated round by round (so drifting load hits both alike), best and median rate of each.
# REV's example is built in a temporary worktree with its own target folder under target/
# (kept, so a rerun builds nothing). The spectra are scripts/bench_cwt_vs_scipy.py's
# band-excitation-like ones; both binaries must find the same number of peaks.
#
#   scripts/bench-kernel-before.sh [REV [LEN [SPECTRA [ROUNDS]]]]
#
# Default REV d0fd18e: main before the issue-14 kernel work (the matrixmultiply path).
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-d0fd18e}
len=${2:-119}
count=${3:-20000}
rounds=${4:-5}
python=${PYTHON:-.venv/bin/python}

cargo build --release -q --example cwt_throughput
now=$PWD/target/release/examples/cwt_throughput
before_target=$PWD/target/before-$rev
work=$(mktemp -d)
trap 'git worktree remove --force "$work/tree" 2>/dev/null || true; rm -rf "$work"' EXIT
git worktree add -q --detach "$work/tree" "$rev"
(cd "$work/tree" && CARGO_TARGET_DIR=$before_target cargo build --release -q --example cwt_throughput)
before=$before_target/release/examples/cwt_throughput

"$python" - "$count" "$len" "$work/spectra.f64" <<'EOF'
import os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "scripts"))
from bench_cwt_vs_scipy import spectra
n, length, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
spectra(n, length).astype("<f8").tofile(path)
EOF

# one NAME BIN: one run (best of 3 passes inside); appends "NAME rate peaks" to $work/rates.
one() {
    "$2" "$work/spectra.f64" "$len" 3 | awk -v n="$1" '/^spectra_per_s /{r=$2} /^peaks /{p=$2} END{print n, r, p}' >>"$work/rates"
}
for _ in $(seq "$rounds"); do
    one before "$before"
    one now "$now"
done

echo "## CWT kernel, $len samples x $count spectra, one thread: $rev vs this tree, $rounds rounds (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
python3 - "$work/rates" <<'EOF'
import statistics, sys
rates, peaks = {}, {}
for line in open(sys.argv[1]):
    name, rate, p = line.split()
    rates.setdefault(name, []).append(float(rate))
    peaks.setdefault(name, set()).add(int(p))
print("| binary | best spectra/s | median spectra/s | peaks found |")
print("| --- | --: | --: | --: |")
for name in ("before", "now"):
    r = rates[name]
    print(f"| {name} | {max(r):.0f} | {statistics.median(r):.0f} | {' '.join(map(str, sorted(peaks[name])))} |")
print(f"\nnow / before: best {max(rates['now']) / max(rates['before']):.2f}x, "
      f"median {statistics.median(rates['now']) / statistics.median(rates['before']):.2f}x")
if peaks["now"] != peaks["before"]:
    sys.exit("the two kernels found different numbers of peaks")
EOF
