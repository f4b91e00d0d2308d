#!/usr/bin/env bash
# 1 -> N threads (N: the CPUs this process may use, `nproc`) with the pool threads bound to CPUs
# (`--bind-threads auto`, which binds a pool of N threads) and left to the OS
# (`--bind-threads none`), side by side: `usid-peaks bench --threads 1,N` on the same map in
# memory, the two settings alternated round by round (each first in every other round). Each
# round prints the speed-up of the median times and of the best times, and how many N-thread runs
# took over 3/4 of the median 1-thread time (slow runs: threads stacked on one CPU, or a CPU the
# machine did not give us for part of the call).
# Usage: scripts/bench-binding.sh [PIXELS BINS ROUNDS REPEAT]   (default 128 1024 6 51)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
pixels=${1:-128}
bins=${2:-1024}
rounds=${3:-6}
repeat=${4:-51}
for v in "$pixels" "$bins" "$rounds" "$repeat"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "bench-binding: $v: expected a whole number >= 1" >&2; exit 2; }
done
n=$(nproc)
if [ "$n" -lt 2 ]; then
    echo "bench-binding: this process may run on $n CPU; binding needs at least two" >&2
    exit 2
fi

cargo build --release --quiet --bin usid-peaks
bin=$repo/target/release/usid-peaks
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "machine: $n cores, $(lscpu | sed -n 's/^Model name: *//p'), $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" generate --rows 1 --cols "$pixels" --bins "$bins" "$tmp/map.h5" >/dev/null 2>&1
echo "map: $pixels pixels x $bins bins; 1 and $n threads; $rounds rounds of --repeat $repeat per setting"
echo
for round in $(seq "$rounds"); do
    order="auto none"
    [ $((round % 2)) -eq 0 ] && order="none auto"
    for bind in $order; do
        if ! "$bin" bench "$tmp/map.h5" --threads "1,$n" --repeat "$repeat" --bind-threads "$bind" \
            --out "$tmp/$bind-$round" >"$tmp/log" 2>&1; then
            echo "bench-binding: usid-peaks bench --bind-threads $bind failed:" >&2
            cat "$tmp/log" >&2
            exit 1
        fi
    done
done
python3 - "$tmp" "$rounds" "$n" <<'PY'
import json, statistics, sys
tmp, rounds, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ratios = {"auto": [], "none": []}
print(f"| round | binding | 1 thread (ms) | {n} threads (ms) | speed-up | best / best | slow runs | bound |")
print("| --: | --- | --: | --: | --: | --: | --: | --- |")
for r in range(1, rounds + 1):
    for bind in ("auto", "none"):
        rows = {row["workers"]: row for row in json.load(open(f"{tmp}/{bind}-{r}/bench.json"))["rows"]}
        one, many = rows[1], rows[n]
        slow = sum(t > 0.75 * one["seconds"] for t in many["times"])
        ratios[bind].append(one["seconds"] / many["seconds"])
        print(f"| {r} | {bind} | {one['seconds']*1e3:.2f} | {many['seconds']*1e3:.2f} | "
              f"{ratios[bind][-1]:.2f} | {one['seconds_min']/many['seconds_min']:.2f} | "
              f"{slow} of {len(many['times'])} | {'yes' if many['bound'] else 'no'} |")
print()
for bind, v in ratios.items():
    print(f"{bind}: median speed-up {statistics.median(v):.2f} (rounds {', '.join(f'{x:.2f}' for x in v)})")
PY
