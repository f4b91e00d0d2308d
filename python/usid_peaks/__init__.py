"""scipy's ``find_peaks_cwt``, peak for peak, on whole NumPy arrays; and the usid-peaks engine on
USID HDF5 files.

* :func:`find_peaks_cwt` — a drop-in for ``scipy.signal.find_peaks_cwt``. A 1-D array gives scipy's
  peaks; a 2-D array (one spectrum per row) gives one array per row, computed on every core with
  the GIL released.
* :func:`find` — every pixel of a USID main dataset, the results group written into the file like
  the ``usid-peaks find`` command does; returns its summary.
* :func:`pixel` — one pixel's peaks, in bins and in the spectroscopic axis's units.
"""

import json
import math
import operator
import sys
import time

import numpy as np

from . import _native
from ._native import BusyError, Error, InputError, OutputError

__all__ = [
    "find_peaks_cwt",
    "find",
    "pixel",
    "Error",
    "InputError",
    "OutputError",
    "BusyError",
]
__version__ = "0.1.0"

#: The seed analysis's widths, ``np.linspace(20, 60, 30)``: the default of :func:`find` and :func:`pixel`.
SEED_WIDTHS = np.linspace(20, 60, 30)


def find_peaks_cwt(
    vector,
    widths,
    wavelet=None,
    max_distances=None,
    gap_thresh=None,
    min_length=None,
    min_snr=1,
    noise_perc=10,
    window_size=None,
    *,
    threads=None,
    snr_from="ridge_end",
):
    """Find peaks with the continuous wavelet transform, exactly as ``scipy.signal.find_peaks_cwt``.

    Parameters are scipy's, with scipy's defaults. ``vector`` may also be 2-D: each row is one
    spectrum, and the rows are computed in parallel (``threads`` threads, default every core)
    with the GIL released — the whole of pyUSID's ``parallel_compute`` in one call.

    Parameters
    ----------
    vector : array_like, 1-D or 2-D, real (bool, integer or floating point)
        One spectrum, or one spectrum per row. Complex input is refused: pass ``np.abs(x)``
        (or ``x.real``). Computed in float64, as scipy does.
    widths : float or 1-D array_like
        Wavelet widths (e.g. ``np.linspace(20, 60, 30)``); each must be > 0.
    wavelet : None
        Only the Ricker wavelet (scipy's default) is implemented; anything else raises
        ``NotImplementedError``.
    max_distances : 1-D array_like, optional
        Per width, the largest column distance for a ridge line to continue. Default ``widths / 4``.
    gap_thresh : float, optional
        Rows a ridge line may skip. Default ``ceil(widths[0])``.
    min_length : int, optional
        Fewest points a ridge line needs. Default ``ceil(len(widths) / 4)``.
    min_snr : float, optional
        Smallest signal-to-noise ratio kept. Default 1.
    noise_perc : float, optional
        Percentile (0 to 100) of the smallest-width CWT row taken as the noise floor. Default 10.
    window_size : int, optional
        Width of the noise window, in samples. Default ``ceil(len(vector) / 20)``.
    threads : int, optional
        Threads for a 2-D call (keyword only). Default: every core.
    snr_from : {"ridge_end", "ridge_max"}, optional
        The SNR's signal: scipy's rule (default) or the ridge line's largest CWT value (Du, Kibbe
        & Lin 2006). Keyword only.

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
    x = _spectra(vector)
    params = _params(widths, wavelet, max_distances, gap_thresh, min_length, min_snr, noise_perc, window_size,
                     snr_from, "abs")
    if x.ndim == 1:
        return _native.find_peaks_1d(x, params)
    return _native.find_peaks_2d(x, params, _threads(threads))


def find(
    path,
    dataset=None,
    *,
    widths=None,
    along=None,
    output=None,
    threads=None,
    max_mem_mb=1024,
    force=False,
    progress=True,
    component="abs",
    **cwt_params,
):
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
    widths : float or 1-D array_like, optional
        Wavelet widths, as for :func:`find_peaks_cwt`. Default ``np.linspace(20, 60, 30)``.
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
    component : {"abs", "real", "imag", "phase"}
        What of each (complex) value the peaks are found in. Default ``abs``, the seed's ``np.abs``.
    **cwt_params
        ``max_distances``, ``gap_thresh``, ``min_length``, ``min_snr``, ``noise_perc``,
        ``window_size``, ``snr_from``: as for :func:`find_peaks_cwt`.

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
    params = _file_params(widths, component, cwt_params)
    engine_bar, on_progress, close = _progress(progress)
    try:
        summary = _native.find(
            _path(path), params, dataset, _along(along), None if output is None else _path(output),
            _threads(threads), _positive_int(max_mem_mb, "max_mem_mb"), bool(force), engine_bar, on_progress,
        )
    finally:
        close()
    return json.loads(summary)


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


def pixel(path, row=None, col=None, dataset=None, *, index=None, widths=None, along=None, component="abs",
          **cwt_params):
    """The peaks of one pixel's spectra: the seed's "try it on one spectrum first" step.

    The pixel is (``row``, ``col``) on the position grid (the columns are the position dimension
    that varies fastest, e.g. X), or ``index``, its row in the main dataset. Parameters (``along``
    included) as for :func:`find`.

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
    params = _file_params(widths, component, cwt_params)
    if (index is None) == (row is None or col is None) or (index is not None and (row, col) != (None, None)):
        raise TypeError("pixel() takes row and col, or index=")
    idx = None if index is None else _index(index, "index")
    r = None if row is None else _index(row, "row")
    c = None if col is None else _index(col, "col")
    out = json.loads(_native.pixel(_path(path), params, dataset, r, c, idx, _along(along)))
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


