"""scipy's ``find_peaks_cwt``, peak for peak, on whole NumPy arrays; and the usid-peaks engine on
USID HDF5 files.

* :func:`find_peaks_cwt` — a drop-in for ``scipy.signal.find_peaks_cwt``. A 1-D array gives scipy's
  peaks; a 2-D array (one spectrum per row) gives one array per row, computed on every core with
  the GIL released.
* :func:`find` — every pixel of a USID main dataset, the results group written into the file like
  the ``usid-peaks find`` command does; returns its summary.
* :func:`pixel` — one pixel's peaks, in bins and in the spectroscopic axis's units.
* :func:`fit_sho` — the SHO fit of every spectrum of a Band Excitation map (BGlib's model and
  guesses), the results group written as ``usid-peaks sho`` writes it; returns its summary.
* :func:`sho_fit` — the SHO fit of complex spectra in memory, as BGlib's records.
"""

import json
import operator
import sys
import time

import numpy as np

from . import _native, _signatures
from ._native import BusyError, Error, InputError, OutputError, __version__

__all__ = [
    "find_peaks_cwt",
    "find",
    "pixel",
    "fit_sho",
    "sho_fit",
    "SHO_DTYPE",
    "Error",
    "InputError",
    "OutputError",
    "BusyError",
]

#: The seed analysis's widths, ``np.linspace(20, 60, 30)``: the default of :func:`find` and :func:`pixel`.
SEED_WIDTHS = np.asarray(next(s["default"] for s in _signatures.DESCRIPTIONS["find"] if s["name"] == "widths"))


#: BGlib's SHO record (its ``sho32``: five float64 fields): what :func:`sho_fit` returns and what
#: ``Guess`` and ``Fit`` of an SHO results group hold.
SHO_DTYPE = np.dtype([(name, "<f8") for name in
                      ("Amplitude [V]", "Frequency [Hz]", "Quality Factor", "Phase [rad]", "R2 Criterion")])


def find_peaks_cwt(*args, **kwargs):
    """Find peaks with the continuous wavelet transform, exactly as ``scipy.signal.find_peaks_cwt``.

    Parameters are scipy's, with scipy's defaults. ``vector`` may also be 2-D: each row is one
    spectrum, and the rows are computed in parallel (``threads`` threads, default every core)
    with the GIL released — the whole of pyUSID's ``parallel_compute`` in one call.

    Parameters
    ----------
    vector : array_like, 1-D or 2-D, real (bool, integer or floating point)
        One spectrum, or one spectrum per row. Complex input is refused: pass ``np.abs(x)``
        (or ``x.real``). Computed in float64, as scipy does.
<parameters>
    wavelet : None
        Only the Ricker wavelet (scipy's default) is implemented; anything else raises
        ``NotImplementedError``.
    threads : int, optional
        Threads for a 2-D call (keyword only). Default: every core.

    Returns
    -------
    ndarray of int64, or list of them
        The sorted peak indices (duplicates kept, like scipy) of the spectrum, or of each row.
        scipy returns an empty *float64* array when there is no peak; this returns an empty int64
        array (``np.array_equal`` holds either way).

    Raises
    ------
    TypeError
        Complex, non-numeric or object input.
    ValueError
        A parameter scipy would refuse (no widths, a width <= 0 or NaN, too few max_distances,
        noise_perc outside [0, 100], an empty vector), or a vector of more than 2 dimensions.
    NotImplementedError
        ``wavelet`` other than None.
    """
    a = _signatures.bind("find_peaks_cwt", args, kwargs)
    x = _spectra(a["vector"])
    _no_wavelet(a["wavelet"])
    params = _signatures.keywords("find_peaks_cwt", a)
    if x.ndim == 1:
        return _native.find_peaks_1d(x, params)
    return _native.find_peaks_2d(x, params, _threads(a["threads"]))


