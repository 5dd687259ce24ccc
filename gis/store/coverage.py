"""Spatial coverage, computed in PostGIS: "every inch of land has someone managing it" (DOMAIN.md).

Four kinds of gap, each its own layer on the map:

* **uncovered** — land of a community that no current grid covers (grids of any community count), one
  item per connected piece;
* **overlap** — land shared by the interiors of two current grids, one item per pair;
* **outside_building** — a building no current grid covers. This reads the stored assignment
  (`building.grid_id` NULL, kept current by every import and redraw), so it lists exactly what
  `gridmap check` and `GET /api/buildings?outside=true` list; each comes with the community around it
  and the nearest grid;
* **unrouted_case** — an open case no grid answers for (`grid_code` NULL, status open by `is_open`,
  so including `reported` cases waiting in the manual routing queue).

Areas are metric: `ST_Area(geom::geography)`, on the WGS84 spheroid, in m². Slivers are dropped: pieces
and overlaps under `SLIVER_TOLERANCE_M2`, or thinner on average (2 × area / perimeter) than
`SLIVER_WIDTH_M` — floating-point or digitising noise along boundaries that should coincide (a 1 cm
misfit along a 1 km edge is 10 m² but nobody's land), not land anyone left out. Geometries are GeoJSON
in WGS84 with 7 decimals (about 1 cm).

Cost: a community its own grids cover takes one small union and a covers test; only the others are
differenced against every grid reaching in. Overlaps test each pair of grids whose boxes meet with one
DE-9IM relate (about 10 µs a pair). On 50,000 grids: about 0.6 s and 2.5 s on a busy 2-vCPU machine.
The answers change only when grids or communities do, so a caller showing them on an unattended wall
map should cache them per import or redraw rather than recompute them on every refresh.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.privacy import mask_address
from gis.store.vocabulary import OPEN_STATUSES, current_day, current_sql, no_jit

SLIVER_TOLERANCE_M2 = 1.0
"""Smaller uncovered pieces or overlaps are ignored (noise, not a gap)."""

SLIVER_WIDTH_M = 0.05
"""Pieces or overlaps thinner than this on average (2 × area / perimeter) are ignored too."""

TOUCH_DEGREES = 1e-7
"""How near a grid must be to an uncovered piece to be named beside it (~1 cm, the output precision)."""

KINDS = ("uncovered", "overlap", "outside_building", "unrouted_case")

_SQL = {name: (resources.files("gis") / "sql" / f"coverage_{name}.sql").read_text(encoding="utf-8")
        for name in ("uncovered", "overlaps")}
_SLIVER = {"tolerance": SLIVER_TOLERANCE_M2, "min_width": SLIVER_WIDTH_M}


def coverage_gaps(session: Session, community_code: str | None = None) -> list[dict[str, Any]]:
    """Uncovered pieces (by community, largest first), then overlapping pairs (by grid codes); of one
    community, or of all.

    Each: kind ("uncovered" | "overlap"), community_code, community_codes (the communities involved),
    grid_codes (the grids bordering an uncovered piece, or the overlapping pair), area_m2, geometry.
    """
    return _uncovered(session, community_code) + _overlaps(session, community_code)


def _uncovered(session: Session, community_code: str | None) -> list[dict[str, Any]]:
    no_jit(session)
    sql = _SQL["uncovered"].format(community_filter="m.code = :community" if community_code else "TRUE",
                                   current_g=current_sql("g"))
    params = _SLIVER | {"community": community_code, "touch": TOUCH_DEGREES, "on": current_day()}
    return [
        {"kind": "uncovered", "community_code": r["community_code"], "community_codes": [r["community_code"]],
         "grid_codes": list(r["grid_codes"]), "area_m2": float(r["area_m2"]),
         "geometry": json.loads(r["geojson"])}
        for r in session.execute(text(sql), params).mappings()
    ]


def _overlaps(session: Session, community_code: str | None) -> list[dict[str, Any]]:
    no_jit(session)
    start = ("x.community_id = (SELECT id FROM community WHERE code = :community)" if community_code
             else "least(x.code, y.code) = x.code")
    sql = _SQL["overlaps"].format(start_filter=start, current_x=current_sql("x"), current_y=current_sql("y"))
    return [
        {"kind": "overlap", "community_code": r["community_code"],
         "community_codes": sorted({r["community_a"], r["community_b"]}),
         "grid_codes": [r["code_a"], r["code_b"]], "area_m2": float(r["area_m2"]),
         "geometry": json.loads(r["geojson"])}
        for r in session.execute(text(sql), _SLIVER | {"community": community_code, "on": current_day()}).mappings()
    ]


def outside_buildings(session: Session) -> list[dict[str, Any]]:
    """Buildings outside every current grid, by code, with the community around them (None if none) and
    the nearest current grid and its distance in metres."""
    rows = session.execute(text(
        "SELECT b.code, b.address, b.households, b.residents, b.street_code, b.district_code, "
        "(SELECT m.code FROM community AS m WHERE ST_Covers(m.geom, b.geom) ORDER BY m.code LIMIT 1) "
        "AS community_code, n.code AS nearest_grid_code, "
        "ST_Distance(n.geom::geography, b.geom::geography) AS distance_m, ST_AsGeoJSON(b.geom, 7) AS geojson "
        f"FROM building AS b LEFT JOIN LATERAL (SELECT g.code, g.geom FROM grid AS g WHERE {current_sql('g')} "
        "ORDER BY g.geom <-> b.geom LIMIT 1) AS n ON TRUE "
        "WHERE b.grid_id IS NULL ORDER BY b.code"
    ), {"on": current_day()}).mappings()
    return [_with_geometry(dict(r)) | {"kind": "outside_building"} for r in rows]


def unrouted_cases(session: Session) -> list[dict[str, Any]]:
    """Open cases no grid answers for, oldest first: the district's manual routing queue. A map layer shared
    by every reader of the layers (planners too), so the address is cut to its street (gis/privacy.py): the
    exact one is in the case itself, for those who may see it."""
    rows = session.execute(text(
        "SELECT c.id, c.status, c.source, c.category_code, k.name_zh AS category_zh, "
        "k.name_en AS category_en, c.address, c.reported_at, c.community_code, c.street_code, "
        "c.district_code, ST_AsGeoJSON(c.position, 7) AS geojson "
        "FROM service_case AS c JOIN case_category AS k ON k.code = c.category_code "
        "WHERE c.grid_code IS NULL AND c.status = ANY(:open) ORDER BY c.reported_at, c.id"
    ), {"open": list(OPEN_STATUSES)}).mappings()
    return [_with_geometry(dict(r)) | {"kind": "unrouted_case", "reported_at": r["reported_at"].isoformat(),
                                        "address": mask_address(r["address"])}
            for r in rows]


def coverage_layer(session: Session, community_code: str | None = None) -> dict[str, Any]:
    """Every gap as one GeoJSON FeatureCollection; each feature's `kind` property says which (`KINDS`).

    `community_code` narrows it to one community: its gaps, and the buildings and cases keyed to it.
    """
    points = [*outside_buildings(session), *unrouted_cases(session)]
    if community_code:
        points = [p for p in points if p["community_code"] == community_code]
    items = [*coverage_gaps(session, community_code), *points]
    features = []
    for item in items:
        properties = {k: v for k, v in item.items() if k != "geometry"}
        features.append({"type": "Feature", "geometry": item["geometry"], "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def _with_geometry(row: dict[str, Any]) -> dict[str, Any]:
    row["geometry"] = json.loads(row.pop("geojson"))
    return row
