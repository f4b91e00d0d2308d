#!/usr/bin/env bash
# Every test, from a fresh machine: install what is missing, then
#   1. formatting and lints,
#   2. the unit, integration and doc tests (scipy, pyUSID and mpirun as references), and the
#      library's unit tests again with overflow checks and debug assertions,
#   3. the build without MPI against a serial HDF5, and its tests,
#   3b. the Python package (pip install ./python into .venv) and its pytest suite,
#   4. a real single-host SLURM cluster running the project's sbatch file,
#   5. across hosts: OpenMPI on a test cluster of network namespaces (2 and 3 hosts, a rank
#      killed on one host), and a 2-node SLURM cluster on it,
#   6. a sample of the kill -9 fault-injection trials.
# Stops at the first failing stage; prints one line per stage and a closing tally. The across-host
# stages need root and network namespaces: where they cannot be made the stage says so in one line
# and the tally counts it as skipped, not passed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

bash scripts/bootstrap.sh

passed=0
skipped=0
stage() {
    local name=$1
    shift
    echo "=== $name" >&2
    local t0=$SECONDS
    "$@"
    passed=$((passed + 1))
    echo "=== $name: ok ($((SECONDS - t0)) s)" >&2
}
# A stage whose command exits 77 when this machine cannot host it (it says why in one line).
skippable_stage() {
    local name=$1 rc=0
    shift
    echo "=== $name" >&2
    local t0=$SECONDS
    "$@" || rc=$?
    case $rc in
        0)
            passed=$((passed + 1))
            echo "=== $name: ok ($((SECONDS - t0)) s)" >&2
            ;;
        77)
            skipped=$((skipped + 1))
            echo "=== $name: SKIPPED (see the line above)" >&2
            ;;
        *)
            echo "=== $name: FAILED (exit $rc)" >&2
            exit "$rc"
            ;;
    esac
}

# Debian installs serial HDF5 beside the parallel one; the no-MPI build is pointed at it.
serial_hdf5() {
    local d
    for d in /usr/lib/x86_64-linux-gnu/hdf5/serial /usr/lib/aarch64-linux-gnu/hdf5/serial; do
        [ -d "$d" ] && { echo "$d"; return; }
    done
    echo "test: no serial HDF5 found (Debian's libhdf5-dev); scripts/bootstrap.sh installs it" >&2
    return 1
}
no_mpi_tests() {
    HDF5_DIR=$(serial_hdf5) cargo test --release --no-default-features --target-dir target/nompi
    # Same CLI, identical results: both builds on one map, compared dataset by dataset.
    local tmp group=/Measurement_000/Channel_000/Raw_Data-Peak_Finding_000
    tmp=$(mktemp -d)
    target/release/usid-peaks generate "$tmp/map.h5" --rows 40 --cols 40 --seed 11
    target/release/usid-peaks find "$tmp/map.h5" -q -o "$tmp/mpi.h5"
    target/nompi/release/usid-peaks find "$tmp/map.h5" -q -o "$tmp/serial.h5"
    local d
    for d in Peak_Indices Peak_Count Peak_Frequencies; do
        h5diff "$tmp/mpi.h5" "$tmp/serial.h5" "$group/$d" "$group/$d"
    done
    rm -rf "$tmp"
}

# The Python package links the serial HDF5 too, and builds in the no-MPI build's target folder:
# the dependencies it shares with that build are compiled once, and reruns are incremental.
python_tests() {
    HDF5_DIR=$(serial_hdf5) CARGO_TARGET_DIR="$repo/target/nompi" \
        .venv/bin/python -m pip install -q --disable-pip-version-check "pytest>=7" ./python
    (cd python && cargo fmt --check)
    USID_PEAKS_BIN="$repo/target/release/usid-peaks" .venv/bin/python -m pytest -q python/tests
}

stage "format" cargo fmt --check
stage "clippy" cargo clippy --release --all-targets -- -D warnings
stage "tests" cargo test --release
stage "library tests with overflow checks" cargo test --profile checked --lib
stage "no-MPI build and tests" no_mpi_tests
stage "Python package" python_tests
if [ -x scripts/test-slurm.sh ]; then
    stage "SLURM" bash scripts/test-slurm.sh
fi
if [ -x scripts/test-cluster.sh ]; then
    skippable_stage "across hosts: OpenMPI (2 x 2, 3 x 1, dead rank)" bash scripts/test-cluster.sh
fi
if [ -x scripts/test-slurm.sh ]; then
    skippable_stage "across hosts: SLURM, 2 nodes" bash scripts/test-slurm.sh --nodes 2
fi
if [ -x scripts/fault-inject.sh ]; then
    stage "fault injection (sample)" bash scripts/fault-inject.sh --trials 3 --mode both --rank-kills 1 --rows 160 --cols 160
fi
echo "test: $passed passed, $skipped skipped, 0 failed"
