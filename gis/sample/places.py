"""The loaded district as the generator reads it, and routing reports by the product's rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import prcoords
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.coords import to_wgs84_arrays
from gis.store.cases import responsible_for
from gis.store.routing import route_points
from gis.store.vocabulary import current_day, current_sql
from gis.workflow import Source

if TYPE_CHECKING:
    from gis.sample.reports import Report

@dataclass(frozen=True)
class GridInfo:
    """A current grid with who answers for it."""

    id: int
    code: str
    community_code: str
    street_code: str
    district_code: str
    team_id: int | None
    branch_id: int | None
    polygon: shapely.Geometry


@dataclass
class Places:
    """Everything read from the database, in a fixed order (so a seed gives the same history)."""

    grids: list[GridInfo]
    buildings: pd.DataFrame  # code, address, households, grid_code, lon, lat, id, district/street code
    communities: pd.DataFrame  # code, name, street_code, district_code, polygon
    workers: pd.DataFrame  # grid_code, person_id, from_date, to_date of every grid worker
    by_id: dict[int, GridInfo] = field(init=False)
    by_code: dict[str, GridInfo] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {g.id: g for g in self.grids}
        self.by_code = {g.code: g for g in self.grids}


def _frame_of(session: Session, sql: str, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(session.execute(text(sql)).all(), columns=columns)


def load_places(session: Session) -> Places:
    """The grids current today (gis/store/vocabulary.py), with the team and branch current today."""
    grids = [
        GridInfo(r["id"], r["code"], r["community_code"], r["street_code"], r["district_code"], r["team_id"],
                 r["branch_id"], shapely.from_wkb(bytes(r["geom"]))) for r in session.execute(text(
            "SELECT g.id, g.code, c.code AS community_code, g.street_code, g.district_code, t.id AS team_id, "
            "b.id AS branch_id, ST_AsBinary(g.geom) AS geom "
            "FROM grid AS g JOIN community AS c ON c.id = g.community_id "
            f"LEFT JOIN service_team AS t ON t.grid_code = g.code AND {current_sql('t')} "
            "LEFT JOIN party_org AS b ON b.level = 'grid_branch' AND b.place_code = g.code "
            f"AND {current_sql('b')} WHERE {current_sql('g')} ORDER BY g.code"), {"on": current_day()}).mappings()
    ]
    shapely.prepare([g.polygon for g in grids])
    buildings = _frame_of(
        session, "SELECT b.code, b.address, b.households, g.code, ST_X(b.geom), ST_Y(b.geom), b.id, "
        "b.district_code, b.street_code FROM building AS b LEFT JOIN grid AS g ON g.id = b.grid_id "
        "ORDER BY b.code",
        ["code", "address", "households", "grid_code", "lon", "lat", "id", "district_code", "street_code"])
    communities = _frame_of(
        session, "SELECT code, name, street_code, district_code, ST_AsBinary(geom) FROM community "
        "ORDER BY code", ["code", "name", "street_code", "district_code", "polygon"])
    communities["polygon"] = shapely.from_wkb([bytes(g) for g in communities["polygon"]])
    workers = _frame_of(
        session, "SELECT t.grid_code, m.person_id, m.from_date, m.to_date FROM team_membership AS m "
        "JOIN service_team AS t ON t.id = m.team_id WHERE m.role = 'grid_worker' "
        "ORDER BY t.grid_code, m.from_date, m.person_id",
        ["grid_code", "person_id", "from_date", "to_date"])
    return Places(grids, buildings, communities, workers)


# -- routing ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Routed:
    """A report as stored: the position as given (apps use GCJ-02 or BD-09) and in WGS84, and who answers."""

    given_crs: str
    given_lon: float
    given_lat: float
    lon: float
    lat: float
    grid: GridInfo | None
    community_code: str | None
    street_code: str | None
    district_code: str | None
    community_name: str | None


def route(session: Session, rng: np.random.Generator, places: Places, reports: list[Report]) -> list[Routed]:
    """Shift app positions into the app's datum and back as intake does (`gis.coords`), then route by the
    product's rule: `gis.store.routing.route_points` for all at once, and intake's own
    `gis.store.cases.responsible_for` for the few outside every grid (the community around them, else the
    nearest district)."""
    crs = np.where([r.source is Source.resident for r in reports],
                   np.where(rng.random(len(reports)) < 0.7, "gcj02", "bd09"), "wgs84")
    given = np.empty((len(reports), 2))
    for i, (report, system) in enumerate(zip(reports, crs, strict=True)):
        if system == "wgs84":
            given[i] = (report.lon, report.lat)
        else:
            forward = prcoords.wgs_gcj if system == "gcj02" else prcoords.wgs_bd
            shifted = forward(prcoords.Coords(report.lat, report.lon))
            given[i] = (shifted.lon, shifted.lat)
    given = np.round(given, 7)
    lon, lat = given[:, 0].copy(), given[:, 1].copy()
    for system in ("gcj02", "bd09"):
        mask = crs == system
        if mask.any():
            lon[mask], lat[mask] = to_wgs84_arrays(given[mask, 0], given[mask, 1], system)
    codes = route_points(session, lon, lat)
    names = dict(zip(places.communities["code"], places.communities["name"], strict=True))
    routed = []
    for i, code in enumerate(codes):
        grid = places.by_code[code] if code is not None else None
        if grid is not None:
            keys = (grid.community_code, grid.street_code, grid.district_code)
        else:
            who = responsible_for(session, float(lon[i]), float(lat[i]))
            keys = (who.community_code, who.street_code, who.district_code)
        routed.append(Routed(str(crs[i]), float(given[i, 0]), float(given[i, 1]), float(lon[i]),
                             float(lat[i]), grid, *keys, names.get(keys[0]) if keys[0] else None))
    return routed
