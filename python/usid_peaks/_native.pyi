"""The Rust half of usid_peaks (private: call the functions of usid_peaks instead). The analysis's
keywords travel by name in ``params``, checked in Rust against its description (``describe``)."""

from typing import Any, Callable, Literal, Optional, Union

import numpy as np
import numpy.typing as npt

def describe() -> dict[str, list[dict[str, Any]]]: ...
def find_peaks_1d(vector: npt.NDArray[np.float64], params: dict[str, Any]) -> npt.NDArray[np.int64]: ...
def find_peaks_2d(
    matrix: npt.NDArray[np.float64], params: dict[str, Any], threads: Optional[int] = None
) -> list[npt.NDArray[np.int64]]: ...
def run(
    analysis: Literal["find", "sho"],
    path: str,
    params: dict[str, Any],
    dataset: Optional[str] = None,
    along: Optional[str] = None,
    output: Optional[str] = None,
    threads: Optional[int] = None,
    max_mem_mb: int = 1024,
    force: bool = False,
    progress: bool = True,
    on_progress: Optional[Callable[[int, int], object]] = None,
) -> str: ...
def sho_fit(
    frequencies: npt.NDArray[np.float64],
    responses: npt.NDArray[np.complex128],
    params: dict[str, Any],
    threads: Optional[int] = None,
) -> npt.NDArray[np.float64]: ...
def pixel(
    path: str,
    params: dict[str, Any],
    pixel: Union[int, tuple[int, int]],
    dataset: Optional[str] = None,
    along: Optional[str] = None,
) -> str: ...

__version__: str
hdf5_version: str
hdf5_built_version: str

class Error(Exception): ...
class InputError(Error): ...
class OutputError(Error): ...
class BusyError(Error): ...
