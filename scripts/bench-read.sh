#!/usr/bin/env bash
# Reading a gzip-chunked map against the same map uncompressed, side by side in one run:
#   1. read only (file -> spectra in memory, examples/read_bench.rs) at 1 and 2 threads, the
#      plain map, the gzip map with chunks inflated on the pool, and the gzip map through the
#      library's own one-thread path; MB per CPU-second is the per-thread decompression rate;
#   2. a whole `usid-peaks find` on each map at 2 threads, the two alternated for 3 rounds (GNU
#      time: wall clock and CPU seconds).
# The gzip map is the generated one repacked with h5repack (hdf5-tools): chunks of 1024 rows x
# all bins, shuffle, deflate level 4 — the layout of a pyUSID file written with compression='gzip'.
# Usage: scripts/bench-read.sh [ROWS COLS]   (default 512 512: 262 144 spectra, 238 MiB)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
rows=${1:-512}
cols=${2:-512}
threads=${THREADS:-1,2}

cargo build --release --quiet --bin usid-peaks --example read_bench
bin=$repo/target/release/usid-peaks
bench=$repo/target/release/examples/read_bench
command -v h5repack >/dev/null || { echo "bench-read: h5repack missing (apt-get install hdf5-tools)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "bench-read: GNU time missing (apt-get install time)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" generate --rows "$rows" --cols "$cols" "$tmp/plain.h5" >/dev/null
raw=/Measurement_000/Channel_000/Raw_Data
bins=$(h5ls "$tmp/plain.h5$raw" | sed -n 's/.*{[0-9]*, *\([0-9]*\)}.*/\1/p')
h5repack -l "$raw:CHUNK=1024x$bins" -f "$raw:SHUF" -f "$raw:GZIP=4" "$tmp/plain.h5" "$tmp/gzip.h5"
ls -l "$tmp/plain.h5" "$tmp/gzip.h5" | awk '{print $5, $9}' | sed "s|$tmp/||"

echo
echo "## Read only (${rows} x ${cols} spectra)"
"$bench" "$tmp/plain.h5" "$tmp/gzip.h5" --threads "$threads"
"$bench" "$tmp/gzip.h5" --threads "$threads" --library | tail -n +3

echo
echo "## Whole find at 2 threads: the two maps alternated, 3 rounds"
# Alternated so that a machine whose load drifts treats both alike; CPU = user + system seconds.
echo "| round | plain wall s | plain CPU s | gzip wall s | gzip CPU s |"
echo "| --: | --: | --: | --: | --: |"
for round in 1 2 3; do
    row="| $round"
    for map in plain gzip; do
        /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$bin" find "$tmp/$map.h5" --threads 2 --force -q \
            -o "$tmp/out-$map.h5"
        read -r wall user sys <"$tmp/time"
        row="$row | $wall | $(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", u + s}')"
    done
    echo "$row |"
done
h5diff -q "$tmp/out-plain.h5" "$tmp/out-gzip.h5" "$raw-Peak_Finding_000/Peak_Indices" \
    && echo "Peak_Indices identical for both maps"
