#!/usr/bin/env bash
# Head-to-head on one file in one run: the seed's serial scipy loop, pyUSID's parallel_compute on
# all cores, usid-peaks with 1 thread and with all threads, and mpirun -np 2; checks that every
# method's peaks equal scipy's on every pixel; prints a markdown table (times and ratios against
# the scipy loop), the machine and the command.
#
# Usage: scripts/compare.sh [FILE] [--scipy-pixels N] [--ranks R]
#   FILE             a USID HDF5 file with one main dataset [default: the 128 x 128 x 119 map
#                    that `usid-peaks generate` makes, in a temporary folder]
#   --scipy-pixels N time scipy and pyUSID on N evenly spread pixels and extrapolate (quick runs;
#                    equality is then checked on those pixels); the recorded table uses all pixels
#   --ranks R        ranks of the mpirun row [default 2]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=$repo/.venv/bin/python
[ -x "$py" ] || { echo "compare: no Python environment; run scripts/bootstrap.sh first" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "compare: mpirun not found; run scripts/bootstrap.sh first" >&2; exit 1; }

orig_args="$*"
file=""
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --scipy-pixels | --ranks) args+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
        -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "compare: unknown option $1" >&2; exit 2 ;;
        *) [ -z "$file" ] || { echo "compare: one FILE only" >&2; exit 2; }; file=$1; shift ;;
    esac
done

(cd "$repo" && cargo build --release --quiet)
bin=$repo/target/release/usid-peaks
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$file" ]; then
    file=$tmp/map.h5
    "$bin" generate "$file" 2>/dev/null
fi

echo "command: scripts/compare.sh${orig_args:+ $orig_args}"
"$py" "$repo/scripts/compare.py" --bin "$bin" "$file" "${args[@]}"
