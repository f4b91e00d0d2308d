#!/usr/bin/env bash
# The cost model of docs/CLUSTER.md, measured and checked.
#
#   scripts/cost-model.sh --constants      the machine's constants only: one process, no MPI
#   scripts/cost-model.sh                  the constants, then predicted vs measured on the
#                                          namespace test cluster (scripts/cluster.sh; root)
#
# Constants (on a ROWS x COLS map, the best of REPEAT runs each, `find --output` into a new file):
#   r      spectra per second of one thread (1 thread: computed / seconds_compute)
#   e(C)   efficiency of the machine's C cores in one process (C threads: speed-up / C)
#   w      seconds of rank 0's final write per spectrum (seconds_write / pixels)
#   s1     start-up of a plain run (seconds_total - seconds_compute - seconds_write)
#   B      bytes per spectrum gathered to rank 0 (4 for the count + 4 per peak, from `peaks`)
# Then for each HOSTS in --hosts and each shape (ranks per host x threads), with the link as it
# is and rate-limited to --rate (and delayed by --delay where the kernel has netem), the
# constants measured again right beside the run (a shared machine's load drifts), and:
#   t_start(H, R)  the wall time of the same launch on an 8 x 8 map (launch, MPI_Init, open, end)
#   predicted = t_start + N / (k r e(k)) + N B (H-1)/H / bandwidth + N w,  k = min(ranks x threads, C)
#   measured  = the wall time of `cluster.sh mpirun -np H*R -- usid-peaks find --threads T --output`
# k: the hosts of the test cluster share this machine's C cores, so compute never runs on more.
# e(k) is interpolated linearly between e(1) = 1 and e(C). Prints a markdown table on stdout.
#
# Usage: scripts/cost-model.sh [--constants] [--rows R] [--cols C] [--repeat K] [--hosts "2 3"]
#                              [--rate RATE] [--delay MS]
# Environment: USID_PEAKS the binary (default target/release/usid-peaks).
# On a site: run `--constants` on one compute node (srun -N1 --exclusive ...) for r, e, w, s1; the
# launch times and the link come from the site's own runs (docs/CLUSTER.md).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rows=512 cols=512 repeat=3 hosts="2 3" rate=1gbit delay= only_constants=0
while [ $# -gt 0 ]; do
    case $1 in
        --constants) only_constants=1; shift ;;
        --rows) rows=$2; shift 2 ;;
        --cols) cols=$2; shift 2 ;;
        --repeat) repeat=$2; shift 2 ;;
        --hosts) hosts=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --delay) delay=$2; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "cost-model: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

