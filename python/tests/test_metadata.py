"""One version, and the metadata `pip show` shows: the package's version is python/Cargo.toml's,
which must be the root crate's; the installed distribution's fields are the project's."""

import tomllib
from importlib import metadata
from pathlib import Path

import usid_peaks

REPO = Path(__file__).resolve().parents[2]


def cargo_package(path):
    with open(path, "rb") as f:
        return tomllib.load(f)["package"]


def test_the_python_crate_has_the_root_crates_version_and_license():
    root, ours = cargo_package(REPO / "Cargo.toml"), cargo_package(REPO / "python" / "Cargo.toml")
    assert ours["version"] == root["version"], "python/Cargo.toml's version must be Cargo.toml's"
    assert ours["license"] == root["license"]


def test_the_installed_package_says_the_crates_version_everywhere():
    version = cargo_package(REPO / "Cargo.toml")["version"]
    assert usid_peaks.__version__ == metadata.version("usid-peaks") == version


def test_pip_show_gives_the_projects_name_license_python_numpy_and_description():
    meta = metadata.metadata("usid-peaks")
    with open(REPO / "python" / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    assert meta["Name"] == "usid-peaks"
    assert meta["Summary"] == project["description"]
    # maturin writes the license as License-Expression (PEP 639) or License, by its version; a
    # missing field is None through get() (indexing one warns on Python 3.12+, and will raise).
    assert "MIT" in (meta.get("License-Expression"), meta.get("License"))
    assert meta["Requires-Python"] == ">=3.9"
    requires = meta.get_all("Requires-Dist")
    assert "numpy>=1.26" in requires, requires
    assert all(r == "numpy>=1.26" or "extra ==" in r for r in requires), requires
