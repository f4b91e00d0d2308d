"""The Rust half of usid_peaks (private: call the functions of usid_peaks instead)."""

from typing import Callable, Optional

import numpy as np
import numpy.typing as npt

class Params:
    def __init__(
        self,
        widths: list[float],
        max_distances: Optional[list[float]],
        gap_thresh: Optional[float],
        min_length: Optional[int],
        min_snr: float,
        noise_perc: float,
        window_size: Optional[int],
        snr_from: str,
        component: str,
    ) -> None: ...

def find_peaks_1d(vector: npt.NDArray[np.float64], params: Params) -> npt.NDArray[np.int64]: ...
def find_peaks_2d(
    matrix: npt.NDArray[np.float64], params: Params, threads: Optional[int] = None
) -> list[npt.NDArray[np.int64]]: ...
def find(
    path: str,
    params: Params,
    dataset: Optional[str] = None,
    along: Optional[str] = None,
    output: Optional[str] = None,
    threads: Optional[int] = None,
    max_mem_mb: int = 1024,
    force: bool = False,
    progress: bool = True,
    on_progress: Optional[Callable[[int, int], object]] = None,
) -> str: ...
def pixel(
    path: str,
    params: Params,
    dataset: Optional[str] = None,
    row: Optional[int] = None,
    col: Optional[int] = None,
    index: Optional[int] = None,
    along: Optional[str] = None,
) -> tuple[
    str, int, int, int, str, str, int, list[tuple[str, int, npt.NDArray[np.int64], list[float]]]
]: ...

class Error(Exception): ...
class InputError(Error): ...
class OutputError(Error): ...
class BusyError(Error): ...
