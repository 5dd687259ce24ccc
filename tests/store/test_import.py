"""Importing each format into a real PostGIS, idempotently; bad files change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from shapely.geometry import Point, Polygon
from sqlalchemy import text

from api.cli import import_file
from gis.importing import ImportRejected
from gis.settings import Settings
from gis.store.database import Database
from tests import drawn


def _counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        return {
            table: session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("district", "street", "community", "grid", "building", "service_team",
                          "team_membership", "party_org", "person")
        }


def _load_all(settings: Settings, folder: Path, suffix: str = ".geojson") -> None:
    import_file(settings, "communities", drawn.write(drawn.communities_frame(), folder / f"communities{suffix}"))
    import_file(settings, "grids", drawn.write(drawn.grids_frame(), folder / f"grids{suffix}"))
    import_file(settings, "buildings", drawn.write(drawn.buildings_frame(), folder / f"buildings{suffix}"))
    import_file(settings, "teams", drawn.write(drawn.teams_frame(), folder / "teams.csv"))


def _grid_of_buildings(db: Database) -> dict[str, str | None]:
    with db.session() as session:
        rows = session.execute(text(
            "SELECT b.code, g.code FROM building AS b LEFT JOIN grid AS g ON g.id = b.grid_id"
        )).all()
    return dict(rows)


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".zip"])
def test_each_format_imports_and_assigns(db: Database, db_settings: Settings, tmp_path: Path, suffix: str) -> None:
    _load_all(db_settings, tmp_path, suffix)
    assert _grid_of_buildings(db) == drawn.EXPECTED_GRID
    counts = _counts(db)
    assert counts["district"] == 1 and counts["street"] == 1 and counts["community"] == 1
    assert counts["grid"] == 2 and counts["building"] == 5
    assert counts["service_team"] == 1  # the east grid has a branch but no team
    assert counts["team_membership"] == 3
    # street committee + community org + 2 grid branches + 1 building group
    assert counts["party_org"] == 5


def test_reimport_is_idempotent(db: Database, db_settings: Settings, tmp_path: Path) -> None:
    _load_all(db_settings, tmp_path)
    before = _counts(db)
    result = import_file(db_settings, "buildings", tmp_path / "buildings.geojson")
    assert result["changed"] == 0
    grids = import_file(db_settings, "grids", tmp_path / "grids.geojson")
    assert grids["inserted"] == 0 and grids["closed"] == 0
    _load_all(db_settings, tmp_path)
    assert _counts(db) == before


def test_outside_building_keeps_district_and_street_key(db: Database, db_settings: Settings, tmp_path: Path) -> None:
    _load_all(db_settings, tmp_path)
    with db.session() as session:
        west = session.execute(
            text("SELECT district_code, street_code FROM building WHERE code = 'B-WEST'")).one()
    assert tuple(west) == ("500103", "500103001")


def test_cgcs2000_gauss_kruger_and_web_mercator_files_land_in_wgs84(
    db: Database, db_settings: Settings, tmp_path: Path
) -> None:
    import_file(db_settings, "communities",
                drawn.write(drawn.communities_frame().to_crs("EPSG:4490"), tmp_path / "c.geojson"))
    import_file(db_settings, "grids", drawn.write(drawn.grids_frame().to_crs("EPSG:4547"), tmp_path / "g.gpkg"))
    import_file(db_settings, "buildings",
                drawn.write(drawn.buildings_frame().to_crs("EPSG:3857"), tmp_path / "b.gpkg"))
    assert _grid_of_buildings(db)["B-WEST"] == drawn.WEST_CODE
    with db.session() as session:
        xmin, ymin, xmax, ymax, srid = session.execute(text(
            "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom), ST_SRID(geom) FROM grid "
            "WHERE code = :code"), {"code": drawn.WEST_CODE}).one()
    assert srid == 4326
    assert (xmin, ymin, xmax, ymax) == pytest.approx((106.500, 29.550, 106.510, 29.560), abs=1e-7)


def _bad(frame, index: int, reason: str):  # noqa: ANN001, ANN202
    return frame, index, reason


def _bowtie_grids():  # noqa: ANN202
    frame = drawn.grids_frame()
    frame.loc[1, "geometry"] = Polygon([(106.51, 29.55), (106.52, 29.56), (106.52, 29.55), (106.51, 29.56)])
    return frame


def _swapped_buildings():  # noqa: ANN202
    frame = drawn.buildings_frame()
    frame.loc[2, "geometry"] = Point(29.555, 106.51)
    return frame


def _duplicate_grids():  # noqa: ANN202
    frame = drawn.grids_frame()
    frame.loc[1, "code"] = frame.loc[0, "code"]
    return frame


def _out_of_range_buildings():  # noqa: ANN202
    frame = drawn.buildings_frame()
    frame.loc[3, "geometry"] = Point(2.35, 48.85)  # Paris
    return frame


@pytest.mark.parametrize(
    ("kind", "make", "index", "reason"),
    [
        ("grids", _bowtie_grids, 1, "invalid"),
        ("buildings", _swapped_buildings, 2, "swapped"),
        ("grids", _duplicate_grids, 1, "duplicate"),
        ("buildings", _out_of_range_buildings, 3, "China"),
    ],
)
def test_bad_file_is_rejected_whole(
    db: Database, db_settings: Settings, tmp_path: Path, kind: str, make, index: int, reason: str  # noqa: ANN001
) -> None:
    import_file(db_settings, "communities", drawn.write(drawn.communities_frame(), tmp_path / "c.geojson"))
    if kind == "buildings":
        import_file(db_settings, "grids", drawn.write(drawn.grids_frame(), tmp_path / "g.geojson"))
    before = _counts(db)
    with pytest.raises(ImportRejected) as rejected:
        import_file(db_settings, kind, drawn.write(make(), tmp_path / f"bad_{kind}.geojson"))
    problems = rejected.value.problems
    assert [p.index for p in problems] == [index]
    assert reason.lower() in problems[0].reason.lower()
    assert "nothing was written" in str(rejected.value)
    assert _counts(db) == before


def test_missing_crs_is_rejected_unless_declared(db: Database, db_settings: Settings, tmp_path: Path) -> None:
    frame = drawn.communities_frame().set_crs(None, allow_override=True)
    path = tmp_path / "nocrs.zip"
    drawn.write(frame, path)
    with pytest.raises(Exception, match="(?i)coordinate system"):
        import_file(db_settings, "communities", path)
    assert _counts(db)["community"] == 0
    import_file(db_settings, "communities", path, crs="EPSG:4326")
    assert _counts(db)["community"] == 1


def test_repair_fixes_invalid_polygon_and_says_which(db: Database, db_settings: Settings, tmp_path: Path) -> None:
    import_file(db_settings, "communities", drawn.write(drawn.communities_frame(), tmp_path / "c.geojson"))
    result = import_file(db_settings, "grids", drawn.write(_bowtie_grids(), tmp_path / "g.geojson"), repair=True)
    assert result["inserted"] == 2
    with db.session() as session:
        valid = session.execute(text("SELECT bool_and(ST_IsValid(geom)) FROM grid")).scalar_one()
    assert valid


def test_grid_in_unknown_community_is_rejected(db: Database, db_settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected, match="unknown community"):
        import_file(db_settings, "grids", drawn.write(drawn.grids_frame(), tmp_path / "g.geojson"))
    assert _counts(db)["grid"] == 0


def test_changed_boundary_is_kept_as_history(db: Database, db_settings: Settings, tmp_path: Path) -> None:
    _load_all(db_settings, tmp_path)
    moved = drawn.grids_frame()
    # Move the shared edge east to 106.512: B-EDGE now falls inside west, east shrinks.
    from shapely.geometry import box
    moved.loc[0, "geometry"] = box(106.500, 29.550, 106.512, 29.560)
    moved.loc[1, "geometry"] = box(106.512, 29.550, 106.520, 29.560)
    with db.session() as session:  # pretend the first versions started long ago
        session.execute(text("UPDATE grid SET valid_from = '2024-01-01'"))
    result = import_file(db_settings, "grids", drawn.write(moved, tmp_path / "moved.geojson"))
    assert result["closed"] == 2 and result["inserted"] == 2
    with db.session() as session:
        versions = session.execute(text(
            "SELECT code, count(*), count(*) FILTER (WHERE valid_to IS NULL) FROM grid GROUP BY code ORDER BY code"
        )).all()
    assert [tuple(v) for v in versions] == [(drawn.WEST_CODE, 2, 1), (drawn.EAST_CODE, 2, 1)]
    assert _grid_of_buildings(db)["B-EDGE"] == drawn.WEST_CODE


def _row_versions(db: Database) -> dict[str, list[tuple]]:
    """Every row's physical version: an update, a delete or even a row lock changes ctid, xmin or xmax."""
    with db.session() as session:
        return {
            table: session.execute(text(
                f"SELECT ctid::text, xmin::text, xmax::text FROM {table} ORDER BY ctid"
            )).all()
            for table in ("district", "street", "community", "building", "party_org")
        }


