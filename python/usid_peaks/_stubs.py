"""Write the signatures in usid_peaks's type stubs (``__init__.pyi``, below its marker line) from
the signatures the package makes of the analysis's parameter description, so that a parameter
defined in Rust shows in editors too.

    python -m usid_peaks._stubs python/usid_peaks/__init__.pyi          # write
    python -m usid_peaks._stubs --check python/usid_peaks/__init__.pyi  # exit 1 if stale

The test suite runs the check: committed stubs that do not match the description fail it."""

import sys

from ._signatures import FUNCTIONS, REQUIRED

#: The line after which the stubs are made; what stands above it (imports, aliases, constants) is
#: written by hand and kept.
MARKER = "# Made by python -m usid_peaks._stubs from the parameter descriptions; edit those, not below.\n"


def _literal(value):
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _function(name):
    args, returns = FUNCTIONS[name]
    lines, star = [f"def {name}("], False
    for a in args:
        if a.keyword and not star:
            lines.append("    *,")
            star = True
        default = "" if a.default is REQUIRED else f" = {_literal(a.default)}"
        lines.append(f"    {a.name}: {a.annotation}{default},")
    lines.append(f") -> {returns}: ...")
    return "\n".join(lines)


def render(current):
    """The stubs' text: what ``current`` (the stubs as they are) holds down to the marker, then
    every function's signature."""
    head, found, _ = current.partition(MARKER)
    if not found:
        raise ValueError(f"the stubs have no line {MARKER.strip()!r} to write below")
    return head + MARKER + "".join(f"\n{_function(name)}\n" for name in FUNCTIONS)


def main(argv):
    check = "--check" in argv
    paths = [a for a in argv if a != "--check"]
    if len(paths) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with open(paths[0], encoding="utf-8") as f:
        current = f.read()
    text = render(current)
    if check:
        if current != text:
            print(f"{paths[0]} is stale: run python -m usid_peaks._stubs {paths[0]}", file=sys.stderr)
            return 1
        return 0
    with open(paths[0], "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
