#!/usr/bin/env bash
# Install what usid-peaks needs to build and test, idempotently:
#   - system packages (Debian/Ubuntu): parallel HDF5 + OpenMPI, libclang for bindgen, fonts for plots;
#   - the Python reference environment (.venv) the tests compare against (scipy, pyUSID, h5py).
# Safe to run again: it only installs what is missing. Other systems: see the message at the end of
# install_system_packages.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

# The packages, by what they give us:
#   libhdf5-openmpi-dev  parallel HDF5 (mpio driver) the crate links against
#   libhdf5-dev          serial HDF5, for the build without MPI (--no-default-features)
#   openmpi-bin, libopenmpi-dev   mpirun and the MPI library rsmpi binds to
#   hdf5-tools           h5dump/h5ls, used by scripts and handy for users
#   libclang-dev, pkg-config      bindgen (rsmpi) and library discovery
#   fonts-dejavu-core    a TrueType font for the text in `usid-peaks plot` pictures
#   python3-venv         the reference environment
#   time                 GNU time: whole-process seconds and peak memory in the benchmark scripts
#   build-essential      the C compiler and linker (`cc`) rustc links with, and the C parts of
#                        libdeflater and mpi-sys
APT_PACKAGES=(libhdf5-openmpi-dev libhdf5-dev openmpi-bin libopenmpi-dev hdf5-tools libclang-dev pkg-config
              fonts-dejavu-core python3-venv time build-essential)

say() { printf 'bootstrap: %s\n' "$*" >&2; }

install_system_packages() {
    local missing=()
    if command -v dpkg-query >/dev/null 2>&1; then
        for p in "${APT_PACKAGES[@]}"; do
            dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
        done
        if [ ${#missing[@]} -eq 0 ]; then
            return 0
        fi
        say "installing system packages: ${missing[*]}"
        local sudo=()
        if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
        "${sudo[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    else
        say "not a Debian/Ubuntu system: install by hand an MPI (OpenMPI or MPICH) with its compiler"
        say "wrappers, an HDF5 built with --enable-parallel against that MPI (e.g. 'spack install"
        say "hdf5+mpi', or your site's modules; set HDF5_DIR to its prefix), libclang and pkg-config,"
        say "and Python 3 with venv. Then run this script again for the Python environment."
        command -v mpicc >/dev/null 2>&1 || { say "mpicc not found"; exit 1; }
    fi
}

install_rust_check() {
    if ! command -v cargo >/dev/null 2>&1; then
        say "cargo not found: install Rust (https://rustup.rs), then run this script again"
        exit 1
    fi
    # The crate's minimum Rust (Cargo.toml's rust-version): a distribution's packaged rustc is
    # often older, and cargo would stop only once the build starts.
    local need have
    need=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
    have=$(rustc --version | cut -d' ' -f2)
    if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
        if command -v rustup >/dev/null 2>&1; then
            say "rustc $have is older than the $need this crate needs: updating the stable toolchain"
            rustup update stable
        else
            say "rustc $have is older than the $need this crate needs: install a newer Rust (https://rustup.rs)"
            exit 1
        fi
    fi
    # The format and lint stages of scripts/test.sh need these components of the toolchain.
    if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
        if command -v rustup >/dev/null 2>&1; then
            say "adding the rustfmt and clippy components"
            rustup component add rustfmt clippy
        else
            say "cargo fmt or cargo clippy is missing: install rustfmt and clippy for your toolchain"
            exit 1
        fi
    fi
}

# The venv is rebuilt when the requirements file changes: a stamp holds the hash it was built from.
install_python_reference() {
    local req=scripts/requirements-reference.txt stamp=.venv/.requirements.sha256
    local want
    want=$(sha256sum "$req" | cut -d' ' -f1)
    if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    local py=${PYTHON:-python3}
    say "creating the Python reference environment in .venv ($($py --version 2>&1))"
    "$py" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -r "$req"
    .venv/bin/python -c 'import numpy, scipy, h5py, pyUSID' \
        || { say "the reference environment does not import; see the messages above"; exit 1; }
    echo "$want" >"$stamp"
}

install_system_packages
install_rust_check
install_python_reference
say "ready"
