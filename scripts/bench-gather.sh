#!/usr/bin/env bash
# Two ranks of one thread against one rank of two threads on one node: whole `find` runs on a
# generated map, the layouts alternated round by round (so drifting load hits both alike), best
# of ROUNDS wall-clock times (GNU time), with rank 0's seconds_gather and seconds_compute from
# --json. Each layout also runs on a 4 x 4 map every round: its best wall time is the fixed cost
# of starting that layout (mpirun, MPI_Init, opening the file), printed and subtracted for a
# second ratio, the one that grows with the map. BEFORE=path/to/an/older/usid-peaks adds that
# binary's runs to every round.
#
#   scripts/bench-gather.sh [ROWS COLS [ROUNDS]]     # default 512 512 3
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-512}
cols=${2:-512}
rounds=${3:-3}
cargo build --release -q
bin=$PWD/target/release/usid-peaks
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" generate "$work/map.h5" --rows "$rows" --cols "$cols" >/dev/null
"$bin" generate "$work/tiny.h5" --rows 4 --cols 4 >/dev/null
mpi=(mpirun --allow-run-as-root --oversubscribe)

binaries=("now=$bin")
if [ -n "${BEFORE:-}" ]; then binaries+=("before=$BEFORE"); fi

# run NAME BIN LAYOUT [MAP]: one timed run; appends "NAME LAYOUT wall gather compute" to
# $work/times (LAYOUT suffixed "-start" for the 4 x 4 map).
run() {
    local name=$1 exe=$2 layout=$3 map=${4:-map} out="$work/out.h5"
    rm -f "$out"
    local cmd=("$exe" find "$work/$map.h5" -q --json -o "$out")
    case $layout in
        1x2) cmd+=(--threads 2) ;;
        2x1) cmd=("${mpi[@]}" -np 2 "${cmd[@]}" --threads 1) ;;
    esac
    /usr/bin/time -f %e -o "$work/wall" "${cmd[@]}" >"$work/json"
    python3 - "$name" "$layout$([ "$map" = tiny ] && echo -start)" "$(cat "$work/wall")" "$work/json" >>"$work/times" <<'EOF'
import json, sys
name, layout, wall, path = sys.argv[1:]
v = json.loads(open(path).read().strip().splitlines()[-1])
print(name, layout, wall, v["seconds_gather"], v["seconds_compute"])
EOF
}

for r in $(seq "$rounds"); do
    for b in "${binaries[@]}"; do
        for layout in 1x2 2x1; do
            run "${b%%=*}" "${b#*=}" "$layout"
            run "${b%%=*}" "${b#*=}" "$layout" tiny
        done
    done
done

echo "## ${rows} x ${cols} map, best of $rounds (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "| binary | layout | wall s (best) | seconds_gather (that run) | seconds_compute (that run) | all walls |"
echo "| --- | --- | --: | --: | --: | --- |"
python3 - "$work/times" <<'EOF'
import sys, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, layout, wall, gather, compute = line.split()
    runs[(name, layout)].append((float(wall), float(gather), float(compute)))
best = {}
for (name, layout), rs in runs.items():
    b = min(rs)
    best[(name, layout)] = b[0]
    walls = " ".join(f"{w:.2f}" for w, _, _ in rs)
    print(f"| {name} | {layout} | {b[0]:.2f} | {b[1]:.2f} | {b[2]:.2f} | {walls} |")
for name in dict.fromkeys(n for n, _ in runs):
    if (name, "1x2") in best and (name, "2x1") in best:
        print(f"\n{name}: 2 ranks x 1 thread / 1 rank x 2 threads = {best[(name, '2x1')] / best[(name, '1x2')]:.3f} (wall)")
        s1, s2 = best[(name, "1x2-start")], best[(name, "2x1-start")]
        ratio = (best[(name, "2x1")] - s2) / (best[(name, "1x2")] - s1)
        print(f"{name}: start-up (4 x 4 map) 1x2 {s1:.2f} s, 2x1 {s2:.2f} s; after start-up 2x1 / 1x2 = {ratio:.3f}")
EOF