say() { printf 'cost-model: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
cluster() { bash "$repo/scripts/cluster.sh" "$@"; }
calc() { awk "BEGIN { printf \"%.6g\", $* }"; }
json_field() { sed -n "s/.*\"$2\": *\"\{0,1\}\([^\",}]*\).*/\1/p" <<<"$1"; }
now() { date +%s.%N; }

src_bin=${USID_PEAKS:-$repo/target/release/usid-peaks}
[ -x "$src_bin" ] || fail "$src_bin missing: cargo build --release"
work=$(mktemp -d "${TMPDIR:-/tmp}/cost-model.XXXXXX")
made=0
cleanup() {
    [ "$made" -eq 0 ] || cluster down 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bin=$work/usid-peaks
cp "$src_bin" "$bin"
"$bin" generate "$work/map.h5" --rows "$rows" --cols "$cols" --seed 3 >/dev/null 2>&1 || fail "generate failed"
"$bin" generate "$work/tiny.h5" --rows 8 --cols 8 --seed 3 >/dev/null 2>&1 || fail "generate failed"
n=$((rows * cols))
cores=$(nproc)

# `LAUNCH... usid-peaks find FILE --threads T` REPEAT times on a fresh --output; the JSON line and
# the wall time of the fastest run (the least disturbed by whatever else the machine does) go to
# $best_json and $best_wall.
best_of() {
    local file=$1 threads=$2 i t0 t json
    shift 2
    best_wall=
    for i in $(seq "$repeat"); do
        rm -f "$work/out.h5"
        t0=$(now)
        json=$("$@" "$bin" find "$file" --threads "$threads" --output "$work/out.h5" --json -q) || fail "run failed: $*"
        t=$(calc "$(now) - $t0")
        if [ -z "$best_wall" ] || awk -v a="$t" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
            best_wall=$t
            best_json=$json
        fi
    done
}
plain() { env -i PATH="$PATH" HOME="${HOME:-/root}" "$@"; }

# --- constants: one process, no MPI --------------------------------------------------------------
# Sets r, e, w, s1 and bytes. Measured again right before each cluster run below, so that the
# prediction and the measurement meet the same load on a shared machine.
measure_constants() {
    local j1
    best_of "$work/map.h5" 1 plain
    j1=$best_json
    r=$(calc "$(json_field "$j1" computed) / $(json_field "$j1" seconds_compute)")
    w=$(calc "$(json_field "$j1" seconds_write) / $n")
    s1=$(calc "$(json_field "$j1" seconds_total) - $(json_field "$j1" seconds_compute) - $(json_field "$j1" seconds_write)")
    bytes=$(calc "(4 * $n + 4 * $(json_field "$j1" peaks)) / $n")
    best_of "$work/map.h5" "$cores" plain
    e=$(calc "($(json_field "$best_json" computed) / $(json_field "$best_json" seconds_compute)) / ($cores * $r)")
    [ "$cores" -gt 1 ] || e=1
}
say "constants on a $rows x $cols map ($n spectra), best of $repeat, $cores cores"
measure_constants
printf '| constant | value |\n| --- | --- |\n'
printf '| r (spectra/s, 1 thread) | %.0f |\n| e(%d) | %.2f |\n| w (s per 10^6 spectra) | %.3f |\n| s1 (s) | %.3f |\n| B (bytes/spectrum) | %.1f |\n' \
    "$r" "$cores" "$e" "$(calc "$w * 1e6")" "$s1" "$bytes"
[ "$only_constants" -eq 0 ] || exit 0

# --- predicted vs measured on the test cluster -------------------------------------------------
[ "$(id -u)" -eq 0 ] || fail "the cluster part needs root (or run with --constants)"
eff() { # k: the efficiency of k busy cores
    if [ "$cores" -le 1 ] || [ "$1" -le 1 ]; then echo 1; else calc "1 - (1 - $e) * ($1 - 1) / ($cores - 1)"; fi
}
bandwidth_of() { # a tc rate (e.g. 1gbit, 100mbit) in bytes per second
    local v=${1%bit} m=1
    case $v in *g) m=1e9 ;; *m) m=1e6 ;; *k) m=1e3 ;; esac
    calc "${v%[gmk]} * $m / 8"
}
printf '\n| hosts x ranks x threads | link | r, e(%d) beside it | t_start (s) | predicted (s) | measured (s) | error |\n' "$cores"
printf '| --- | --- | --- | --- | --- | --- | --- |\n'
for h in $hosts; do
    made=1
    cluster up "$h" >/dev/null 2>&1 || fail "cluster.sh up $h failed"
    for link in as-is shaped; do
        bw=0
        if [ "$link" = shaped ]; then
            cluster shape ${delay:+--delay "$delay"} --rate "$rate" >/dev/null 2>&1 || fail "cluster.sh shape failed"
            bw=$(bandwidth_of "$rate")
        fi
        for shape in "1 1" "1 $cores" "$cores 1"; do
            read -r per_host threads <<<"$shape"
            np=$((h * per_host))
            measure_constants
            best_of "$work/tiny.h5" "$threads" cluster mpirun -np "$np" --
            start=$best_wall
            best_of "$work/map.h5" "$threads" cluster mpirun -np "$np" --
            k=$((np * threads))
            [ "$k" -le "$cores" ] || k=$cores
            gather=0
            [ "$bw" = 0 ] || gather=$(calc "$n * $bytes * ($h - 1) / $h / $bw")
            pred=$(calc "$start + $n / ($k * $r * $(eff "$k")) + $gather + $n * $w")
            printf '| %d x %d x %d | %s | %.0f, %.2f | %.2f | %.2f | %.2f | %+.0f %% |\n' "$h" "$per_host" "$threads" \
                "$([ "$link" = as-is ] && echo "veth" || echo "${delay:+${delay} ms, }$rate")" \
                "$r" "$e" "$start" "$pred" "$best_wall" "$(calc "($pred - $best_wall) / $best_wall * 100")"
        done
        [ "$link" = as-is ] || cluster shape off >/dev/null 2>&1
    done
    cluster down >/dev/null 2>&1
    made=0
done