def find(*args, **kwargs):
    """Find the peaks of every pixel of a USID main dataset and write the results group.

    The same job as the command ``usid-peaks find`` (one process, every core, no MPI): the
    results group (``<dataset>-Peak_Finding_NNN`` with ``Peak_Indices``, ``Peak_Frequencies`` and
    ``Peak_Count``) is identical to the command's. A complete group with the same parameters is
    reused unless ``force``. Ctrl-C (``KeyboardInterrupt``, or Jupyter's interrupt) stops after the
    current batch; the finished batches are in a checkpoint and the same call resumes.

    Parameters
    ----------
    path : str or os.PathLike
        The HDF5 file.
    dataset : str, optional
        The main dataset's path. Default: the file's only source dataset.
    along : str, optional
        The spectroscopic dimension a spectrum runs along, by name (e.g. ``"Frequency"`` or
        ``"DC_Offset"`` of a BEPS map), as ``usid-peaks find --along``. Default: the
        fastest-varying one. The other spectroscopic dimensions are kept: each pixel gives one
        spectrum per combination of their steps.
    output : str or os.PathLike, optional
        Write the results group into this file instead of into ``path``.
    threads : int, optional
        Threads. Default: every core.
    max_mem_mb : int
        Memory bound for the rows in flight, in MiB.
    force : bool
        Compute a new group even if a complete one with the same parameters exists.
    progress : bool or callable
        ``True``: a progress bar — the engine's own on a terminal; in a Jupyter notebook, one in
        the cell (``tqdm``'s when it is installed, else a line that updates itself); a line every
        few seconds on stderr otherwise (logs). ``False``: nothing. A callable: called as
        ``progress(done, total)`` (spectra of this run) about every 0.2 s while computing and once
        when the run has completed, instead of any bar; an exception it raises stops the run
        after the current batch (checkpointed, so the same call resumes) and is raised.
<parameters>

    Returns
    -------
    dict
        The summary of ``usid-peaks find --json``, the same fields: ``file``, ``group``,
        ``dataset``, ``pixels``, ``along``, ``spectra_per_pixel``, ``peaks`` (found over all
        spectra), ``computed``, ``resumed``, ``reused``, ``ranks``, ``nodes``, ``threads``,
        ``seconds_total``, ``seconds_compute``, ``seconds_read``, ``seconds_gather``,
        ``seconds_write`` and ``spectra_per_s``.

    Raises
    ------
    InputError, OutputError, BusyError
        The file cannot be read / written, or another run holds it.
    ValueError, TypeError, NotImplementedError
        Bad parameters, as :func:`find_peaks_cwt` raises them.
    KeyboardInterrupt
        Interrupted; progress is saved and the same call resumes.
    """
    a = _signatures.bind("find", args, kwargs)
    _no_wavelet(a["wavelet"])
    return _run("find", "find", a)


def fit_sho(*args, **kwargs):
    """Fit the simple harmonic oscillator to every spectrum of a Band Excitation map and write the
    results group, as the command ``usid-peaks sho`` does (one process, every core, no MPI).

    The model and the guesses are BGlib 0.0.6's: r(w) = A exp(i phi) w0^2 / (w^2 - i w w0 / Q - w0^2),
    w in Hz as stored along the spectra's dimension. The group ``<dataset>-SHO_Fit_NNN`` holds
    ``Guess`` and ``Fit`` (records of :data:`SHO_DTYPE`, one row per pixel, one column per spectrum
    of the pixel) as BGlib's ``BESHOfitter`` writes them; for an NSID dataset (pyNSID's), the group
    ``Log_SHO_Fit_NNN`` beside the source's group holds them as NSID datasets ``Guess/Guess`` and
    ``Fit/Fit`` over the source's SPATIAL and other axes (read them with h5py: pyNSID's reader
    takes no records). ``path``, ``dataset``, ``along``,
    ``output``, ``threads``, ``max_mem_mb``, ``force`` and ``progress`` are as for :func:`find`;
    real-valued data raise :class:`InputError`.

    Parameters
    ----------
<parameters>

    Returns
    -------
    dict
        The summary of ``usid-peaks sho --json`` (the fields of :func:`find`'s; ``peaks`` counts
        the records written, a guess and a fit per spectrum).
    """
    a = _signatures.bind("fit_sho", args, kwargs)
    return _run("sho", "fit_sho", a)


