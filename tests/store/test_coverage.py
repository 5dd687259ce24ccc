"""Spatial coverage on hand-drawn grids, with areas checked against pyproj's geodesic areas (WGS84).

    29.560 +---------+-------+-----------+        community ...001 = 106.500–106.520
           |  west   | strip (uncovered)  |  c2    community ...002 = 106.520–106.530, no grid
    29.558 |  +-+    +-------------------+  (all   west ...001: a square with a hole (uncovered)
           |  +-+ hole      east          |  un-   east ...002: stops at 29.558, and reaches 1 cm
    29.554 |      +---+---+               |  cov-         into west (a sliver overlap, ignored)
           |      | third |               |  ered) third ...003: overlaps west and east
    29.552 |      +---+---+               |
    29.550 +---------+--------------------+
        106.500   106.510             106.520     106.530
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pytest
from pyproj import Geod
from shapely.geometry import Point, Polygon, box, shape
from sqlalchemy import text

from api.cli import import_file
from gis.settings import Settings
from gis.store.coverage import (
    SLIVER_TOLERANCE_M2,
    coverage_gaps,
    coverage_layer,
    outside_buildings,
    unrouted_cases,
)
from gis.store.database import Database
from tests import drawn

GEOD = Geod(ellps="WGS84")
C1, C2 = "500103001001", "500103001002"
WEST, EAST, THIRD = "500103001001001", "500103001001002", "500103001001003"

HOLE = box(106.502, 29.556, 106.504, 29.558)
WEST_SHAPE = Polygon(box(106.500, 29.550, 106.510, 29.560).exterior.coords, [HOLE.exterior.coords])
EAST_SHAPE = box(106.5099999, 29.550, 106.520, 29.558)  # 1e-7° ≈ 1 cm into west
THIRD_SHAPE = box(106.508, 29.552, 106.512, 29.554)
STRIP = box(106.510, 29.558, 106.520, 29.560)
C2_SHAPE = box(106.520, 29.550, 106.530, 29.560)


def _area(geometry: object) -> float:
    return abs(GEOD.geometry_area_perimeter(geometry)[0])


def _load(settings: Settings, folder: Path) -> None:
    communities = gpd.GeoDataFrame(
        {"district_code": ["500103"] * 2, "district_name": ["渝中区"] * 2, "street_code": ["500103001"] * 2,
         "street_name": ["解放碑街道"] * 2, "code": [C1, C2], "name": ["测试社区", "无网格社区"]},
        geometry=[drawn.COMMUNITY, C2_SHAPE], crs="EPSG:4326",
    )
    grids = gpd.GeoDataFrame(
        {"code": [WEST, EAST, THIRD], "name": ["西网格", "东网格", "叠加网格"], "community_code": [C1] * 3,
         "valid_from": ["2024-01-01"] * 3},
        geometry=[WEST_SHAPE, EAST_SHAPE, THIRD_SHAPE], crs="EPSG:4326",
    )
    for kind, frame, name in (("communities", communities, "communities.geojson"),
                              ("grids", grids, "grids.geojson"),
                              ("buildings", drawn.buildings_frame(), "buildings.geojson")):
        import_file(settings, kind, drawn.write(frame, folder / name))


@pytest.fixture
def places(db: Database, db_settings: Settings, tmp_path: Path) -> Database:
    _load(db_settings, tmp_path)
    return db


def test_uncovered_land_is_found_piece_by_piece(places: Database) -> None:
    with places.session() as session:
        gaps = [g for g in coverage_gaps(session) if g["kind"] == "uncovered"]
    # c1: the strip north of east (0.010° × 0.002°), then west's hole (0.002° × 0.002°); c2: all of it.
    assert [(g["community_code"], g["grid_codes"]) for g in gaps] == [
        (C1, [WEST, EAST]), (C1, [WEST]), (C2, [EAST])]
    for gap, expected in zip(gaps, (STRIP, HOLE, C2_SHAPE), strict=True):
        assert gap["area_m2"] == pytest.approx(_area(expected), rel=0.01)
        assert shape(gap["geometry"]).symmetric_difference(expected).area < 1e-12  # same land, in degrees²
    assert gaps[0]["area_m2"] == pytest.approx(1e-2 * 96_900 * 2e-3 * 110_800, rel=0.01)  # ≈ 215 thousand m²


def test_overlaps_are_pairs_and_slivers_are_ignored(places: Database) -> None:
    with places.session() as session:
        overlaps = [g for g in coverage_gaps(session) if g["kind"] == "overlap"]
    # west × east share a 1 cm × 890 m sliver (≈ 8.6 m², but 1 cm wide): noise, not an overlap.
    assert [g["grid_codes"] for g in overlaps] == [[WEST, THIRD], [EAST, THIRD]]
    for overlap, other in zip(overlaps, (WEST_SHAPE, EAST_SHAPE), strict=True):
        expected = other.intersection(THIRD_SHAPE)
        assert overlap["area_m2"] == pytest.approx(_area(expected), rel=0.01)
        assert (overlap["community_code"], overlap["community_codes"]) == (C1, [C1])
    sliver = _area(WEST_SHAPE.intersection(EAST_SHAPE))
    assert sliver > SLIVER_TOLERANCE_M2  # so it is the width rule that drops it


def test_gaps_of_one_community(places: Database) -> None:
    with places.session() as session:
        only_c2 = coverage_gaps(session, C2)
        only_c1 = coverage_gaps(session, C1)
    assert [(g["kind"], g["community_code"]) for g in only_c2] == [("uncovered", C2)]
    assert [g["kind"] for g in only_c1] == ["uncovered", "uncovered", "overlap", "overlap"]


def test_buildings_outside_every_grid(places: Database) -> None:
    with places.session() as session:
        (outside,) = outside_buildings(session)
    # B-OUT (106.530, 29.555) lies on c2's east edge; the nearest grid is east, 0.010° of longitude away.
    _, _, metres = GEOD.inv(106.520, 29.555, 106.530, 29.555)
    assert (outside["code"], outside["community_code"], outside["nearest_grid_code"]) == ("B-OUT", C2, EAST)
    assert outside["distance_m"] == pytest.approx(metres, rel=0.01)
    assert outside["geometry"] == {"type": "Point", "coordinates": [106.53, 29.555]}
    assert outside["households"] == 50


def _case(session: object, status: str, grid_code: str | None, point: Point, reported: datetime) -> int:
    return session.execute(text(  # type: ignore[attr-defined]
        "INSERT INTO service_case (source, category_code, description, address, position, given_crs, "
        "given_lon, given_lat, grid_code, community_code, district_code, first_contact, created_by, status, "
        "reported_at, rework_count) VALUES ('hotline', 'exposed_rubbish', '', '', "
        "ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'wgs84', :x, :y, :grid, :community, '500103', 'test', 'test', "
        ":status, :reported, 0) RETURNING id"
    ), {"x": point.x, "y": point.y, "grid": grid_code, "community": C2 if grid_code is None else C1,
        "status": status, "reported": reported}).scalar_one()


def test_unrouted_open_cases(places: Database) -> None:
    with places.session() as session:
        waiting = _case(session, "reported", None, Point(106.525, 29.555), datetime(2025, 3, 2, tzinfo=UTC))
        filed = _case(session, "filed", None, Point(106.526, 29.555), datetime(2025, 3, 1, tzinfo=UTC))
        _case(session, "declined", None, Point(106.527, 29.555), datetime(2025, 3, 1, tzinfo=UTC))
        _case(session, "dispatched", WEST, Point(106.505, 29.555), datetime(2025, 3, 1, tzinfo=UTC))
    with places.session() as session:
        cases = unrouted_cases(session)
    # Open and unrouted, oldest first: the filed one, then the one still waiting to be filed.
    assert [(c["id"], c["status"]) for c in cases] == [(filed, "filed"), (waiting, "reported")]
    assert cases[1]["geometry"] == {"type": "Point", "coordinates": [106.525, 29.555]}
    assert (cases[1]["community_code"], cases[1]["category_en"]) == (C2, "Exposed rubbish")


def test_coverage_layer_is_one_feature_collection(places: Database) -> None:
    with places.session() as session:
        _case(session, "reported", None, Point(106.525, 29.555), datetime(2025, 3, 2, tzinfo=UTC))
    with places.session() as session:
        layer = coverage_layer(session)
        c1_layer = coverage_layer(session, C1)
    kinds = [f["properties"]["kind"] for f in layer["features"]]
    assert layer["type"] == "FeatureCollection"
    assert kinds == ["uncovered"] * 3 + ["overlap"] * 2 + ["outside_building", "unrouted_case"]
    assert all("geometry" not in f["properties"] for f in layer["features"])
    assert [f["properties"]["kind"] for f in c1_layer["features"]] == ["uncovered"] * 2 + ["overlap"] * 2


def test_the_sample_district_has_its_one_hole_and_its_one_overlap(sample_db: Database) -> None:
    """The sample's generator put exactly one hole and one overlap in (data/grids/yuzhong/manifest.json,
    areas measured there in EPSG:4545, within 0.05% of the spheroid), and 20 buildings outside grids."""
    with sample_db.session() as session:
        gaps = coverage_gaps(session)
        outside = outside_buildings(session)
    (hole,) = [g for g in gaps if g["kind"] == "uncovered"]
    (overlap,) = [g for g in gaps if g["kind"] == "overlap"]
    assert hole["community_code"] == "500103011005"
    assert {"500103011005001", "500103011005002"} <= set(hole["grid_codes"])
    assert hole["area_m2"] == pytest.approx(31775.4, rel=0.01)
    assert overlap["grid_codes"] == ["500103005003001", "500103005003002"]
    assert overlap["area_m2"] == pytest.approx(300.0, rel=0.01)
    assert [b["code"] for b in outside] == [f"B{n:06d}" for n in range(5729, 5749)]
