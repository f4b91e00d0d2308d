#!/usr/bin/env bash
# The main job on the built-in default data, from a fresh machine: install what is missing, build,
# generate the default Band Excitation PFM map (128 x 128 pixels x 119 bins, complex64), find the
# peaks of every pixel with 2 MPI ranks (one process where mpirun is missing), and print pixel
# (103, 19)'s peaks — the seed's example, end to end. No Python is needed.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
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

launch=()
if command -v mpirun >/dev/null 2>&1; then
    # Oversubscribed: a 2-core laptop may count fewer free slots than 2.
    mpirun_cmd
    launch=("${MPIRUN_LINE[@]}" -np 2)
else
    say "mpirun not found; running as one process with all cores"
fi
"${launch[@]}" "$bin" find "$data"

"$bin" pixel "$data" --pixel 103,19
"$bin" plot "$data" --pixel 103,19 -o data/pixel_103_19.png
"$bin" plot "$data" --map -o data/peak_map.png
say "pictures in data/pixel_103_19.png and data/peak_map.png"