def _run(analysis, function, a):
    """The engine on a file with ``analysis`` (``"find"`` or ``"sho"``), the arguments ``a`` of
    ``function``; the summary."""
    params = _signatures.keywords(function, a)
    engine_bar, on_progress, close = _progress(a["progress"])
    output = a["output"]
    try:
        summary = _native.run(
            analysis, _path(a["path"]), params, a["dataset"], _along(a["along"]),
            None if output is None else _path(output), _threads(a["threads"]),
            _positive_int(a["max_mem_mb"], "max_mem_mb"), bool(a["force"]), engine_bar, on_progress,
        )
    finally:
        close()
    return json.loads(summary)


def sho_fit(*args, **kwargs):
    """The SHO fit of complex spectra in memory: BGlib's guess, then the least-squares fit, of
    every spectrum, on every core with the GIL released.

    Parameters
    ----------
    frequencies : array_like, 1-D
        The frequency of each bin, in Hz (finite, > 0).
    responses : array_like, complex, (..., len(frequencies))
        One spectrum per last-axis row (complex64 or complex128; computed in float64).
    threads : int, optional
        Threads (keyword only). Default: every core.
    with_guess : bool
        Also return the guesses (keyword only).
<parameters>

    Returns
    -------
    ndarray of SHO_DTYPE, shape ``responses.shape[:-1]``
        The fit of each spectrum (BGlib's fields ``Amplitude [V]``, ``Frequency [Hz]``,
        ``Quality Factor``, ``Phase [rad]``, ``R2 Criterion``); NaN where a spectrum cannot be
        fitted (NaN or inf values). With ``with_guess``: ``(guess, fit)``.
    """
    a = _signatures.bind("sho_fit", args, kwargs)
    params = _signatures.keywords("sho_fit", a)
    freqs = np.ascontiguousarray(_signatures.real_array(a["frequencies"], "frequencies"), dtype=np.float64)
    if freqs.ndim != 1:
        raise ValueError(f"sho_fit: frequencies must be 1-D, got {freqs.ndim}-D")
    r = np.asarray(a["responses"])
    if not np.iscomplexobj(r):
        raise TypeError(f"sho_fit: responses must be complex (the model is), got dtype {r.dtype}")
    if r.ndim < 1 or r.shape[-1] != freqs.size:
        raise ValueError(f"sho_fit: responses of shape {r.shape} do not end in {freqs.size} frequency bins")
    rows = np.ascontiguousarray(r.reshape(-1, freqs.size), dtype=np.complex128)
    flat = _native.sho_fit(freqs, rows, params, _threads(a["threads"]))
    records = flat.view(SHO_DTYPE).reshape(r.shape[:-1] + (2,))
    guess, fit = records[..., 0].copy(), records[..., 1].copy()
    return (guess, fit) if bool(a["with_guess"]) else fit


def _progress(progress):
    """How :func:`find` shows progress: (the engine's own bar or lines on stderr?, a callback for
    the engine's counts or None, what to call once the run has ended)."""
    if callable(progress):
        return False, progress, lambda: None
    if not progress:
        return False, None, lambda: None
    in_notebook = "ipykernel" in sys.modules and not _isatty(sys.stderr)
    if not in_notebook:
        return True, None, lambda: None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return (False, *_progress_line())
    bar = []

    def update(done, total):
        if not bar:
            bar.append(tqdm(total=total, unit=" spectra", unit_scale=True, desc="usid-peaks"))
        bar[0].update(done - bar[0].n)

    return False, update, lambda: bar and bar[0].close()


