"""Type stubs of usid_peaks: the signatures only. The documentation is the runtime module's
docstrings (``help(usid_peaks.find)``)."""

import os
from typing import Any, Callable, Literal, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

from ._native import BusyError as BusyError, Error as Error, InputError as InputError, OutputError as OutputError

__all__: list[str]
__version__: str
SEED_WIDTHS: npt.NDArray[np.float64]
SHO_DTYPE: np.dtype[np.void]

_Widths = Union[float, Sequence[float], npt.NDArray[Any]]
_Path = Union[str, "os.PathLike[str]"]

# Made by python -m usid_peaks._stubs from the parameter descriptions; edit those, not below.

def find_peaks_cwt(
    vector: npt.ArrayLike,
    widths: _Widths,
    wavelet: None = None,
    max_distances: Optional[npt.ArrayLike] = None,
    gap_thresh: Optional[float] = None,
    min_length: Optional[int] = None,
    min_snr: float = 1.0,
    noise_perc: float = 10.0,
    window_size: Optional[int] = None,
    *,
    threads: Optional[int] = None,
    snr_from: Literal["ridge_end", "ridge_max"] = "ridge_end",
) -> Union[npt.NDArray[np.int64], list[npt.NDArray[np.int64]]]: ...

def find(
    path: _Path,
    dataset: Optional[str] = None,
    *,
    along: Optional[str] = None,
    output: Optional[_Path] = None,
    threads: Optional[int] = None,
    max_mem_mb: int = 1024,
    force: bool = False,
    progress: Union[bool, Callable[[int, int], object]] = True,
    wavelet: None = None,
    component: Literal["abs", "real", "imag", "phase"] = "abs",
    widths: Optional[_Widths] = None,
    max_distances: Optional[npt.ArrayLike] = None,
    gap_thresh: Optional[float] = None,
    min_length: Optional[int] = None,
    min_snr: float = 1.0,
    noise_perc: float = 10.0,
    window_size: Optional[int] = None,
    snr_from: Literal["ridge_end", "ridge_max"] = "ridge_end",
) -> dict[str, Any]: ...

def pixel(
    path: _Path,
    row: Optional[int] = None,
    col: Optional[int] = None,
    dataset: Optional[str] = None,
    *,
    index: Optional[int] = None,
    along: Optional[str] = None,
    wavelet: None = None,
    component: Literal["abs", "real", "imag", "phase"] = "abs",
    widths: Optional[_Widths] = None,
    max_distances: Optional[npt.ArrayLike] = None,
    gap_thresh: Optional[float] = None,
    min_length: Optional[int] = None,
    min_snr: float = 1.0,
    noise_perc: float = 10.0,
    window_size: Optional[int] = None,
    snr_from: Literal["ridge_end", "ridge_max"] = "ridge_end",
) -> dict[str, Any]: ...

def fit_sho(
    path: _Path,
    dataset: Optional[str] = None,
    *,
    along: Optional[str] = None,
    output: Optional[_Path] = None,
    threads: Optional[int] = None,
    max_mem_mb: int = 1024,
    force: bool = False,
    progress: Union[bool, Callable[[int, int], object]] = True,
    guess: Literal["complex_gaussian", "wavelet_peaks"] = "complex_gaussian",
    num_points: int = 5,
    peak_widths: Optional[_Widths] = None,
    max_iterations: int = 100,
    ftol: float = 1e-10,
    xtol: float = 1e-10,
    frequency_bound: Literal["band", "free"] = "band",
) -> dict[str, Any]: ...

def sho_fit(
    frequencies: npt.ArrayLike,
    responses: npt.ArrayLike,
    *,
    threads: Optional[int] = None,
    with_guess: bool = False,
    guess: Literal["complex_gaussian", "wavelet_peaks"] = "complex_gaussian",
    num_points: int = 5,
    peak_widths: Optional[_Widths] = None,
    max_iterations: int = 100,
    ftol: float = 1e-10,
    xtol: float = 1e-10,
    frequency_bound: Literal["band", "free"] = "band",
) -> Union[npt.NDArray[np.void], tuple[npt.NDArray[np.void], npt.NDArray[np.void]]]: ...
