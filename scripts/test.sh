#!/usr/bin/env bash
# Every test, from a fresh machine: install what is missing (the system packages first; the Python
# reference environments in the background while the first stages run), then the stages in order:
#   format        cargo fmt --check of the crate and of python/
#   clippy        -D warnings on the MPI build and the build without MPI
#   tests         the integration and doc tests (scipy, pyUSID and mpirun as references)
#   overflow      the library's unit tests, with overflow checks and debug assertions in our code
#   no-MPI        the build without MPI against a serial HDF5, its tests, and its results against
#                 the MPI build's on one map
#   Python        the package's clippy and Rust tests, pip install ./python into .venv, and its
#                 pytest suite
#   BGlib         BGlib's BELoopFitter on the SHO Fit usid-peaks writes (needs Python 3.11: skipped
#                 without it)
#   SLURM         a real single-host SLURM cluster running the project's sbatch files
#   across hosts  OpenMPI on a test cluster of network namespaces (2 and 3 hosts, a rank killed on
#                 one host, a host's link cut, a host's ranks stopped), and a 2-node SLURM cluster
#                 on it (a node's link cut under srun too)
#   faults        a sample of the kill -9 fault-injection trials, in place and with --output
# Stops at the first failing stage; prints one line per stage and a closing tally. A stage run by
# a script of scripts/ fails when that script is missing or not executable (checked for every
# stage before anything runs). The across-host stages need root and network namespaces: where
# they cannot be made the stage says so in one line and the tally counts it as skipped, not passed.
#
#   scripts/test.sh            every stage
#   scripts/test.sh --stages   list the stages and check their scripts; run nothing
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$repo"

# The stages, in order. `skippable` marks a stage whose command exits 77 when this machine cannot
# host it (it says why in one line); `run_script NAME ARGS` runs scripts/NAME.
stages() {
    stage "format" formatting
    stage "clippy (MPI build, no-MPI build)" lints
    stage "tests" tests
    stage "library tests with overflow checks" checked cargo test --release --lib
    stage "no-MPI build and tests" no_mpi_tests
    stage "Python package" python_tests
    skippable stage "BGlib's loop fitter on our SHO Fit (Python 3.11)" bglib_loop
    stage "SLURM" run_script test-slurm.sh
    skippable stage "across hosts: OpenMPI (2 x 2, 3 x 1, dead rank, cut link, stopped host)" run_script test-cluster.sh
    skippable stage "across hosts: SLURM, 2 nodes (srun, mpirun, a node's link cut)" run_script test-slurm.sh --nodes 2
    # Per mode: in place, --output (streamed), in place with the kill aimed at the final write;
    # a rank killed in place and one with --output.
    stage "fault injection (sample)" run_script fault-inject.sh --trials 3 --mode both --target both \
        --rank-kills 2 --rows 160 --cols 160
}

formatting() {
    cargo fmt --check
    (cd python && cargo fmt --check)
}

# Every build of the stages shares target/: the builds with and without MPI, the overflow-checked
# library and the Python package differ in a few crates only (ours, hdf5's, pyo3's), which cargo
# keeps apart by their features and settings, and compile every other dependency once.

# CMD with HDF5_DIR set to Debian's serial HDF5, which builds without MPI link.
nompi() {
    local d
    d=$(serial_hdf5) || return 1
    HDF5_DIR=$d "$@"
}
# CMD as the Python package builds: without MPI, and with PYO3_PYTHON as pip's build of the
# package sets it (else the two rebuild pyo3 for each other).
package() {
    nompi env CARGO_TARGET_DIR="$repo/target" PYO3_PYTHON="$repo/.venv/bin/python" "$@"
}
# CARGO_CMD with overflow checks and debug assertions on in our own code (a shift or index one too
# far panics instead of passing by luck): the release profile with the two set for this package
# on the command line, so the dependencies are the release build's, not compiled again.
checked() {
    "$@" --config 'profile.release.package.usid-peaks.overflow-checks=true' \
        --config 'profile.release.package.usid-peaks.debug-assertions=true'
}

lints() {
    cargo clippy --release --all-targets -- -D warnings
    nompi cargo clippy --release --all-targets --no-default-features -- -D warnings
}

# The library's unit tests are the next stage's (checked); these are the rest.
tests() {
    cargo test --release --bins --test it --no-run
    cargo test --release --doc
    ready test_env
    cargo test --release --bins --test it
}

no_mpi_tests() {
    # Same CLI, identical results: both builds on one map, compared dataset by dataset.
    local tmp
    tmp=$(mktemp -d)
    target/release/usid-peaks generate "$tmp/map.h5" --rows 40 --cols 40 --seed 11
    target/release/usid-peaks find "$tmp/map.h5" -q -o "$tmp/mpi.h5"
    # From here to the last line target/release/usid-peaks is the build without MPI (the tests
    # run the binary there), then the MPI build's again for the stages after this one (cargo
    # compiles nothing for that: both builds are kept, it copies the binary back).
    nompi cargo test --release --no-default-features --bins --test it
    links_mpi && fail "target/release/usid-peaks still links MPI after the build without it"
    target/release/usid-peaks find "$tmp/map.h5" -q -o "$tmp/serial.h5"
    same_results "$tmp/mpi.h5" "$tmp/serial.h5" /Measurement_000/Channel_000/Raw_Data-Peak_Finding_000 \
        || fail "the builds with and without MPI wrote different results"
    rm -rf "$tmp"
    cargo build --release
    links_mpi || fail "target/release/usid-peaks does not link MPI after the MPI build"
}
links_mpi() { ldd target/release/usid-peaks | grep libmpi >/dev/null; }