def _progress_line():
    """A progress line that rewrites itself (``\\r``), for a notebook without ``tqdm``."""
    start, shown = time.monotonic(), []

    def update(done, total):
        seconds = time.monotonic() - start
        rate = done / seconds if seconds > 0 else 0.0
        eta = f"{(total - done) / rate:.0f} s" if rate > 0 else "?"
        sys.stderr.write(
            f"\rusid-peaks: {100 * done / max(total, 1):.0f}% ({done}/{total} spectra), "
            f"{rate:.0f} spectra/s, ETA {eta}  "
        )
        sys.stderr.flush()
        shown.append(True)

    def close():
        if shown:
            sys.stderr.write("\n")
            sys.stderr.flush()

    return update, close


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def pixel(*args, **kwargs):
    """The peaks of one pixel's spectra: the seed's "try it on one spectrum first" step.

    The pixel is (``row``, ``col``) on the position grid (the columns are the position dimension
    that varies fastest, e.g. X), or ``index``, its row in the main dataset. ``path``,
    ``dataset`` and ``along`` are as for :func:`find`.

    Parameters
    ----------
<parameters>

    Returns
    -------
    dict
        What ``usid-peaks pixel --json`` prints: ``file``, ``dataset``, ``index``, ``row``,
        ``col``, ``axis`` and ``units`` (the name and units of the dimension the spectra run
        along), and, with one spectrum per pixel, ``peaks`` (int64 bins) and ``values`` (float64:
        the axis's value at each peak, e.g. Hz); with several (e.g. BEPS), ``spectra`` instead:
        one dict per spectrum with ``label`` (the other dimensions' values, e.g.
        ``"DC_Offset=-2.5 V"``), ``spectrum`` (its index in the pixel), ``peaks`` and ``values``.
    """
    a = _signatures.bind("pixel", args, kwargs)
    index, row, col = a["index"], a["row"], a["col"]
    if (index is None) == (row is None or col is None) or (index is not None and (row, col) != (None, None)):
        raise TypeError("pixel() takes row and col, or index=")
    _no_wavelet(a["wavelet"])
    params = _signatures.keywords("pixel", a)
    which = _index(index, "index") if row is None else (_index(row, "row"), _index(col, "col"))
    out = json.loads(_native.pixel(_path(a["path"]), params, which, a["dataset"], _along(a["along"])))
    # The command's JSON shape; bins and values as arrays.
    for spectrum in [out, *out.get("spectra", [])]:
        if "peaks" in spectrum:
            spectrum["peaks"] = np.asarray(spectrum["peaks"], dtype=np.int64)
            spectrum["values"] = np.asarray(spectrum["values"], dtype=np.float64)
    return out


# The arguments' conversions, scipy's way: what scipy accepts is accepted, what it refuses raises
# the same class of exception.

def _spectra(vector):
    x = np.asarray(vector)
    if np.iscomplexobj(x):
        raise TypeError(
            "find_peaks_cwt: complex input is not supported; pass np.abs(x) (the seed's choice) or x.real"
        )
    if x.dtype.kind not in "biuf":
        raise TypeError(f"find_peaks_cwt: vector must hold real numbers, got dtype {x.dtype}")
    if x.ndim not in (1, 2):
        raise ValueError(
            f"find_peaks_cwt: vector must be 1-D (one spectrum) or 2-D (one spectrum per row), got {x.ndim}-D"
        )
    return np.ascontiguousarray(x, dtype=np.float64)


def _no_wavelet(wavelet):
    if wavelet is not None:
        raise NotImplementedError(
            "wavelet: only the default Ricker wavelet (wavelet=None) is implemented; "
            "use scipy.signal.find_peaks_cwt for another wavelet"
        )


def _index(value, name):
    try:
        i = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if i < 0:
        raise ValueError(f"{name} must be >= 0, got {i}")
    return i


def _positive_int(value, name):
    i = _index(value, name)
    if i < 1:
        raise ValueError(f"{name} must be at least 1, got {i}")
    return i


def _threads(threads):
    return None if threads is None else _positive_int(threads, "threads")


def _along(along):
    if along is not None and not isinstance(along, str):
        raise TypeError(f"along must be a spectroscopic dimension's name (str), got {along!r}")
    return along


def _path(path):
    import os

    return os.fsdecode(os.fspath(path))


# The signatures and the parameters' docs come from the analysis's description (see _signatures).
for _f in (find_peaks_cwt, find, pixel, fit_sho, sho_fit):
    _f.__signature__ = _signatures.signature(_f.__name__)
    _f.__doc__ = _f.__doc__.replace("<parameters>", _signatures.parameter_docs(_f.__name__))
del _f
