#!/usr/bin/env bash
# The self-contained wheel of the Python package: usid_peaks-VERSION-cp39-abi3-manylinux_2_28_x86_64.whl
# with HDF5 (built from source by the hdf5-metno-src crate, with gzip) linked into the module, so
# `pip install` needs nothing but Python and numpy. Then its checks:
#   - auditwheel: the manylinux_2_28 tag holds (no library outside the manylinux list, no symbol
#     version newer than glibc 2.28)
#   - the module exports no HDF5 symbol (h5py's HDF5 in the same process stays its own) and is
#     stripped; the wheel is at most 20 MB
# With --check also, on this machine: the wheel installed into a fresh venv, its results against
# the usid-peaks command's (h5diff), and the file it wrote read by this system's h5dump (Debian
# 12: HDF5 1.10).
#
# The tools (maturin, zig, cmake >= 3.26, auditwheel) come from PyPI into target/wheel-tools
# (python/requirements-wheel.txt); a Rust toolchain is the only other need. A cold build compiles
# HDF5 and every crate: many minutes on 2 cores.
#
# With --fresh RELEASE (root; trixie for Debian 13): the same checks in a fresh minimal chroot of
# RELEASE that has python3-venv and nothing else (scripts/test-fresh.sh's chroot), its results
# compared here. --no-build checks the wheel already in --out.
#
#   scripts/build-wheel.sh [--out DIR] [--check] [--fresh RELEASE] [--no-build]
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

out=$repo/target/wheels
check=
no_build=
fresh=
options "out fresh" "check no-build" "$@"
tools=$repo/target/wheel-tools
tag=manylinux_2_28
max_mb=20

reference_env "$tools" "$repo/python/requirements-wheel.txt" python3 ziglang elftools
need cargo "install Rust (scripts/bootstrap.sh)"

build() {
    mkdir -p "$out"
    rm -f "$out"/usid_peaks-*.whl
    # HDF5_DIR would make hdf5-metno-sys link that HDF5 instead of building its own.
    # The wheel's own target folder: another compiler (zig) and features than the source build's.
    (cd "$repo/python" && env -u HDF5_DIR PATH="$tools/bin:$PATH" CARGO_TARGET_DIR="$repo/target/wheel" \
        maturin build --release --strip --zig --target x86_64-unknown-linux-gnu \
        --compatibility "$tag" --features static-hdf5 --out "$out")
}

wheel_file() {
    local w
    for w in "$out"/usid_peaks-*-cp39-abi3-*.whl; do
        [ -f "$w" ] && { echo "$w"; return 0; }
    done
    die "no usid_peaks-*-cp39-abi3-*.whl in $out"
}

# The wheel's tag, size, and its module's dynamic symbols and libraries.
inspect() {
    local whl=$1 tmp so
    "$tools/bin/auditwheel" show "$whl" | tee /dev/stderr | tr -d '\n' | grep -q "${tag}_x86_64" \
        || fail "$whl is not $tag (auditwheel show, above)"
    local bytes
    bytes=$(stat -c %s "$whl")
    [ "$bytes" -le $((max_mb * 1000 * 1000)) ] || fail "$whl is $bytes bytes, over $max_mb MB"
    tmp=$(mktemp -d)
    "$tools/bin/python" -m zipfile -e "$whl" "$tmp"
    so=$(ls "$tmp"/usid_peaks/_native*.so)
    "$tools/bin/python" - "$so" <<'PY' || { rm -rf "$tmp"; fail "the module's symbols (above)"; }
import sys
from elftools.elf.elffile import ELFFile
with open(sys.argv[1], "rb") as f:
    elf = ELFFile(f)
    dyn = elf.get_section_by_name(".dynsym")
    exported = [s.name for s in dyn.iter_symbols() if s.name and s["st_shndx"] != "SHN_UNDEF"
                and s["st_info"]["bind"] != "STB_LOCAL"]
    hdf5 = [n for n in exported if n.startswith(("H5", "H5_"))]
    needed = [t.needed for t in elf.get_section_by_name(".dynamic").iter_tags() if t.entry.d_tag == "DT_NEEDED"]
    symtab = elf.get_section_by_name(".symtab")
    print(f"module: exports {exported}, needs {needed}, symtab {'present' if symtab else 'stripped'}")
    sys.exit(1 if hdf5 or symtab or any("hdf5" in n or "libz" in n for n in needed) else 0)
PY
    say "$(basename "$whl"): $bytes bytes"
    rm -rf "$tmp"
}

group=/Measurement_000/Channel_000/Raw_Data-Peak_Finding_000

