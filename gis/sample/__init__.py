"""The sample district (渝中区, subdivided synthetically: data/grids/README.md) and its generated history,
shipped with the package so that `gridmap sample` works wherever gridmap is installed.

`yuzhong/` holds the files `data/grids/generate.py` made; `gis.sample.history.generate_history` adds a
year of seeded case history and household visits through the product's own rules (routing, work
calendar from the database, the sweeper's flags).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

SAMPLE_DIR = Path(str(resources.files("gis.sample") / "yuzhong"))
SAMPLE_FILES = (
    ("communities", "communities.geojson"),
    ("grids", "grids.gpkg"),
    ("buildings", "buildings.geojson"),
    ("teams", "teams.csv"),
)
KEY_PREFIX = "gridmap-history:"
VISIT_NOTE_PREFIX = "入户走访："
CENTRE = "command-centre"
Progress = Callable[[str], None]
