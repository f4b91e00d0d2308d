"""Type stubs of usid_peaks (the runtime module holds the same documentation)."""

import os
from typing import Any, Callable, Literal, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

__all__: list[str]
__version__: str
SEED_WIDTHS: npt.NDArray[np.float64]

_Widths = Union[float, Sequence[float], npt.NDArray[Any]]
_Path = Union[str, "os.PathLike[str]"]
_SnrFrom = Literal["ridge_end", "ridge_max"]
_Component = Literal["abs", "real", "imag", "phase"]

class Error(Exception):
    """Base class of the errors usid_peaks raises for files."""

class InputError(Error):
    """The input file or dataset is missing, unreadable or not USID."""

class OutputError(Error):
    """The results cannot be written (permissions, full disk, ...)."""

class BusyError(Error):
    """Another run is writing the same file."""

def find_peaks_cwt(
    vector: npt.ArrayLike,
    widths: _Widths,
    wavelet: None = None,
    max_distances: Optional[npt.ArrayLike] = None,
    gap_thresh: Optional[float] = None,
    min_length: Optional[int] = None,
    min_snr: float = 1,
    noise_perc: float = 10,
    window_size: Optional[int] = None,
    *,
    threads: Optional[int] = None,
    snr_from: _SnrFrom = "ridge_end",
) -> Union[npt.NDArray[np.int64], list[npt.NDArray[np.int64]]]:
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

def find(
    path: _Path,
    dataset: Optional[str] = None,
    *,
    widths: Optional[_Widths] = None,
    along: Optional[str] = None,
    output: Optional[_Path] = None,
    threads: Optional[int] = None,
    max_mem_mb: int = 1024,
    force: bool = False,
    progress: Union[bool, Callable[[int, int], object]] = True,
    component: _Component = "abs",
    max_distances: Optional[npt.ArrayLike] = None,
    gap_thresh: Optional[float] = None,
    min_length: Optional[int] = None,
    min_snr: float = 1,
    noise_perc: float = 10,
    window_size: Optional[int] = None,
    snr_from: _SnrFrom = "ridge_end",
) -> dict[str, Any]:
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
        A bar (the engine's on a terminal, one in the cell in a notebook), nothing, or calls
        ``progress(done, total)``; the runtime docstring has the details.
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

def pixel(
    path: _Path,
    row: Optional[int] = None,
    col: Optional[int] = None,
    dataset: Optional[str] = None,
    *,
    index: Optional[int] = None,
    widths: Optional[_Widths] = None,
    along: Optional[str] = None,
    component: _Component = "abs",
    max_distances: Optional[npt.ArrayLike] = None,
    gap_thresh: Optional[float] = None,
    min_length: Optional[int] = None,
    min_snr: float = 1,
    noise_perc: float = 10,
    window_size: Optional[int] = None,
    snr_from: _SnrFrom = "ridge_end",
) -> dict[str, Any]:
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
