"""The signatures of usid_peaks's functions, made from the analysis's parameter description that
the Rust half hands over (``_native.describe()``): one making for the runtime signatures
(``inspect.signature``, ``help``), the docstrings' parameter lists, the keyword conversions and the
committed type stubs (``python -m usid_peaks._stubs``). A parameter is defined once, in Rust; the
front end's own arguments (files, threads, progress) are listed here."""

import inspect
import math

import numpy as np

from . import _native

#: Per function, the analysis's parameters as the Rust half describes them (dicts with ``name``,
#: ``kind``, ``choices``, ``choice_help``, ``default``, ``default_text``, ``help``, ``scipy``).
DESCRIPTIONS = _native.describe()

REQUIRED = inspect.Parameter.empty
_POS = inspect.Parameter.POSITIONAL_OR_KEYWORD
_KW = inspect.Parameter.KEYWORD_ONLY


class Arg:
    """One argument of a Python function: its name, whether it is keyword-only, its default
    (``REQUIRED`` for none), its annotation for the stubs, and its description when it is one of
    the analysis's parameters."""

    def __init__(self, name, annotation, default=REQUIRED, keyword=False, spec=None):
        self.name, self.annotation, self.default, self.keyword, self.spec = name, annotation, default, keyword, spec

    def parameter(self):
        return inspect.Parameter(self.name, _KW if self.keyword else _POS, default=self.default)


_ANNOTATIONS = {"float": "float", "count": "int", "size": "int", "floats": "npt.ArrayLike", "widths": "_Widths"}


def _annotation(spec):
    if spec["kind"] == "choice":
        return "Literal[" + ", ".join(f'"{c}"' for c in spec["choices"]) + "]"
    return _ANNOTATIONS[spec["kind"]]


def _analysis_arg(spec, keyword):
    """The argument of one parameter: its scalar default where it has one, else ``None``
    (the Rust half then takes the described default)."""
    annotation = _annotation(spec)
    if spec["default"] is not None and spec["kind"] not in ("floats", "widths"):
        return Arg(spec["name"], annotation, spec["default"], keyword, spec)
    return Arg(spec["name"], f"Optional[{annotation}]", None, keyword, spec)


def _find_peaks_cwt():
    """scipy's signature: vector, its required parameters, wavelet, its other parameters by
    position; then keyword-only threads and the parameters scipy does not have."""
    specs = DESCRIPTIONS["find_peaks_cwt"]
    args = [Arg("vector", "npt.ArrayLike")]
    args += [Arg(s["name"], _annotation(s), spec=s) for s in specs if s["scipy"] == "required"]
    args.append(Arg("wavelet", "None", None))
    args += [_analysis_arg(s, keyword=False) for s in specs if s["scipy"] == "positional"]
    args.append(Arg("threads", "Optional[int]", None, keyword=True))
    args += [_analysis_arg(s, keyword=True) for s in specs if s["scipy"] == "no"]
    return args


def _file_args(function, front):
    """A file function's arguments: its own (``front``), ``wavelet`` (only None, as scipy's
    default), then every parameter of the analysis, keyword-only."""
    return _with_params(function, front + [Arg("wavelet", "None", None, keyword=True)])


def _with_params(function, front):
    """A function's own arguments (``front``), then every parameter of its analysis, keyword-only."""
    return front + [_analysis_arg(s, keyword=True) for s in DESCRIPTIONS[function]]


#: The arguments of a run over a whole file (``find``, ``fit_sho``) before the analysis's.
_RUN_ARGS = [
    Arg("path", "_Path"),
    Arg("dataset", "Optional[str]", None),
    Arg("along", "Optional[str]", None, keyword=True),
    Arg("output", "Optional[_Path]", None, keyword=True),
    Arg("threads", "Optional[int]", None, keyword=True),
    Arg("max_mem_mb", "int", 1024, keyword=True),
    Arg("force", "bool", False, keyword=True),
    Arg("progress", "Union[bool, Callable[[int, int], object]]", True, keyword=True),
]

#: The arguments of each function, in order, and what it returns (for the stubs).
FUNCTIONS = {
    "find_peaks_cwt": (_find_peaks_cwt(), "Union[npt.NDArray[np.int64], list[npt.NDArray[np.int64]]]"),
    "find": (_file_args("find", _RUN_ARGS), "dict[str, Any]"),
    "pixel": (
        _file_args("pixel", [
            Arg("path", "_Path"),
            Arg("row", "Optional[int]", None),
            Arg("col", "Optional[int]", None),
            Arg("dataset", "Optional[str]", None),
            Arg("index", "Optional[int]", None, keyword=True),
            Arg("along", "Optional[str]", None, keyword=True),
        ]),
        "dict[str, Any]",
    ),
    "fit_sho": (_with_params("fit_sho", _RUN_ARGS), "dict[str, Any]"),
    "sho_fit": (
        _with_params("sho_fit", [
            Arg("frequencies", "npt.ArrayLike"),
            Arg("responses", "npt.ArrayLike"),
            Arg("threads", "Optional[int]", None, keyword=True),
            Arg("with_guess", "bool", False, keyword=True),
        ]),
        "Union[npt.NDArray[np.void], tuple[npt.NDArray[np.void], npt.NDArray[np.void]]]",
    ),
}


