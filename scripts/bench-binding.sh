#!/usr/bin/env bash
# 1 -> 2 threads with the pool threads bound to CPUs (`--bind-threads auto`) and left to the OS
# (`--bind-threads none`), side by side: `usid-peaks bench --threads 1,2` on the same map in
# memory, the two settings alternated round by round; each round prints the speed-up of the
# median times and of the best times, and how many 2-thread runs took over 3/4 of the median
# 1-thread time (slow runs: the two threads stacked on one CPU, or a CPU the machine did not
# give us for part of the call).
# Usage: scripts/bench-binding.sh [PIXELS BINS ROUNDS REPEAT]   (default 128 1024 6 51)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
pixels=${1:-128}
bins=${2:-1024}
rounds=${3:-6}
repeat=${4:-51}

cargo build --release --quiet --bin usid-peaks
bin=$repo/target/release/usid-peaks
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" generate --rows 1 --cols "$pixels" --bins "$bins" "$tmp/map.h5" >/dev/null
echo "map: $pixels pixels x $bins bins; $rounds rounds of --repeat $repeat per setting"
echo
for round in $(seq "$rounds"); do
    for bind in auto none; do
        "$bin" bench "$tmp/map.h5" --threads 1,2 --repeat "$repeat" --bind-threads "$bind" \
            --out "$tmp/$bind-$round" >/dev/null 2>&1
    done
done
python3 - "$tmp" "$rounds" <<'PY'
import json, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
ratios = {"auto": [], "none": []}
print("| round | binding | 1 thread (ms) | 2 threads (ms) | speed-up | best / best | slow runs |")
print("| --: | --- | --: | --: | --: | --: | --: |")
for r in range(1, rounds + 1):
    for bind in ("auto", "none"):
        rows = {row["workers"]: row for row in json.load(open(f"{tmp}/{bind}-{r}/bench.json"))["rows"]}
        one, two = rows[1], rows[2]
        slow = sum(t > 0.75 * one["seconds"] for t in two["times"])
        ratios[bind].append(one["seconds"] / two["seconds"])
        print(f"| {r} | {bind} | {one['seconds']*1e3:.2f} | {two['seconds']*1e3:.2f} | "
              f"{ratios[bind][-1]:.2f} | {one['seconds_min']/two['seconds_min']:.2f} | "
              f"{slow} of {len(two['times'])} |")
print()
for bind, v in ratios.items():
    print(f"{bind}: median speed-up {statistics.median(v):.2f} (rounds {', '.join(f'{x:.2f}' for x in v)})")
PY
