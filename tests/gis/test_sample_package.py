"""`gridmap sample` needs nothing outside the installed package: the sample district ships as package
data beside its generator (gis/sample/), and no module of gis/ or api/ reads from the checkout's data/."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

from gis.sample import SAMPLE_DIR, SAMPLE_FILES
from gis.settings import PROJECT_ROOT


def test_the_sample_files_are_package_data() -> None:
    package = PROJECT_ROOT / "gis"
    assert SAMPLE_DIR.is_relative_to(package)
    patterns = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for _, name in SAMPLE_FILES:
        path = SAMPLE_DIR / name
        assert path.is_file(), path
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns["gis"]), relative


def test_no_module_reads_the_checkouts_data_folder() -> None:
    reads_checkout = re.compile(r"PROJECT_ROOT\s*/\s*\"data\"|\"data\"\s*/\s*\"grids\"")
    offenders = [str(path.relative_to(PROJECT_ROOT)) for folder in ("gis", "api")
                 for path in sorted(Path(PROJECT_ROOT, folder).rglob("*.py"))
                 if reads_checkout.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
