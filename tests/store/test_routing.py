"""Bulk routing (in memory, over the current grids read from PostGIS) agrees with the rule in
gis/assignment.py and with single-point routing in SQL."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box
from sqlalchemy import event, text

from gis.assignment import UNASSIGNED, assign_points
from gis.errors import InvalidInput
from gis.settings import Settings
from gis.store.cases import responsible_for
from gis.store.database import Database
from gis.store.routing import explain_route_points, route_points
from tests import drawn
from tests.api.conftest import load_drawn


def _expected(points: np.ndarray | list[shapely.Point], polygons: list[shapely.Polygon], codes: list[str]
              ) -> list[str | None]:
    """The code each point gets by gis.assignment (the in-memory rule)."""
    return [codes[i] if i != UNASSIGNED else None for i in assign_points(points, polygons, codes)]


def test_drawn_points_agree_with_the_rule_and_single_point_routing(
    db: Database, db_settings: Settings, tmp_path: Path
) -> None:
    load_drawn(db_settings, tmp_path)
    names = list(drawn.BUILDINGS)
    points = list(drawn.BUILDINGS.values())
    lons, lats = [p.x for p in points], [p.y for p in points]
    with db.session() as session:
        work_mem = session.execute(text("SHOW work_mem")).scalar_one()
        routed = route_points(session, lons, lats)
        assert session.execute(text("SHOW work_mem")).scalar_one() == work_mem  # the caller's setting is back
        single = [responsible_for(session, lon, lat).grid_code for lon, lat in zip(lons, lats, strict=True)]
    assert dict(zip(names, routed, strict=True)) == drawn.EXPECTED_GRID
    assert routed == _expected(points, [drawn.WEST, drawn.EAST], [drawn.WEST_CODE, drawn.EAST_CODE])
    assert routed == single


def test_bulk_routing_reads_the_grids_once_and_says_how(db: Database, db_settings: Settings, tmp_path: Path) -> None:
    load_drawn(db_settings, tmp_path)
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with db.session() as session:
        assert explain_route_points(session) == ["no route_points call in this session"]
        route_points(session, [106.505, 106.515, 107.0], [29.555, 29.555, 29.555])
        plan = "\n".join(explain_route_points(session))
    assert len([s for s in statements if "FROM grid" in s]) == 1  # one read of the grids, whatever the points
    assert "2 current grids" in plan and "3 points" in plan and "2 routed" in plan, plan


# Four squares of side 2⁻⁵° meeting at one corner; every coordinate is a multiple of 2⁻⁷, exactly
# representable, so lattice points fall exactly on edges and corners in both shapely and PostGIS.
ORIGIN = (106.5, 29.5)
SIDE = 2.0**-5
STEP = 2.0**-7
SQUARE_CODES = ["500103001001001", "500103001001002", "500103001001003", "500103001001004"]


def _squares(shift: float = 0.0) -> list[shapely.Polygon]:
    x0, y0 = ORIGIN[0] + shift, ORIGIN[1]
    corners = [(0, 0), (0, 1), (1, 0), (1, 1)]  # same layout as tests/gis/test_assignment.py
    return [box(x0 + c * SIDE, y0 + r * SIDE, x0 + (c + 1) * SIDE, y0 + (r + 1) * SIDE) for c, r in corners]


def _load_squares(settings: Settings, folder: Path) -> None:
    """The four squares as current grids, over an older version of each (shifted east) kept as history."""
    from api.cli import import_file

    community = gpd.GeoDataFrame(
        {"district_code": ["500103"], "district_name": ["渝中区"], "street_code": ["500103001"],
         "street_name": ["解放碑街道"], "code": ["500103001001"], "name": ["测试社区"]},
        geometry=[box(ORIGIN[0], ORIGIN[1], ORIGIN[0] + 4 * SIDE, ORIGIN[1] + 2 * SIDE)], crs="EPSG:4326",
    )
    import_file(settings, "communities", drawn.write(community, folder / "communities.gpkg"))
    for name, shift in (("old", SIDE), ("current", 0.0)):
        grids = gpd.GeoDataFrame(
            {"code": SQUARE_CODES, "name": [f"网格{i}" for i in range(1, 5)], "valid_from": "2024-01-01"},
            geometry=_squares(shift), crs="EPSG:4326",
        )
        import_file(settings, "grids", drawn.write(grids, folder / f"grids_{name}.gpkg"))


FIXED = {  # (x, y) in units of SIDE from ORIGIN → expected square index (None: outside)
    (0.5, 0.5): 0,  # interior of the first square
    (1.0, 1.0): 0,  # corner shared by all four: ...001 is the smallest code
    (1.0, 0.5): 0,  # edge shared by squares 0 and 2
    (1.5, 1.0): 2,  # edge shared by squares 2 and 3
    (1.5, 1.5): 3,
    (2.0, 0.5): 2,  # outer boundary of square 2 only
    (2.5, 0.5): None,  # where the old (history) versions were, now outside every current grid
}


def test_random_points_on_four_squares_agree_with_the_rule(
    db: Database, db_settings: Settings, tmp_path: Path
) -> None:
    _load_squares(db_settings, tmp_path)
    rng = np.random.default_rng(2024)
    fixed = np.array(ORIGIN) + np.array(list(FIXED)) * SIDE
    lattice = 7 * int(SIDE / STEP)  # past the squares' east edge, into the old versions' area
    on_lattice = np.array(ORIGIN) + rng.integers(-2, lattice, size=(400, 2)) * STEP
    anywhere = np.array(ORIGIN) + rng.uniform(-SIDE, 3 * SIDE, size=(400, 2))
    xy = np.concatenate([fixed, on_lattice, anywhere])
    points = shapely.points(xy)
    with db.session() as session:
        routed = route_points(session, xy[:, 0], xy[:, 1])
        again = route_points(session, xy[:, 0].tolist(), xy[:, 1].tolist())  # as lists, same transaction
        single = [responsible_for(session, x, y).grid_code for x, y in xy]  # the rule's SQL form, point by point
        history = session.execute(text("SELECT count(*) FROM grid WHERE valid_to IS NOT NULL")).scalar_one()
    assert history == 4
    assert again == routed
    assert routed[: len(FIXED)] == [SQUARE_CODES[i] if i is not None else None for i in FIXED.values()]
    assert routed == _expected(points, _squares(), SQUARE_CODES)
    assert routed == single
    # The draw reached every case: all four squares, outside, and many points on shared edges or corners.
    shared = shapely.union_all([a.intersection(b) for a in _squares() for b in _squares() if a is not b])
    assert set(routed) == {*SQUARE_CODES, None}
    assert sum(shapely.covers(shared, p) for p in points) > 20


def test_empty_and_mismatched_inputs(db: Database) -> None:
    with db.session() as session:
        assert route_points(session, [], []) == []
        with pytest.raises(InvalidInput, match="2 longitudes but 1 latitudes"):
            route_points(session, [106.5, 106.6], [29.5])
        with pytest.raises(InvalidInput, match="point 1"):
            route_points(session, [106.5, float("nan")], [29.5, 29.5])
