"""Type stubs of usid_peaks: the signatures only. The documentation is the runtime module's
docstrings (``help(usid_peaks.find)``), written once, there."""

import os
from typing import Any, Callable, Literal, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

from ._native import BusyError as BusyError, Error as Error, InputError as InputError, OutputError as OutputError

__all__: list[str]
__version__: str
SEED_WIDTHS: npt.NDArray[np.float64]

_Widths = Union[float, Sequence[float], npt.NDArray[Any]]
_Path = Union[str, "os.PathLike[str]"]
_SnrFrom = Literal["ridge_end", "ridge_max"]
_Component = Literal["abs", "real", "imag", "phase"]

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
) -> Union[npt.NDArray[np.int64], list[npt.NDArray[np.int64]]]: ...

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
) -> dict[str, Any]: ...

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
) -> dict[str, Any]: ...
