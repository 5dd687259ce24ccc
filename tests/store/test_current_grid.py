"""One "current grid" rule everywhere: a code with a past, a current and a future-dated version.

    29.570 +---------+---------+---------+
           |  past   | current |  future |   grid 500103001001003, three versions side by side:
           | version | version | version |   past ended 10 days ago, current until 10 days from now,
    29.560 +---------+---------+---------+   future from then on (valid_to NULL, as an import leaves it)
           |  west   |  east   |
    29.550 +---------+---------+
        106.500   106.510   106.520   106.530

Today only the middle square is grid ...003: routing a point, bulk routing, building assignment, the grid
list and detail (`/api/grids`), the export, a vector tile, the grid layer, coverage and the measures all
say so, and none of them knows the future version yet. The old code routed by `valid_to IS NULL`, so the
future square received today's cases while the map showed the middle one.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import pytest
from shapely.geometry import box, shape
from sqlalchemy import text

from gis.periods import district_today, parse_period
from gis.settings import Settings
from gis.store import tiles
from gis.store.assign import CurrentGrids
from gis.store.cases import responsible_for
from gis.store.database import Database
from gis.store.export import export_grids
from gis.store.layers import LayerCache, grid_layer, layer_query
from gis.store.measures import grid_measures
from gis.store.places import grid_detail, list_grids
from gis.store.routing import route_points
from tests import drawn
from tests.api.conftest import load_drawn

CODE = "500103001001003"
PAST, CURRENT, FUTURE = (box(106.500 + 0.01 * i, 29.560, 106.510 + 0.01 * i, 29.570) for i in range(3))
POINTS = {"past": (106.505, 29.565), "current": (106.515, 29.565), "future": (106.525, 29.565)}


@pytest.fixture
def versions(db: Database, db_settings: Settings, tmp_path: Path) -> Database:
    load_drawn(db_settings, tmp_path)
    today = district_today()
    rows = [(PAST, today - timedelta(days=400), today - timedelta(days=10)),
            (CURRENT, today - timedelta(days=10), today + timedelta(days=10)),
            (FUTURE, today + timedelta(days=10), None)]
    with db.session() as session:
        for shape, valid_from, valid_to in rows:
            session.execute(text(
                "INSERT INTO grid (code, name, community_id, district_code, street_code, valid_from, valid_to, geom) "
                "SELECT :code, '北网格', id, district_code, street_code, :valid_from, :valid_to, "
                "ST_Multi(ST_GeomFromText(:wkt, 4326)) FROM community WHERE code = '500103001001'"
            ), {"code": CODE, "valid_from": valid_from, "valid_to": valid_to, "wkt": shape.wkt})
    return db


def _extent(geometry: dict) -> tuple[float, float, float, float]:
    return shape(geometry).bounds


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def test_routing_follows_the_current_version(versions: Database) -> None:
    with versions.session() as session:
        single = {name: responsible_for(session, *point).grid_code for name, point in POINTS.items()}
        lons, lats = zip(*POINTS.values(), strict=True)
        bulk = dict(zip(POINTS, route_points(session, lons, lats), strict=True))
        grids = CurrentGrids.load(session)
    assert single == bulk == {"past": None, "current": CODE, "future": None}
    assert grids.codes == [drawn.WEST_CODE, drawn.EAST_CODE, CODE]
    assert grids.polygons[2].equals(CURRENT)


def test_grid_list_detail_and_export_show_the_current_version(versions: Database, tmp_path: Path) -> None:
    today = district_today()
    with versions.session() as session:
        page = list_grids(session, bbox=None, limit=10, offset=0)
        now = grid_detail(session, CODE)
        later = grid_detail(session, CODE, on=today + timedelta(days=10))
        earlier = grid_detail(session, CODE, on=today - timedelta(days=11))
        exported = export_grids(session, tmp_path / "grids.gpkg")
    listed = {f["id"]: f for f in page.features}
    assert list(listed) == [drawn.WEST_CODE, drawn.EAST_CODE, CODE] and page.matched == 3
    assert listed[CODE]["properties"]["valid_from"] == (today - timedelta(days=10)).isoformat()
    assert _extent(listed[CODE]["geometry"]) == pytest.approx(CURRENT.bounds)
    assert _extent(now["geometry"]) == pytest.approx(CURRENT.bounds)
    assert _extent(later["geometry"]) == pytest.approx(FUTURE.bounds)
    assert _extent(earlier["geometry"]) == pytest.approx(PAST.bounds)
    frame = gpd.read_file(tmp_path / "grids.gpkg", layer="grids")
    assert exported == 3 and frame.set_index("code").loc[CODE].geometry.equals(CURRENT)


def test_layer_tile_and_measures_show_the_current_version(versions: Database) -> None:
    query = layer_query("open_cases", parse_period("30d"))
    with versions.session() as session:
        layer = grid_layer(session, LayerCache(), query)
        measured = [row["code"] for row in grid_measures(session, query.period)]
        boxes = tiles.grid_boxes(session, district_today())
        x, y = _tile(106.515, 29.565, 14)
        tile = tiles.cached_grid_tile(session, LayerCache(), query, 14, x, y)
        fx, fy = _tile(106.527, 29.565, 16)  # inside the future square only
        future_tile = tiles.cached_grid_tile(session, LayerCache(), query, 16, fx, fy)
    features = {f["id"]: f for f in json.loads(layer.raw)["features"]}
    assert list(features) == measured == [drawn.WEST_CODE, drawn.EAST_CODE, CODE]
    assert _extent(features[CODE]["geometry"]) == pytest.approx(CURRENT.bounds, abs=1e-6)
    assert list(boxes.codes) == [drawn.WEST_CODE, drawn.EAST_CODE, CODE]
    assert boxes.boxes[2].tolist() == pytest.approx(list(CURRENT.bounds))
    codes_in_tile = {f["properties"]["code"] for f in mapbox_vector_tile.decode(tile)["grids"]["features"]}
    assert CODE in codes_in_tile
    assert tiles.tile_area(16, fx, fy)[0] > CURRENT.bounds[2]
    assert future_tile == b""  # nothing current there yet
