#!/usr/bin/env python3
"""What scripts/fault-inject.sh checks in a map after a kill: one line of key=value pairs.

    tests/reference/fault_check.py FILE [PIXELS]

FILE is a map (results beside its Raw_Data) or an `--output` results file (results at the same
group path, no Raw_Data); PIXELS, the map's pixel count, is needed for the latter.
raw=SHA256 of the Raw_Data dataset's bytes (as h5py reads them), absent when the file has none,
or ERROR:<why> when the file does not open; groups=number of Peak_Finding results groups; incomplete=groups whose
completed_positions is not all 1 or whose Peak_Indices has not one row per pixel; peaks=SHA256 of
the newest group's Peak_Indices (- when there is none). Exit 0 even when the file is damaged: the
caller judges.
"""
import hashlib
import sys

import h5py
import numpy as np

RAW = "Measurement_000/Channel_000/Raw_Data"
PARENT = "Measurement_000/Channel_000"


def main():
    path = sys.argv[1]
    try:
        f = h5py.File(path, "r")
    except Exception as e:  # any failure to open is the finding
        print(f"raw=ERROR:{type(e).__name__} groups=0 incomplete=0 peaks=-")
        return
    with f:
        if RAW in f:
            raw = f[RAW]
            digest = hashlib.sha256(np.ascontiguousarray(raw[()]).tobytes()).hexdigest()
            pixels = raw.shape[0]
        else:  # an --output file: only results, at the map's group path
            digest, pixels = "absent", int(sys.argv[2])
        parent = f[PARENT] if PARENT in f else f
        names = sorted(n for n in parent if n.startswith("Raw_Data-Peak_Finding_"))
        incomplete = 0
        for n in names:
            g = parent[n]
            ok = ("completed_positions" in g and "Peak_Indices" in g
                  and bool(np.all(g["completed_positions"][()] == 1))
                  and g["Peak_Indices"].shape[0] == pixels)
            incomplete += not ok
        peaks = "-"
        if names and "Peak_Indices" in parent[names[-1]]:
            peaks = hashlib.sha256(parent[names[-1]]["Peak_Indices"][()].tobytes()).hexdigest()
    print(f"raw={digest} groups={len(names)} incomplete={incomplete} peaks={peaks}")


if __name__ == "__main__":
    main()
