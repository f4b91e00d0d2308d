"""usid_peaks.fit_sho and usid_peaks.sho_fit: the SHO fit from Python against the usid-peaks
command (the same Guess and Fit records as `usid-peaks sho` writes, read with h5py), in memory
the same records bit for bit, BGlib's fields, and bad arguments raising Python's exceptions.

Needs the command (`cargo build --release` makes target/release/usid-peaks; USID_PEAKS_BIN
overrides)."""

import json

import h5py
import numpy as np
import pytest

import usid_peaks
from test_files import RAW, cli, generate

FIELDS = ("Amplitude [V]", "Frequency [Hz]", "Quality Factor", "Phase [rad]", "R2 Criterion")


@pytest.fixture(scope="module")
def beps(tmp_path_factory):
    path = tmp_path_factory.mktemp("sho") / "beps.h5"
    cli("generate", path, "--rows", 5, "--cols", 4, "--seed", 7, "--spec-dims", "Frequency:119,DC_Offset:3")
    return path


def records(path, group):
    with h5py.File(path, "r") as f:
        return f[group + "/Guess"][()], f[group + "/Fit"][()]


def spectra(path):
    """The map's spectra (pixels x DC steps, bins) and frequency axis (Frequency fastest)."""
    with h5py.File(path, "r") as f:
        raw = f[RAW][()]
        values = f["/Measurement_000/Channel_000/Spectroscopic_Values"]
        row = [bytes(n).decode() if not isinstance(n, str) else n for n in values.attrs["labels"]].index("Frequency")
        freqs = values[row, :119].astype(np.float64)
    return raw.reshape(raw.shape[0], -1, 119), freqs


def test_fit_sho_writes_the_commands_records_and_sho_fit_gives_them_in_memory(beps, tmp_path):
    summary = usid_peaks.fit_sho(beps, output=tmp_path / "py.h5", progress=False, threads=2)
    ours = json.loads(cli("sho", beps, "-q", "--json", "-o", tmp_path / "cli.h5"))
    assert summary["group"] == ours["group"] == RAW + "-SHO_Fit_000"
    guess, fit = records(tmp_path / "py.h5", summary["group"])
    assert fit.dtype == usid_peaks.SHO_DTYPE and fit.dtype.names == FIELDS
    for a, b in zip((guess, fit), records(tmp_path / "cli.h5", ours["group"])):
        assert a.tobytes() == b.tobytes()
    x, freqs = spectra(beps)
    g, f = usid_peaks.sho_fit(freqs, x, with_guess=True, threads=3)
    assert f.shape == (20, 3) and f.dtype == usid_peaks.SHO_DTYPE
    assert g.tobytes() == guess.tobytes() and f.tobytes() == fit.tobytes()
    assert np.mean(f["R2 Criterion"] > 0.9) > 0.5, "the map's spectra are resonances"
    assert usid_peaks.sho_fit(freqs, x[0, 0]).shape == ()


def test_parameters_come_from_the_description_and_reach_the_fit(beps):
    x, freqs = spectra(beps)
    default = b"".join(r.tobytes() for r in usid_peaks.sho_fit(freqs, x[:2], with_guess=True))
    # Each keyword on its own, so that one the fit ignored would fail.
    for keywords in ({"max_iterations": 1}, {"guess": "wavelet_peaks"}, {"num_points": 3}):
        given = usid_peaks.sho_fit(freqs, x[:2], with_guess=True, **keywords)
        assert b"".join(r.tobytes() for r in given) != default, keywords
    sig = __import__("inspect").signature(usid_peaks.sho_fit)
    assert list(sig.parameters)[:4] == ["frequencies", "responses", "threads", "with_guess"]
    assert sig.parameters["num_points"].default == 5
    assert "num_points" in usid_peaks.fit_sho.__doc__


def test_bad_arguments_raise_pythons_exceptions(beps, tmp_path):
    x, freqs = spectra(beps)
    with pytest.raises(TypeError, match="complex"):
        usid_peaks.sho_fit(freqs, np.abs(x))
    with pytest.raises(ValueError, match="frequency bins"):
        usid_peaks.sho_fit(freqs[:-1], x)
    with pytest.raises(ValueError, match="num_points"):
        usid_peaks.sho_fit(freqs, x, num_points=1)
    with pytest.raises(ValueError, match="guess"):
        usid_peaks.sho_fit(freqs, x, guess="nearest")
    with pytest.raises(ValueError, match="finite and > 0"):
        usid_peaks.sho_fit(-freqs, x)
    with pytest.raises(TypeError):
        usid_peaks.sho_fit(freqs, x, bogus=1)
    real = tmp_path / "real.h5"
    with h5py.File(real, "w"):
        pass
    generate(real, 2, 2, 1)
    with h5py.File(real, "r+") as f:
        data = np.abs(f[RAW][()]).astype(np.float32)
        attrs = dict(f[RAW].attrs)
        del f[RAW]
        f[RAW] = data
        for k, v in attrs.items():
            f[RAW].attrs[k] = v
    with pytest.raises(usid_peaks.InputError, match="complex spectra only"):
        usid_peaks.fit_sho(real, progress=False)