# DIR: a map, the command's results on it (the references), the spectra and the command's peaks
# as NumPy files (the bare venv has no h5py), and the checks' program.
prepare() {
    local d=$1 bin=$repo/target/release/usid-peaks
    [ -x "$bin" ] || die "$bin is missing: cargo build --release first"
    "$bin" generate "$d/map.h5" --rows 24 --cols 20 --seed 3 2>/dev/null
    cp "$d/map.h5" "$d/cli.h5"
    "$bin" find "$d/cli.h5" -q
    "$bin" pixel "$d/map.h5" --pixel 5,7 --json >"$d/cli_pixel.json"
    local raw=/Measurement_000/Channel_000/Raw_Data
    h5repack -l "$raw:CHUNK=64x119" -f "$raw:SHUF" -f "$raw:GZIP=4" "$d/map.h5" "$d/gz.h5"
    "$repo/.venv/bin/python" - "$d" "$group" <<'PY' || die "cannot export the references (.venv: scripts/bootstrap.sh --tests)"
import sys, h5py, numpy as np
d, group = sys.argv[1:]
with h5py.File(f"{d}/map.h5", "r") as f:
    np.save(f"{d}/raw.npy", np.abs(f["/Measurement_000/Channel_000/Raw_Data"][:]))
with h5py.File(f"{d}/cli.h5", "r") as f:
    np.save(f"{d}/cli_indices.npy", f[group + "/Peak_Indices"][:])
PY
    cp "$repo/python/tests/wheel_check.py" "$d/"
}

# What the wheel wrote in DIR (py.h5, pixel.json) against the command's, and py.h5 read by this
# system's h5dump (Debian 12: HDF5 1.10, the oldest format reader the wheel's files must suit).
compare() {
    local d=$1 label=$2
    same_results "$d/py.h5" "$d/cli.h5" "$group" || fail "$label: find's results differ from the command's"
    same_results "$d/py_gz.h5" "$d/cli.h5" "$group" || fail "$label: find's results on the gzip map differ"
    python3 - "$d" <<'PY' || fail "$label: pixel differs from the command's"
import json, sys
d = sys.argv[1]
ours, theirs = (json.load(open(f"{d}/{n}")) for n in ("pixel.json", "cli_pixel.json"))
keys = ("index", "row", "col", "peaks", "values", "axis", "units")
sys.exit(0 if all(ours[k] == theirs[k] for k in keys) else 1)
PY
    h5dump "$d/py.h5" >/dev/null || fail "$label: $(h5dump --version) cannot read the file the wheel wrote"
    say "$label: find and pixel as the command's (h5diff); $(h5dump --version | tr -d '\n') reads the file"
}

# The wheel into a fresh venv of this machine's python3, then the checks.
check_here() {
    local whl=$1 d
    need h5dump "install hdf5-tools"
    d=$(mktemp -d)
    prepare "$d"
    python3 "$d/wheel_check.py" "$d" "$whl" || fail "here: the checks of the installed wheel failed"
    compare "$d" "here ($(python3 --version))"
    say "here: $(cat "$d/figures.json")"
    rm -rf "$d"
}

# The wheel in a fresh minimal chroot of RELEASE with python3-venv and nothing else (no HDF5, no
# compiler; test-fresh.sh's chroot binds the Rust toolchain in, which PATH leaves out here).
check_fresh() {
    local whl=$1 release=$2 root d
    [ "$(id -u)" -eq 0 ] || die "--fresh: root only (debootstrap, chroot)"
    # shellcheck source=test-fresh.sh
    . "$repo/scripts/test-fresh.sh"
    root=$(mktemp -d "${TMPDIR:-/var/tmp}/usid-wheel-$release.XXXXXX")
    chmod 755 "$root"
    # shellcheck disable=SC2064 # the path is fixed now
    trap "rc=\$?; remove_root '$root' || rc=1; exit \$rc" EXIT
    trap 'exit 130' INT TERM
    fresh_root "$release" "$root" python3-venv
    d=$root/root/check
    mkdir -p "$d"
    prepare "$d"
    cp "$whl" "$d/"
    local plain=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    # shellcheck disable=SC2016 # expanded inside the chroot
    in_root "$root" env PATH="$plain" bash -c '
        for t in cc gcc clang rustc cargo h5dump; do
            ! command -v "$t" >/dev/null || { echo "$t is installed here" >&2; exit 1; }
        done
        ! ldconfig -p | grep -q libhdf5 || { echo "an HDF5 library is installed here" >&2; exit 1; }
        python3 check/wheel_check.py /root/check /root/check/"$0"' "$(basename "$whl")" \
        || fail "$release: the checks of the installed wheel failed"
    compare "$d" "$release ($(chroot "$root" python3 --version))"
    say "$release: $(cat "$d/figures.json")"
}

[ -n "$no_build" ] || build
whl=$(wheel_file)
inspect "$whl"
[ -z "$check" ] || check_here "$whl"
[ -z "${fresh:-}" ] || check_fresh "$whl" "$fresh"
say "built $whl"
