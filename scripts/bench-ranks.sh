#!/usr/bin/env bash
# Scaling over MPI ranks, plotted beside scaling over threads: runs
#   mpirun -np N usid-peaks find FILE --threads 1 --force --json --output TMP
# for N = 1..MAX_RANKS, takes seconds_compute / spectra_per_s from each run's JSON summary, checks
# that every N wrote the same Peak_Indices as N = 1 (h5diff), writes OUT/ranks.csv, then runs
#   usid-peaks bench FILE --threads 1..MAX_RANKS --ranks-csv OUT/ranks.csv --out OUT
# so OUT/scaling.png shows both curves (and OUT/bench.csv both tables). Any core count works:
# the same command on a 16-core node shows where scaling flattens.
#
# Usage: scripts/bench-ranks.sh FILE [MAX_RANKS] [OUT]
#   MAX_RANKS  [default: the cores, nproc]     OUT  [default: bench-ranks]
#   Environment: REPEAT (bench's --repeat, default 3), USID_PEAKS (the binary to use).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
file=${1:?usage: scripts/bench-ranks.sh FILE [MAX_RANKS] [OUT]}
max=${2:-$(nproc)}
out=${3:-bench-ranks}
case "$max" in '' | *[!0-9]* | 0) echo "bench-ranks: MAX_RANKS must be a whole number >= 1" >&2; exit 2 ;; esac
[ -f "$file" ] || { echo "bench-ranks: $file: no such file" >&2; exit 2; }
for tool in mpirun h5diff; do
    command -v $tool >/dev/null || { echo "bench-ranks: $tool not found; run scripts/bootstrap.sh" >&2; exit 1; }
done
if [ -z "${USID_PEAKS:-}" ]; then
    (cd "$repo" && cargo build --release --quiet)
    USID_PEAKS=$repo/target/release/usid-peaks
fi
mpi=(mpirun --oversubscribe)
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A number from the one-line JSON summary (no jq needed).
field() { sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p" "$2"; }
group() { sed -n 's/.*"group":"\([^"]*\)".*/\1/p' "$1"; }

echo "ranks,seconds,spectra_per_s,identical" >"$out/ranks.csv"
for n in $(seq 1 "$max"); do
    "${mpi[@]}" -np "$n" "$USID_PEAKS" find "$file" --threads 1 --force --json --quiet \
        --output "$tmp/r$n.h5" >"$tmp/r$n.json"
    s=$(field seconds_compute "$tmp/r$n.json")
    rate=$(field spectra_per_s "$tmp/r$n.json")
    g=$(group "$tmp/r$n.json")
    same=true
    if [ "$n" -gt 1 ] && ! h5diff -q "$tmp/r1.h5" "$tmp/r$n.h5" "$g/Peak_Indices" "$g/Peak_Indices"; then
        same=false
    fi
    echo "bench-ranks: $n rank(s) x 1 thread: compute $s s, $rate spectra/s, same peaks as 1 rank: $same" >&2
    echo "$n,$s,$rate,$same" >>"$out/ranks.csv"
    [ "$n" -gt 1 ] && rm -f "$tmp/r$n.h5"
done

threads=$(seq -s, 1 "$max")
"$USID_PEAKS" bench "$file" --threads "$threads" --repeat "${REPEAT:-3}" --ranks-csv "$out/ranks.csv" --out "$out"
