#!/usr/bin/env bash
# The engine's performance targets, measured side by side in one run, figures printed:
#   1. 128 x 128 x 119 map: scipy's serial find_peaks_cwt loop vs `usid-peaks find` (single rank,
#      all threads): the compute-phase ratio and the whole-process ratio (start to exit);
#   2. 1024 x 1024 x 119 map (1 GiB complex64) with --max-mem 512: whole-process time and peak
#      RSS per rank (GNU time), in place and with --output;
#   3. speed-ups 1 -> 2 threads (one rank) and 1 -> 2 ranks (one thread each).
# Usage: scripts/bench-targets.sh [--quick]   (--quick: scipy on 2048 pixels, extrapolated; no 1024^2)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
quick=0
[ "${1:-}" = "--quick" ] && quick=1

cargo build --release --quiet
bin=$repo/target/release/usid-peaks
py=$repo/.venv/bin/python
[ -x "$py" ] || { echo "bench: run scripts/bootstrap.sh first" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "bench: GNU time missing (apt-get install time)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpi=(mpirun --oversubscribe)
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(uname -sr)"
"$bin" generate "$tmp/map.h5" >/dev/null

# --- 1. 128 x 128: scipy's loop and usid-peaks, same file, same run.
scipy_pixels=16384
[ $quick -eq 1 ] && scipy_pixels=2048
scipy_s=$("$py" - "$tmp/map.h5" "$scipy_pixels" <<'PY'
import sys, time, warnings
import h5py, numpy as np
from scipy.signal import find_peaks_cwt
warnings.simplefilter("ignore")
with h5py.File(sys.argv[1], "r") as f:
    data = f["/Measurement_000/Channel_000/Raw_Data"][()]
n = int(sys.argv[2])
widths = np.linspace(20, 60, 30)
t = time.perf_counter()
for row in data[:n]:
    find_peaks_cwt(np.abs(row), widths)
print((time.perf_counter() - t) * data.shape[0] / n)
PY
)
run_find() { # prints "wall_s compute_s rss_kib" of one run
    local out=$1
    shift
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" --json --quiet --force -o "$out" >"$tmp/json"
    local compute
    compute=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds_compute"])' "$tmp/json")
    read -r wall rss <"$tmp/time"
    echo "$wall $compute $rss"
}
read -r wall compute rss < <(run_find "$tmp/r.h5" "$bin" find "$tmp/map.h5")
echo
echo "## 128 x 128 x 119 (16384 spectra), single rank, $(nproc) threads"
echo "| what | seconds | spectra/s | vs scipy loop |"
echo "| --- | --- | --- | --- |"
awk -v s="$scipy_s" -v w="$wall" -v c="$compute" -v n=16384 -v q="$quick" 'BEGIN {
  printf "| scipy find_peaks_cwt loop, 1 core%s | %.1f | %.0f | 1 |\n", (q ? " (2048 pixels, extrapolated)" : ""), s, n/s
  printf "| usid-peaks compute phase | %.3f | %.0f | %.0fx |\n", c, n/c, s/c
  printf "| usid-peaks whole process | %.3f | %.0f | %.0fx |\n", w, n/w, s/w }'

# --- 3. speed-ups on this machine's cores.
read -r _ c1 _ < <(run_find "$tmp/t1.h5" "$bin" find "$tmp/map.h5" --threads 1)
read -r _ c2 _ < <(run_find "$tmp/t2.h5" "$bin" find "$tmp/map.h5" --threads 2)
read -r _ r1 _ < <(run_find "$tmp/n1.h5" "${mpi[@]}" -np 1 "$bin" find "$tmp/map.h5" --threads 1)
read -r _ r2 _ < <(run_find "$tmp/n2.h5" "${mpi[@]}" -np 2 "$bin" find "$tmp/map.h5" --threads 1)
echo
echo "## Speed-up of the compute phase (128 x 128)"
echo "| scaling | 1 | 2 | speed-up |"
echo "| --- | --- | --- | --- |"
awk -v a="$c1" -v b="$c2" 'BEGIN { printf "| threads (1 rank) | %.3f s | %.3f s | %.2f |\n", a, b, a/b }'
awk -v a="$r1" -v b="$r2" 'BEGIN { printf "| ranks (1 thread each) | %.3f s | %.3f s | %.2f |\n", a, b, a/b }'

# --- 2. 1024 x 1024 with --max-mem 512.
if [ $quick -eq 0 ]; then
    "$bin" generate "$tmp/big.h5" --rows 1024 --cols 1024 >/dev/null
    read -r w1 c1 m1 < <(run_find "$tmp/big_out.h5" "$bin" find "$tmp/big.h5" --max-mem 512)
    # In place: the results group goes into big.h5 itself (a staged copy renamed over it).
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$bin" find "$tmp/big.h5" --max-mem 512 --json --quiet >"$tmp/json"
    read -r w2 m2 <"$tmp/time"
    read -r w3 c3 m3 < <(run_find "$tmp/big_np2.h5" "${mpi[@]}" -np 2 "$bin" find "$tmp/big.h5" --max-mem 512 --threads 1)
    echo
    echo "## 1024 x 1024 x 119 (1 GiB complex64), --max-mem 512"
    echo "| run | whole process (s) | compute (s) | peak RSS per rank (MiB) |"
    echo "| --- | --- | --- | --- |"
    awk -v w="$w1" -v c="$c1" -v m="$m1" 'BEGIN { printf "| 1 rank x %d threads, --output | %.1f | %.1f | %.0f |\n", '"$(nproc)"', w, c, m/1024 }'
    awk -v w="$w2" -v m="$m2" 'BEGIN { printf "| 1 rank x %d threads, in place | %.1f | | %.0f |\n", '"$(nproc)"', w, m/1024 }'
    awk -v w="$w3" -v c="$c3" -v m="$m3" 'BEGIN { printf "| 2 ranks x 1 thread, --output | %.1f | %.1f | %.0f |\n", w, c, m/1024 }'
fi