def _index_oid(db: Database) -> int:
    with db.session() as session:
        return session.execute(text("SELECT 'idx_building_geom'::regclass::oid")).scalar_one()


def test_reimporting_unchanged_files_touches_no_row_and_keeps_the_index(
    db: Database, db_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gis.store import loaders

    monkeypatch.setattr(loaders, "BULK_REINDEX_ROWS", 3)  # the drawn file's 5 buildings count as a bulk load
    _load_all(db_settings, tmp_path)
    versions, index = _row_versions(db), _index_oid(db)
    assert index != 0
    again = import_file(db_settings, "buildings", tmp_path / "buildings.geojson")
    assert again["changed"] == 0 and again["index_rebuilt"] == 0
    import_file(db_settings, "communities", tmp_path / "communities.geojson")
    assert _row_versions(db) == versions
    assert _index_oid(db) == index
    # One changed building is written alone, with the index kept; it is not a bulk load.
    frame = drawn.buildings_frame()
    frame.loc[frame["code"] == "B-WEST", "households"] = 11
    one = import_file(db_settings, "buildings", drawn.write(frame, tmp_path / "one.geojson"))
    assert one["changed"] == 1 and one["index_rebuilt"] == 0 and _index_oid(db) == index
    everything = drawn.buildings_frame()
    everything["households"] = everything["households"] + 5
    bulk = import_file(db_settings, "buildings", drawn.write(everything, tmp_path / "all.geojson"))
    assert bulk["changed"] == 5 and bulk["index_rebuilt"] == 1 and _index_oid(db) != index