def _floats(value, name):
    a = np.asarray(value)
    if np.iscomplexobj(a):
        raise TypeError(f"{name} must be real, got a complex value")
    if a.dtype.kind not in "biuf":
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be numbers, got {value!r}") from None
    return a.astype(np.float64)


def _params(widths, wavelet, max_distances, gap_thresh, min_length, min_snr, noise_perc, window_size,
            snr_from, component):
    if wavelet is not None:
        raise NotImplementedError(
            "wavelet: only the default Ricker wavelet (wavelet=None) is implemented; "
            "use scipy.signal.find_peaks_cwt for another wavelet"
        )
    w = np.atleast_1d(_floats(widths, "widths"))
    if w.ndim != 1:
        raise ValueError(f"widths must be a number or a 1-D sequence, got a {w.ndim}-D array")
    if max_distances is not None:
        md = _floats(max_distances, "max_distances")
        if md.ndim != 1:
            # scipy takes len(max_distances): a scalar fails there with a TypeError.
            raise TypeError("max_distances must be a 1-D sequence, one value per width")
        max_distances = md.tolist()
    if gap_thresh is not None:
        gap_thresh = _real(gap_thresh, "gap_thresh")
    if min_length is not None:
        # scipy keeps a ridge line when not len(line) < min_length: a float counts as its ceiling,
        # NaN keeps every line, +inf none.
        m = _real(min_length, "min_length")
        min_length = 0 if math.isnan(m) or m <= 0 else (2**62 if math.isinf(m) else math.ceil(m))
    if window_size is not None:
        # scipy takes int(window_size).
        window_size = int(_real(window_size, "window_size"))
        if window_size < 0:
            raise ValueError(f"window_size must be >= 0, got {window_size}")
    return _native.Params(w.tolist(), max_distances, gap_thresh, min_length, _real(min_snr, "min_snr"),
                          _real(noise_perc, "noise_perc"), window_size, snr_from, component)


def _file_params(widths, component, cwt_params):
    unknown = set(cwt_params) - {"max_distances", "gap_thresh", "min_length", "min_snr", "noise_perc",
                                 "window_size", "snr_from", "wavelet"}
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    kw = {"min_snr": 1, "noise_perc": 10, "snr_from": "ridge_end", **cwt_params}
    return _params(SEED_WIDTHS if widths is None else widths, kw.get("wavelet"), kw.get("max_distances"),
                   kw.get("gap_thresh"), kw.get("min_length"), kw["min_snr"], kw["noise_perc"],
                   kw.get("window_size"), kw["snr_from"], component)


def _real(value, name):
    a = np.asarray(value)
    if a.ndim != 0:
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(_floats(a, name))


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
