"""pyUSID 0.0.12 on numpy 2, without a changed copy of pyUSID: the names it calls that numpy 2
removed, put back (as numpy 1 defined them) before pyUSID is imported.

pyUSID 0.0.12 (January 2024) is its latest release; it calls `np.product` in
`hdf_utils.write_main_dataset` (model.py) and in the dimension checks of `hdf_utils/simple.py`,
an alias of `np.prod` that numpy 2.0 removed. The fix is on pyUSID's main branch (pull request
#91, March 2025), not released. Read for every numpy-2 removal, pyUSID 0.0.12's sources call no
other, and sidpy 0.12.9 and pyNSID 0.0.7.2 none. Every reference program that imports pyUSID
imports this module first:

    import pyusid_numpy2  # noqa: F401  (before pyUSID)

With numpy 1 it changes nothing.
"""
import numpy as np

# name numpy 2 removed -> the name it was an alias of
REMOVED = {"product": "prod"}

for _old, _new in REMOVED.items():
    if not hasattr(np, _old):
        setattr(np, _old, getattr(np, _new))
