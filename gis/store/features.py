"""OGC API – Features queries: a page of a collection's features, one feature by id, a collection's extent.

Each collection is one `Source` (its FROM clause, geometry, feature id and columns, by name); what a
collection shows and may be filtered on is `gis.features.COLLECTIONS`. Grid versions are chosen by the
one "current" rule (`gis.store.vocabulary`): without `datetime` the versions current today, with an
instant those current on its district day, with an interval those current on some day of it. A grid
feature's id names its version (`<code>@<valid_from>`), so an id read from a past page finds that same
version again; the bare code finds the version current today.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import NotFound
from gis.features import BBox, Collection, DayRange
from gis.store.vocabulary import current_day, current_during_sql, current_sql

GRID_VERSION_SEPARATOR = "@"


@dataclass(frozen=True)
class Source:
    """Where a collection's features come from, in SQL."""

    from_: str
    geom: str
    id: str  # the feature id, as an SQL expression
    order: str
    columns: dict[str, str]  # property name → SQL expression
    versions: str | None = None  # the alias of a versioned row (valid_from / valid_to), if any


SOURCES: dict[str, Source] = {
    "communities": Source(
        from_="community AS c JOIN street AS s ON s.code = c.street_code",
        geom="c.geom", id="c.code", order="c.code",
        columns={"code": "c.code", "name": "c.name", "street_code": "c.street_code", "street_name": "s.name",
                 "district_code": "c.district_code"},
    ),
    "grids": Source(
        from_="grid AS g JOIN community AS c ON c.id = g.community_id JOIN street AS s ON s.code = g.street_code",
        geom="g.geom", id=f"g.code || '{GRID_VERSION_SEPARATOR}' || to_char(g.valid_from, 'YYYY-MM-DD')",
        order="g.code, g.valid_from",
        columns={"code": "g.code", "name": "g.name", "community_code": "c.code", "community_name": "c.name",
                 "street_code": "g.street_code", "street_name": "s.name", "valid_from": "g.valid_from",
                 "valid_to": "g.valid_to"},
        versions="g",
    ),
    "buildings": Source(
        from_="building AS b LEFT JOIN grid AS g ON g.id = b.grid_id AND g.district_code = b.district_code",
        geom="b.geom", id="b.code", order="b.code",
        columns={"code": "b.code", "address": "b.address", "households": "b.households",
                 "residents": "b.residents", "floors": "b.floors", "grid_code": "g.code",
                 "street_code": "b.street_code"},
    ),
}


@dataclass(frozen=True)
class Items:
    """One page of features and how many matched in all."""

    features: list[dict[str, Any]]
    matched: int


@dataclass(frozen=True)
class Extent:
    bbox: BBox | None
    first: date | None  # temporal extent of a versioned collection (None: no start, or none kept)
    last: date | None  # the latest end (None: open, some version is still current)


def _select(source: Source) -> str:
    columns = ", ".join(f"{sql} AS {name}" for name, sql in source.columns.items())
    return f"SELECT {source.id} AS feature_id, {columns}, ST_AsGeoJSON({source.geom}, 7) AS geojson FROM {source.from_}"


def _feature(row: dict[str, Any], source: Source) -> dict[str, Any]:
    properties = {name: row[name].isoformat() if isinstance(row[name], date) else row[name]
                  for name in source.columns}
    return {"type": "Feature", "id": row["feature_id"], "geometry": json.loads(row["geojson"]),
            "properties": properties}


def _versions_clause(source: Source, days: DayRange | None, params: dict[str, Any]) -> list[str]:
    if source.versions is None:
        return []  # not versioned: a datetime has nothing to choose among
    if days is None or days.instant:
        params["on"] = current_day() if days is None else days.first
        return [current_sql(source.versions, ":on")]
    params["first"] = days.first or date.min
    params["last"] = days.last or date.max
    return [current_during_sql(source.versions, ":first", ":last")]


def items(session: Session, collection: Collection, *, bbox: BBox | None, days: DayRange | None,
          filters: dict[str, str], limit: int, offset: int) -> Items:
    """The features of `collection` in id order, `limit` from `offset`, and how many matched."""
    source = SOURCES[collection.id]
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    clauses = _versions_clause(source, days, params)
    if bbox is not None:
        clauses.append(f"ST_Intersects({source.geom}, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326))")
        params.update(zip(("minx", "miny", "maxx", "maxy"), bbox, strict=True))
    for i, (name, value) in enumerate(sorted(filters.items())):
        clauses.append(f"{source.columns[name]} = :filter_{i}")
        params[f"filter_{i}"] = value
    where = " AND ".join(clauses) or "TRUE"
    matched = session.execute(text(f"SELECT count(*) FROM {source.from_} WHERE {where}"), params).scalar_one()
    rows = session.execute(text(f"{_select(source)} WHERE {where} ORDER BY {source.order} "
                                "LIMIT :limit OFFSET :offset"), params).mappings().all()
    return Items([_feature(dict(row), source) for row in rows], matched)


def item(session: Session, collection: Collection, feature_id: str) -> dict[str, Any]:
    """One feature by its id; a grid also by its bare code (the version current today). NotFound names it."""
    source = SOURCES[collection.id]
    params: dict[str, Any] = {"id": feature_id}
    if source.versions is None or GRID_VERSION_SEPARATOR in feature_id:
        where = f"{source.id} = :id"
    else:
        where = f"{source.columns['code']} = :id AND {current_sql(source.versions, ':on')}"
        params["on"] = current_day()
    row = session.execute(text(f"{_select(source)} WHERE {where} ORDER BY {source.order} LIMIT 1"),
                          params).mappings().first()
    if row is None:
        raise NotFound(f"collection {collection.id!r} has no feature {feature_id!r}")
    return _feature(dict(row), source)


def extent(session: Session, collection: Collection) -> Extent:
    """The bounding box of every feature the collection can serve (for grids: of every version) and, for
    grids, the first day any version began and the last day one ended (None while one is current)."""
    source = SOURCES[collection.id]
    versions = source.versions
    temporal = (f", min({versions}.valid_from) AS first, CASE WHEN bool_or({versions}.valid_to IS NULL) "
                f"THEN NULL ELSE max({versions}.valid_to) END AS last") if versions else ""
    row = session.execute(text(
        f"SELECT ST_XMin(e) AS minx, ST_YMin(e) AS miny, ST_XMax(e) AS maxx, ST_YMax(e) AS maxy"
        f"{', first, last' if versions else ''} "
        f"FROM (SELECT ST_Extent({source.geom}) AS e{temporal} FROM {source.from_}) AS x"
    )).mappings().one()
    bbox = None if row["minx"] is None else (row["minx"], row["miny"], row["maxx"], row["maxy"])
    if versions is None:
        return Extent(bbox, None, None)
    return Extent(bbox, row["first"], row["last"])