#: The runtime signatures, made once: every call binds its arguments against one (made anew at
#: each call, it took a fifth of a 1-D ``find_peaks_cwt`` call on a 119-point spectrum).
_SIGNATURES = {name: inspect.Signature([a.parameter() for a in args]) for name, (args, _) in FUNCTIONS.items()}


def signature(function):
    """The runtime signature of ``function``."""
    return _SIGNATURES[function]


def bind(function, args, kwargs):
    """The call's arguments by name, defaults filled in; a call the signature refuses raises
    ``TypeError`` as Python would."""
    bound = _SIGNATURES[function].bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


# The keyword conversions by kind, scipy's way: what scipy accepts is accepted, what it refuses
# raises the same class of exception. The Rust half then checks each value against its parameter.

def real_array(value, name):
    """Real numbers of any shape as float64 (complex refused with ``TypeError``)."""
    a = np.asarray(value)
    if np.iscomplexobj(a):
        raise TypeError(f"{name} must be real, got a complex value")
    if a.dtype.kind not in "biuf":
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be numbers, got {value!r}") from None
    return a.astype(np.float64)


def real(value, name):
    """A real scalar as float."""
    a = np.asarray(value)
    if a.ndim != 0:
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(real_array(a, name))


def _count(value, name):
    # scipy keeps a ridge line when not len(line) < min_length: a float counts as its ceiling,
    # NaN keeps every line, +inf none.
    m = real(value, name)
    return 0 if math.isnan(m) or m <= 0 else (2**62 if math.isinf(m) else math.ceil(m))


def _size(value, name):
    # scipy takes int(window_size).
    n = int(real(value, name))
    if n < 0:
        raise ValueError(f"{name} must be >= 0, got {n}")
    return n


def _floats(value, name):
    a = real_array(value, name)
    if a.ndim != 1:
        # scipy takes len(max_distances): a scalar fails there with a TypeError.
        raise TypeError(f"{name} must be a 1-D sequence")
    return a.tolist()


def _widths(value, name):
    a = np.atleast_1d(real_array(value, name))
    if a.ndim != 1:
        raise ValueError(f"{name} must be a number or a 1-D sequence, got a {a.ndim}-D array")
    return a.tolist()


_CONVERT = {"float": real, "count": _count, "size": _size, "floats": _floats, "widths": _widths,
            "choice": lambda value, name: value}


def keywords(function, arguments):
    """The analysis's keywords of a call (its ``bind``-ed ``arguments``), converted by kind, for
    the Rust half; ``None`` means the described default and is left out."""
    out = {}
    for spec in DESCRIPTIONS[function]:
        value = arguments.get(spec["name"])
        if value is not None:
            out[spec["name"]] = _CONVERT[spec["kind"]](value, spec["name"])
    return out


# The docstrings' entries of the analysis's parameters.

_TYPES = {"float": "float", "count": "int", "size": "int", "floats": "1-D array_like",
          "widths": "float or 1-D array_like"}


def _default_text(spec):
    text = spec["default_text"]
    if spec["default"] is None:
        return text  # how it is derived
    if spec["kind"] == "choice":
        return f'"{spec["default"]}"'
    if spec["kind"] == "widths" and text.count(":") == 2:
        return "np.linspace({}, {}, {})".format(*text.split(":"))
    return text


def _doc_entry(arg):
    spec = arg.spec
    kind = spec["kind"]
    type_ = "{" + ", ".join(f'"{c}"' for c in spec["choices"]) + "}" if kind == "choice" else _TYPES[kind]
    lines = [f"    {arg.name} : {type_}" + ("" if arg.default is REQUIRED else ", optional"),
             f"        {spec['help']}."]
    if arg.default is not REQUIRED:
        lines[-1] += f" Default {_default_text(spec)}."
    lines += [f'        ``"{c}"``: {h}.' for c, h in zip(spec["choices"], spec["choice_help"])]
    return "\n".join(lines)


def parameter_docs(function):
    """The numpydoc entries of the analysis's parameters of ``function``, in order."""
    return "\n".join(_doc_entry(a) for a in FUNCTIONS[function][0] if a.spec is not None)
