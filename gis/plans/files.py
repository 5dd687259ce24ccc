"""A plan from a file: a GeoPackage, GeoJSON or zipped Shapefile with one feature per grid — the file
`gridmap export` writes, edited in QGIS, reads back as it was written. Columns: `code`, `name`, and
optionally `team_id`/`branch_id`, or `team_name`/`branch_name` (matched by the store to the district's
current teams and branches). Geometries are kept as drawn, even invalid: the checks say what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gis.errors import InvalidInput
from gis.importing import read_source
from gis.plans.model import PlanGrid

REQUIRED = ("code", "name")


def _optional_int(value: object) -> int | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"team_id/branch_id {value!r} is not a whole number") from None


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value).strip() or None


def read_plan_file(path: Path, *, declared_crs: str | None = None, layer: str | None = None,
                   team_named: Callable[[str], int | None] = lambda _: None,
                   branch_named: Callable[[str], int | None] = lambda _: None) -> list[PlanGrid]:
    frame = read_source(path, layer=layer)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{path.name} lacks the column(s) {', '.join(missing)}; a plan file needs code and name "
                           "(the columns `gridmap export` writes)")
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.isna().all():
        raise InvalidInput(f"{path.name} has no geometries: a plan is a set of grid polygons")
    crs = frame.crs or declared_crs
    if crs is None:
        raise InvalidInput(f"{path.name} declares no coordinate system: give one (e.g. EPSG:4490)")
    frame = (frame.set_crs(crs) if frame.crs is None else frame).to_crs("EPSG:4326")
    records = pd.DataFrame(frame.drop(columns=frame.geometry.name)).to_dict("records")
    grids = []
    for values, geometry in zip(records, frame.geometry.values, strict=True):
        team = _optional_int(values.get("team_id"))
        branch = _optional_int(values.get("branch_id"))
        if team is None and _text(values.get("team_name")):
            team = team_named(_text(values["team_name"]))
        if branch is None and _text(values.get("branch_name")):
            branch = branch_named(_text(values["branch_name"]))
        code = _text(values["code"]) or ""
        grids.append(PlanGrid(code, _text(values["name"]) or code, geometry, branch, team, (code,)))
    return grids
