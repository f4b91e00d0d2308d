#!/usr/bin/env bash
# Run `usid-peaks find` on this workstation as MPI ranks x threads.
#
# Usage: scripts/run-mpi.sh FILE [-np N] [--oversubscribe] [find options...]
#   -np N, -n N       MPI ranks (default: the number of cores, nproc)
#   --oversubscribe   allow more ranks than cores (implied when N > cores)
#   everything else goes to `usid-peaks find FILE`: a dataset path, --widths 20:60:30, --json, ...
# Threads per rank: cores / ranks (at least 1), unless the options give --threads.
# Each rank is bound to its own cores (mpirun --map-by slot:PE=threads --bind-to core) when
# ranks x threads fit the cores; otherwise nothing is bound. Without mpirun, or with a usid-peaks built without MPI, it runs
# one single-process usid-peaks on all cores instead.
#
# Environment:
#   USID_PEAKS    the binary (default: target/release/usid-peaks of this checkout, else PATH)
#   MPIRUN        the launcher (default: mpirun)
#   MPIRUN_ARGS   extra mpirun options, split on spaces, e.g. "--mca btl self,vader"
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ $# -lt 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
    usage
    [ $# -ge 1 ] && exit 0
    exit 2
fi
case $1 in
    -*) say "the first argument is the HDF5 file, not '$1' (see --help)"; exit 2 ;;
esac
file=$1
shift

ranks=
threads=
oversubscribe=0
quiet=0
rest=()
while [ $# -gt 0 ]; do
    case $1 in
        -np | -n | --np)
            [ $# -ge 2 ] || { say "$1 needs a number"; exit 2; }
            ranks=$2
            shift 2
            continue
            ;;
        --np=*) ranks=${1#--np=} ;;
        --oversubscribe) oversubscribe=1 ;;
        --threads)
            [ $# -ge 2 ] || { say "--threads needs a number"; exit 2; }
            threads=$2
            rest+=("$1" "$2")
            shift 2
            continue
            ;;
        --threads=*) threads=${1#--threads=}; rest+=("$1") ;;
        --quiet | -q) quiet=1; rest+=("$1") ;;
        *) rest+=("$1") ;;
    esac
    shift
done

cores=$(nproc)
ranks=${ranks:-$cores}
case $ranks in
    '' | *[!0-9]* | 0) say "-np wants a positive number of ranks, not '$ranks'"; exit 2 ;;
esac

if [ -n "${USID_PEAKS:-}" ]; then
    bin=$USID_PEAKS
elif [ -x "$repo/target/release/usid-peaks" ]; then
    bin=$repo/target/release/usid-peaks
elif command -v usid-peaks >/dev/null 2>&1; then
    bin=usid-peaks
else
    say "no usid-peaks binary: run 'cargo build --release' in $repo, or set USID_PEAKS"
    exit 2
fi

single_process() {
    [ "$ranks" -gt 1 ] && say "$1; running one process on all $cores cores instead of $ranks ranks"
    exec "$bin" find "$file" "${rest[@]}"
}

mpirun=${MPIRUN:-mpirun}
command -v "$mpirun" >/dev/null 2>&1 || single_process "$mpirun not found"
# A build without MPI started by mpirun would be N independent runs on the same file.
if libs=$(ldd "$(command -v "$bin")" 2>/dev/null) && ! grep -q libmpi <<<"$libs"; then
    single_process "$bin is built without MPI"
fi

if [ "$ranks" -gt "$cores" ]; then
    oversubscribe=1
fi
if [ -z "$threads" ]; then
    threads=$((oversubscribe ? 1 : cores / ranks))
    rest+=(--threads "$threads")
fi
if [ "$oversubscribe" -eq 1 ]; then mpirun_cmd; else mpirun_cmd no; fi
launch=("${MPIRUN_LINE[@]}" -np "$ranks")
# (A --threads value that is not a positive number is left for usid-peaks to judge.)
if [ "$oversubscribe" -eq 1 ] || ! [ "$threads" -ge 1 ] 2>/dev/null || [ $((ranks * threads)) -gt "$cores" ]; then
    # Binding more threads than cores fails in OpenMPI; let the kernel place them.
    launch+=(--bind-to none)
else
    # Slots and PE count hardware threads when the machine has SMT, as nproc does; otherwise
    # OpenMPI counts cores and -np $(nproc) would not fit.
    hw_cores=$(lscpu -p=Core,Socket 2>/dev/null | grep -v '^#' | sort -u | wc -l || echo 0)
    if [ "$hw_cores" -gt 0 ] && [ "$hw_cores" -lt "$cores" ]; then
        launch+=(--use-hwthread-cpus --map-by "slot:PE=$threads" --bind-to hwthread)
    else
        launch+=(--map-by "slot:PE=$threads" --bind-to core)
    fi
fi
if [ -n "${MPIRUN_ARGS:-}" ]; then
    read -r -a extra <<<"$MPIRUN_ARGS"
    launch+=("${extra[@]}")
fi

[ "$quiet" -eq 1 ] || say "${launch[*]} $bin find $file ${rest[*]}"
exec "${launch[@]}" "$bin" find "$file" "${rest[@]}"
