"""Request dependencies as typed aliases: one place that opens sessions and parses shared parameters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session

from gis.errors import InvalidInput
from gis.settings import Settings
from gis.store.database import Database
from gis.store.places import BBox
from gis.text import storable_text

MAX_BIGINT = 2**63 - 1
"""The largest id or offset PostgreSQL's bigint holds: larger numbers are refused, not sent to the database."""


# Dependencies that only read the request or the app state are `async def`: FastAPI runs a plain `def`
# dependency in its thread pool, a hop per dependency per request (the tile and layer routes have several);
# anything that touches the database stays a plain `def`.


async def get_database(request: Request) -> Database:
    return request.app.state.database


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """One unit of work per request, committed when the handler returns and before the response is sent
    (`scope="function"`): a client that was answered 201 can read its write at once, and a crash after
    the answer cannot lose it."""
    with database.session() as session:
        yield session


def get_read_session(
    database: Annotated[Database, Depends(get_database)],
    session: Annotated[Session, Depends(get_session, scope="function")],
) -> Iterator[Session]:
    """The map's reads (wall, layers, tiles): a session on the read replica when one is configured, else
    the request's own session (never a second connection from the same pool: see api/admission.py)."""
    if database.read_engine is None:
        yield session
        return
    with database.read_session() as replica:
        yield replica


DbSession = Annotated[Session, Depends(get_session, scope="function")]
ReadSession = Annotated[Session, Depends(get_read_session, scope="function")]
StoreDatabase = Annotated[Database, Depends(get_database)]
AppSettings = Annotated[Settings, Depends(get_settings)]


def parse_bbox(value: str | None) -> BBox | None:
    """`minLon,minLat,maxLon,maxLat` in WGS84; errors name the value and the rule."""
    if value is None or value == "":
        return None
    parts = value.split(",")
    if len(parts) != 4:
        raise InvalidInput(f"bbox {value!r} must be four numbers: minLon,minLat,maxLon,maxLat")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError as exc:
        raise InvalidInput(f"bbox {value!r} must be four numbers: minLon,minLat,maxLon,maxLat") from exc
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidInput(f"bbox {value!r} is outside WGS84 longitude/latitude ranges (EPSG:4326 expected)")
    if minx >= maxx or miny >= maxy:
        raise InvalidInput(f"bbox {value!r}: min must be below max for both longitude and latitude")
    return (minx, miny, maxx, maxy)


def _bbox(bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat (WGS84)")] = None) -> BBox | None:
    return parse_bbox(bbox)


BBoxParam = Annotated[BBox | None, Depends(_bbox)]
Limit = Annotated[int, Query(ge=1, le=5000, description="page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_BIGINT, description="features to skip")]
CaseId = Annotated[int, Path(ge=1, le=MAX_BIGINT, description="case number")]
PhotoId = Annotated[int, Path(ge=1, le=MAX_BIGINT, description="photo number")]


async def storable_query(request: Request) -> None:
    """Every route's guard: a query parameter with a NUL byte or broken UTF-8 is refused by name."""
    for name, value in request.query_params.multi_items():
        storable_text(f"query parameter {name!r}", value)
    for name, value in request.path_params.items():
        if isinstance(value, str):
            storable_text(f"path parameter {name!r}", value)


def grid_code_param(code: str) -> str:
    if not (len(code) == 15 and code.isdigit()):
        raise InvalidInput(f"grid code {code!r} must be exactly 15 digits")
    return code


GridCode = Annotated[str, Depends(grid_code_param)]
