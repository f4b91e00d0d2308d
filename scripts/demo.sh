#!/usr/bin/env bash
# The main job on the built-in default data, from a fresh machine: install what is missing, build,
# generate the default Band Excitation PFM map (128 x 128 pixels x 119 bins, complex64), find the
# peaks of every pixel with 2 MPI ranks (one process where mpirun is missing), and print pixel
# (103, 19)'s peaks — the seed's example, end to end.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

bash scripts/bootstrap.sh
cargo build --release --quiet
bin=target/release/usid-peaks
data=data/BELine_synthetic.h5
mkdir -p data

if [ ! -f "$data" ]; then
    "$bin" generate "$data"
fi
"$bin" inspect "$data"

mpi=()
if command -v mpirun >/dev/null 2>&1; then
    mpi=(mpirun -np 2)
    # OpenMPI refuses root without these, and a 2-core laptop may count fewer free slots.
    if [ "$(id -u)" -eq 0 ]; then mpi+=(--allow-run-as-root); fi
    mpi+=(--oversubscribe)
else
    echo "demo: mpirun not found; running as one process with all cores" >&2
fi
"${mpi[@]}" "$bin" find "$data"

"$bin" pixel "$data" --pixel 103,19
if "$bin" plot --help >/dev/null 2>&1; then
    "$bin" plot "$data" --pixel 103,19 -o data/pixel_103_19.png
    "$bin" plot "$data" --map -o data/peak_map.png
    echo "demo: pictures in data/pixel_103_19.png and data/peak_map.png" >&2
fi
