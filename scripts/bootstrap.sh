#!/usr/bin/env bash
# Install what usid-peaks needs to build and run, idempotently; with --tests also what its tests
# need: the HDF5 tools and the Python reference environment they compare against: .venv (scipy,
# pyUSID, pyNSID, sidpy, h5py, pytest, from tests/reference/requirements.txt).
#
#   scripts/bootstrap.sh [--tests]
#
# Safe to run again: it only installs what is missing. Other systems than Debian/Ubuntu: see the
# message of install_system_packages.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$repo"

tests=0
environment=1
case ${1:-} in
    --tests) tests=1 ;;
    # scripts/test.sh's: the tests' system packages; it makes .venv itself, in the background.
    --test-packages) tests=1 environment=0 ;;
    '') ;;
    *) say "usage: scripts/bootstrap.sh [--tests]"; exit 2 ;;
esac

# The packages, by what they give us:
#   libhdf5-openmpi-dev  parallel HDF5 (mpio driver) the crate links against
#   libhdf5-dev          serial HDF5, for the build without MPI (--no-default-features)
#   openmpi-bin, libopenmpi-dev   mpirun and the MPI library rsmpi binds to
#   libclang-dev, pkg-config      bindgen (rsmpi) and library discovery
#   fonts-dejavu-core    a TrueType font for the text in `usid-peaks plot` pictures
#   build-essential      the C compiler and linker (`cc`) rustc links with, and the C parts of
#                        libdeflater and mpi-sys
PROGRAM_PACKAGES=(libhdf5-openmpi-dev libhdf5-dev openmpi-bin libopenmpi-dev libclang-dev pkg-config
                  fonts-dejavu-core build-essential)
# With --tests:
#   hdf5-tools           h5diff, h5repack, h5dump: the tests compare and repack files with them
#   python3-venv         the reference environment
#   python3-dev          libpython, which the Python binding's own Rust tests link (cargo test in python/)
#   bc                   fault-inject.sh's arithmetic on times in seconds (not in a minimal Debian)
#   procps               ps: fault-inject.sh finds the processes of the run it kills (not in a
#                        minimal Debian either)
TEST_PACKAGES=(hdf5-tools python3-venv python3-dev bc procps)

install_system_packages() {
    if command -v dpkg-query >/dev/null 2>&1; then
        apt_install "$@"
    else
        say "not a Debian/Ubuntu system: install by hand an MPI (OpenMPI or MPICH) with its compiler"
        say "wrappers, an HDF5 built with --enable-parallel against that MPI (e.g. 'spack install"
        say "hdf5+mpi', or your site's modules; set HDF5_DIR to its prefix), libclang and pkg-config;"
        say "for the tests also the HDF5 tools and Python 3 with venv. Then run this script again."
        need mpicc
    fi
}

install_rust_check() {
    need cargo "install Rust (https://rustup.rs), then run this script again"
    # The crate's minimum Rust (Cargo.toml's rust-version): a distribution's packaged rustc is
    # often older, and cargo would stop only once the build starts.
    local want have
    want=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
    have=$(rustc --version | cut -d' ' -f2)
    if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" != "$want" ]; then
        command -v rustup >/dev/null 2>&1 \
            || die "rustc $have is older than the $want this crate needs: install a newer Rust (https://rustup.rs)"
        say "rustc $have is older than the $want this crate needs: updating the stable toolchain"
        rustup update stable
    fi
    # The format and lint stages of scripts/test.sh need these components of the toolchain.
    if [ "$tests" -eq 1 ] && { ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; }; then
        command -v rustup >/dev/null 2>&1 \
            || die "cargo fmt or cargo clippy is missing: install rustfmt and clippy for your toolchain"
        say "adding the rustfmt and clippy components"
        rustup component add rustfmt clippy
    fi
}

if [ "$tests" -eq 1 ]; then
    install_system_packages "${PROGRAM_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
else
    install_system_packages "${PROGRAM_PACKAGES[@]}"
fi
install_rust_check
if [ "$tests" -eq 1 ] && [ "$environment" -eq 1 ]; then
    test_env
fi
say "ready"