python_tests() {
    ready test_env
    (cd python && package cargo clippy --release --all-targets -- -D warnings)
    (cd python && package cargo test --release)
    package .venv/bin/python -m pip install -q --disable-pip-version-check ./python
    USID_PEAKS_BIN="$repo/target/release/usid-peaks" .venv/bin/python -m pytest -q python/tests
}

# BGlib 0.0.6 needs numpy<2, so its environment is made with Debian 12's Python 3.11; its loop
# fitter must complete on the Fit `usid-peaks sho` writes (tests/reference/bglib_sho.py loop).
bglib_loop() {
    if ! command -v python3.11 >/dev/null; then
        say "no python3.11 here: BGlib 0.0.6 needs numpy<2 (Debian 12's Python 3.11); its loop fitter cannot run"
        return 77
    fi
    ready bglib_env
    PYTHONWARNINGS=ignore .venv-bglib/bin/python tests/reference/bglib_sho.py loop \
        --ours target/release/usid-peaks || return 1
}

# The Python reference environments are made in the background from the first stage on, one
# after the other: on a fresh machine that is minutes of pip downloading and unpacking, which
# overlap the Rust stages' compiling instead of adding to the run. In a process group of their
# own, ended with the run (a run that stops early leaves no pip behind).
envs=
start_envs() {
    local list=(test_env)
    command -v python3.11 >/dev/null && list+=(bglib_env)
    envs=$(mktemp -d)
    ENVS=$envs setsid bash -c '. scripts/lib.sh
        for e in "$@"; do rc=0; ("$e") >"$ENVS/$e.log" 2>&1 || rc=$?; echo "$rc" >"$ENVS/$e.rc"; done' \
        test "${list[@]}" &
    envs_pid=$!
    # `|| true`: the group has usually ended by then, and under errexit a failing kill in the trap
    # would make the whole run's exit status 1 after every stage passed.
    trap 'kill -- -"$envs_pid" 2>/dev/null || true; rm -rf "$envs"' EXIT
}
# ready ENV (test_env, bglib_env): waits until it is made; its lines go to stderr, once; fails
# with one line when it could not be made or its making ended without a status.
ready() {
    while [ ! -e "$envs/$1.rc" ] && kill -0 "$envs_pid" 2>/dev/null; do
        sleep 1
    done
    if [ -e "$envs/$1.log" ]; then
        cat "$envs/$1.log" >&2
        rm -f "$envs/$1.log"
    fi
    [ "$(cat "$envs/$1.rc" 2>/dev/null)" = 0 ] || { say "the reference environment ($1) could not be made"; return 1; }
}

run_script() {
    "$repo/scripts/$1" "${@:2}"
}

# --- walking the stages: checking them first, then running them ---------------------------------
walk=check
problems=()
passed=0
skipped=0

skippable() { STAGE_SKIPPABLE=1 "$@"; }

stage() {
    local name=$1
    shift
    if [ "$walk" != run ]; then
        [ "$walk" != list ] || printf '%s%s\n' "$name" "${STAGE_SKIPPABLE:+ (may be skipped)}"
        if [ "$1" = run_script ]; then
            if [ ! -e "scripts/$2" ]; then
                problems+=("stage '$name': scripts/$2 is missing")
            elif [ ! -f "scripts/$2" ] || [ ! -x "scripts/$2" ]; then
                problems+=("stage '$name': scripts/$2 is not an executable file")
            fi
        fi
        return 0
    fi
    echo "=== $name" >&2
    local t0=$SECONDS rc
    # In a subshell with errexit in force, so that any command of the stage fails it. Run as
    # `"$@" || rc=$?`, bash would ignore `set -e` in the whole stage, and only its last command
    # could fail it (a failing `cargo fmt --check` of the crate passed while python/'s passed).
    set +e
    (set -e; "$@")
    rc=$?
    set -e
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "=== $name: ok ($((SECONDS - t0)) s)" >&2
    elif [ "$rc" -eq 77 ] && [ -n "${STAGE_SKIPPABLE:-}" ]; then
        skipped=$((skipped + 1))
        echo "=== $name: SKIPPED (see the line above)" >&2
    else
        echo "=== $name: FAILED (exit $rc)" >&2
        say "$passed passed, $skipped skipped, 1 failed"
        exit "$rc"
    fi
}

case ${1:-} in
    --stages) walk=list ;;
    '') ;;
    *) say "usage: scripts/test.sh [--stages]"; exit 2 ;;
esac
stages
if [ ${#problems[@]} -gt 0 ]; then
    for p in "${problems[@]}"; do say "$p"; done
    die "${#problems[@]} stage(s) cannot run: nothing was run"
fi
[ "$walk" = check ] || exit 0

bash scripts/bootstrap.sh --test-packages
start_envs
walk=run
stages
say "$passed passed, $skipped skipped, 0 failed"
