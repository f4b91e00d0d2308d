"""usid_peaks.find, usid_peaks.pixel and usid_peaks.fit_sho on NSID files written by pyNSID
itself (tests/reference/nsid_write.py): every spectrum's peaks equal scipy's, the results read
back through pyNSID's reader with the source's dimension names and units, pixel() gives, at
each pixel, scipy's peaks of that pixel's spectrum (the last SPATIAL axis is the columns), and
fit_sho() writes, for every spectrum, the records sho_fit() gives in memory."""

import subprocess
import sys
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from reference import Tally

import usid_peaks

warnings.simplefilter("ignore")  # sidpy/pyNSID/dask warn about future defaults
from pyNSID.io.hdf_utils import read_h5py_dataset  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
RAW = "/Measurement_000/Channel_000/Raw_Data/Raw_Data"
LOG = "/Measurement_000/Channel_000/Log_Peak_Finding_000"
WIDTHS = np.linspace(20, 60, 30)

# (case, along): a 3-D complex map, its spatial axes stored x before y, and a 4-D BEPS map
# along Frequency (the DC steps kept as a dimension of the results).
CASES = [("complex3d", "Frequency"), ("xy_order", "Frequency"), ("beps4d", "Frequency")]


@pytest.fixture(scope="module")
def maps(tmp_path_factory):
    out = tmp_path_factory.mktemp("nsid")
    names = [c for c, _ in CASES]
    names.append("complex4d")
    done = subprocess.run([sys.executable, str(REPO / "tests/reference/nsid_write.py"), str(out), *names],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return out


def axes(h5_dset):
    """pyNSID's view of a dataset: (name, units, dimension type name) of each axis."""
    ds = read_h5py_dataset(h5_dset)
    return [(ds._axes[i].name, ds._axes[i].units, getattr(ds._axes[i].dimension_type, "name", ""))
            for i in range(ds.ndim)]


def spectra(path, along):
    """Every spectrum of the source as scipy gets it: |z| rows, positions (SPATIAL axes in
    storage order) slowest, then the other axes, as the results store them; and the source's
    axes as pyNSID reads them."""
    with h5py.File(path, "r") as f:
        dims = axes(f[RAW])
        data = f[RAW][()]
    names = [d[0] for d in dims]
    spatial = [i for i, d in enumerate(dims) if d[2] == "SPATIAL"]
    a = names.index(along)
    others = [i for i in range(data.ndim) if i not in spatial and i != a]
    rows = np.transpose(data, spatial + others + [a]).reshape(-1, data.shape[a])
    return np.abs(rows).astype(np.float64), dims, spatial, others


@pytest.mark.parametrize("case,along", CASES)
def test_find_on_a_pynsid_file_gives_scipys_peaks_in_results_pynsid_reads(maps, case, along, tmp_path):
    path = tmp_path / f"{case}.h5"
    path.write_bytes((maps / f"{case}.h5").read_bytes())
    summary = usid_peaks.find(path, along=along, progress=False, threads=2)
    assert summary["group"] == LOG and summary["dataset"] == RAW, summary
    rows, dims, spatial, others = spectra(path, along)
    with h5py.File(path, "r") as f:
        ours = f[f"{LOG}/Peak_Indices/Peak_Indices"][()]
        counts = f[f"{LOG}/Peak_Count/Peak_Count"][()]
        assert ours.dtype == np.int32 and counts.dtype == np.uint32
        got_dims = {n: axes(f[f"{LOG}/{n}/{n}"]) for n in ("Peak_Count", "Peak_Indices", "Peak_Frequencies")}
        freq_units = read_h5py_dataset(f[f"{LOG}/Peak_Frequencies/Peak_Frequencies"]).units
        axes(f[RAW])  # the source still reads with pyNSID beside its results
    kept = [dims[i][:2] for i in spatial + others]
    assert [d[:2] for d in got_dims["Peak_Count"]] == kept
    assert [d[:2] for d in got_dims["Peak_Indices"]] == kept + [("Peak", "a.u.")]
    assert freq_units == "Hz"
    ours = ours.reshape(-1, ours.shape[-1])
    assert len(ours) == len(rows) == counts.size
    tally = Tally()
    for i, (row, peaks, count) in enumerate(zip(rows, ours, counts.reshape(-1))):
        found = peaks[peaks >= 0].astype(np.int64)
        assert count == len(found), f"{case} spectrum {i}"
        tally.check(found, row, WIDTHS, {}, f"{case} spectrum {i}")
    tally.assert_rare()


@pytest.mark.parametrize("case,along", CASES)
def test_pixel_on_a_pynsid_file_gives_scipys_peaks_of_that_pixel(maps, case, along):
    path = maps / f"{case}.h5"
    rows, dims, spatial, others = spectra(path, along)
    with h5py.File(path, "r") as f:
        shape = f[RAW].shape
    n_cols = shape[spatial[-1]]
    per_pixel = int(np.prod([shape[i] for i in others]))
    n_pixels = len(rows) // per_pixel
    tally = Tally()
    for p in range(0, n_pixels, 3):
        got = usid_peaks.pixel(path, p // n_cols, p % n_cols, along=along)
        assert got["axis"] == along and got["units"] == "Hz", got
        spectra_got = [got] if per_pixel == 1 else got["spectra"]
        assert len(spectra_got) == per_pixel
        for s, one in enumerate(spectra_got):
            tally.check(np.asarray(one["peaks"], dtype=np.int64), rows[p * per_pixel + s], WIDTHS, {},
                        f"{case} pixel {p} spectrum {s}")
    tally.assert_rare()


def test_fit_sho_on_a_pynsid_beps_map_writes_sho_fits_records_over_the_sources_dims(maps, tmp_path):
    path = tmp_path / "complex4d.h5"
    path.write_bytes((maps / "complex4d.h5").read_bytes())
    summary = usid_peaks.fit_sho(path, along="Frequency", progress=False, threads=2)
    group = "/Measurement_000/Channel_000/Log_SHO_Fit_000"
    assert summary["group"] == group and summary["dataset"] == RAW, summary
    with h5py.File(path, "r") as f:
        guess, fit = f[f"{group}/Guess/Guess"][()], f[f"{group}/Fit/Fit"][()]
        labels = [d.label for d in f[f"{group}/Fit/Fit"].dims]
        freqs = f["/Measurement_000/Channel_000/Raw_Data/Frequency"][()]
        data = f[RAW][()]
    assert fit.dtype == usid_peaks.SHO_DTYPE and fit.shape == guess.shape == (3, 4, 3)
    assert labels == ["y", "x", "DC_Offset"]
    # (y, x, Frequency, DC_Offset) -> (y, x, DC_Offset, Frequency): one spectrum per record.
    g, f_ = usid_peaks.sho_fit(freqs, np.moveaxis(data, 2, 3), with_guess=True, threads=3)
    assert g.tobytes() == guess.tobytes() and f_.tobytes() == fit.tobytes()
    assert np.mean(fit["R2 Criterion"] > 0.5) > 0.5, "the map's spectra are resonances"
    with h5py.File(path, "r") as f:
        axes(f[RAW])  # the source still reads with pyNSID beside its results
