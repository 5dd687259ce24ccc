"""The schema can be distributed by district_code (Citus): the rules of gis/store/distribution.py hold on
the models and on the migrated database, break on tables made to break them, and the writers keep every
row in one district, moving rather than updating a row that changes district."""

from __future__ import annotations

import os
import re
from pathlib import Path

import geopandas as gpd
import pytest
from alembic import command
from shapely.geometry import Point, box
from sqlalchemy import (
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    text,
)

from api.cli import import_file
from gis.cases import CaseInput, Photo
from gis.permissions import Actor
from gis.settings import PROJECT_ROOT, Settings
from gis.store import cases
from gis.store.database import Database
from gis.store.distribution import (
    DISTRIBUTED_TABLES,
    REFERENCE_TABLES,
    citus_statements,
    distribution_problems,
)
from gis.store.embedded import EmbeddedCluster
from gis.store.models import Base
from tests import drawn
from tests.api.conftest import load_drawn

# -- the rules on the models and on the migrated database ---------------------------------------------


def test_models_keep_the_rules() -> None:
    assert distribution_problems(Base.metadata) == []


def test_migrated_database_keeps_the_rules(db: Database) -> None:
    reflected = MetaData()
    reflected.reflect(db.engine, only=[*DISTRIBUTED_TABLES, *REFERENCE_TABLES])
    assert distribution_problems(reflected) == []
    for name in DISTRIBUTED_TABLES:  # reflection sees the real keys, which autogenerate does not compare
        assert [c.name for c in reflected.tables[name].primary_key.columns] == ["id", "district_code"]


def test_docs_give_the_lists_and_the_statements() -> None:
    """docs/scaling.md quotes the SQL made from the one list, and names every table in its place."""
    doc = (PROJECT_ROOT / "docs" / "scaling.md").read_text(encoding="utf-8")
    for statement in citus_statements():
        assert statement in doc
    assert "UNPLACED_DISTRICT" in doc and "000000" in doc


# -- the rules break where they should (a synthetic schema) -------------------------------------------


def _schema(**broken: bool) -> MetaData:
    """A parent and a child distributed by district_code and a reference lookup, with one rule broken per
    keyword."""
    metadata = MetaData()
    Table("lookup", metadata, Column("code", String(6), primary_key=True),
          *([Column("parent_id", Integer), Column("district_code", String(6)),
             ForeignKeyConstraint(["parent_id", "district_code"], ["parent.id", "parent.district_code"])]
            if broken.get("reference_to_distributed") else []))
    Table(
        "parent", metadata,
        Column("id", Integer), Column("code", String(20)),
        Column("district_code", String(6), nullable=bool(broken.get("nullable"))),
        Column("lookup_code", String(6)),
        PrimaryKeyConstraint("id", *([] if broken.get("primary_key") else ["district_code"])),
        Index("uq_parent_code", "code", *([] if broken.get("unique_index") else ["district_code"]), unique=True),
        UniqueConstraint("code", "lookup_code", *([] if broken.get("unique_constraint") else ["district_code"])),
        ForeignKeyConstraint(["lookup_code"], ["lookup.code"]),
    )
    child_fk = ["parent_id"] if broken.get("foreign_key") else ["parent_id", "district_code"]
    Table(
        "child", metadata,
        Column("id", Integer), Column("parent_id", Integer), Column("district_code", String(6), nullable=False),
        PrimaryKeyConstraint("id", "district_code"),
        ForeignKeyConstraint(child_fk, [f"parent.{c.replace('parent_', '')}" for c in child_fk],
                             ondelete="SET NULL" if broken.get("set_null") else "CASCADE",
                             onupdate="CASCADE" if broken.get("on_update") else None),
    )
    if broken.get("unclassified"):
        Table("stray", metadata, Column("id", Integer, primary_key=True))
    return metadata


def _problems(**broken: bool) -> list[str]:
    return distribution_problems(_schema(**broken), distributed=("parent", "child"), reference=("lookup",))


def test_a_schema_that_keeps_the_rules_passes() -> None:
    assert _problems() == []


@pytest.mark.parametrize(("broken", "expected"), [
    ("nullable", r"parent\.district_code is nullable"),
    ("primary_key", r"primary key of parent \(id\) does not include district_code"),
    ("unique_index", r"unique index uq_parent_code on parent \(code\) does not include district_code"),
    ("unique_constraint", r"unique constraint .* on parent \(code, lookup_code\) does not include"),
    ("foreign_key", r"child\(parent_id\) → parent does not pair child\.district_code with parent\.district_code"),
    ("set_null", r"ON DELETE SET NULL"),
    ("on_update", r"ON UPDATE CASCADE"),
    ("reference_to_distributed", r"reference table lookup refers to parent"),
    ("unclassified", r"stray is neither distributed, reference nor local"),
])
def test_each_broken_rule_is_named(broken: str, expected: str) -> None:
    problems = _problems(**{broken: True})
    assert any(re.search(expected, p) for p in problems), problems


def test_a_table_in_both_lists_is_named() -> None:
    problems = distribution_problems(_schema(), distributed=("parent", "child", "lookup"), reference=("lookup",))
    assert "lookup is declared both distributed and reference" in problems


# -- every row has a district; a row that changes district moves ----------------------------------------

NORTH = box(106.500, 29.560, 106.520, 29.570)  # a second district, just north of the drawn one
NORTH_CODE = "500104001001001"
CENTRE = Actor("centre", "command_centre")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _load_two_districts(settings: Settings, folder: Path) -> None:
    load_drawn(settings, folder)
    north = gpd.GeoDataFrame(
        {"district_code": ["500104"], "district_name": ["北区"], "street_code": ["500104001"],
         "street_name": ["北街道"], "code": ["500104001001"], "name": ["北社区"]},
        geometry=[NORTH], crs="EPSG:4326")
    import_file(settings, "communities", drawn.write(north, folder / "north.geojson"))
    grid = gpd.GeoDataFrame({"code": [NORTH_CODE], "name": ["北网格"], "valid_from": ["2024-01-01"]},
                            geometry=[NORTH], crs="EPSG:4326")
    import_file(settings, "grids", drawn.write(grid, folder / "north-grid.geojson"))


def _rows(db: Database, sql: str, **params: object) -> list[tuple]:
    with db.session() as session:
        return [tuple(r) for r in session.execute(text(sql), params)]


def test_unrouted_case_outside_every_community_takes_the_nearest_district_and_moves_when_routed(
    db: Database, db_settings: Settings, tmp_path: Path
) -> None:
    _load_two_districts(db_settings, tmp_path)
    # 0.005° north of the north district, 0.015° from the drawn one: outside every grid and community.
    report = CaseInput(source="hotline", category_code="exposed_rubbish", lon=106.510, lat=29.575,
                       idempotency_key="k-1", photos=(Photo("image/png", PNG),))
    with db.session() as session:
        case_id, created = cases.create_case(session, report, CENTRE)
    assert created
    assert _rows(db, "SELECT grid_code, community_code, street_code, district_code FROM service_case") == [
        (None, None, None, "500104")]
    with db.session() as session:
        assert [c["id"] for c in cases.list_cases(session, cases.CaseFilter(unrouted=True), CENTRE, limit=10,
                                                  offset=0)[0]] == [case_id]
        # A retry with the same key returns the first case and creates nothing.
        assert cases.create_case(session, report, CENTRE) == (case_id, False)
    (photo_id,) = _rows(db, "SELECT id FROM case_photo")[0]

    with db.session() as session:  # by hand into a grid of the other district: the case moves there
        cases.route_by_hand(session, case_id, drawn.WEST_CODE, CENTRE)
    assert _rows(db, "SELECT id, grid_code, district_code, team_id IS NOT NULL FROM service_case") == [
        (case_id, drawn.WEST_CODE, "500103", True)]
    assert _rows(db, "SELECT DISTINCT district_code FROM case_event UNION ALL "
                     "SELECT DISTINCT district_code FROM case_photo") == [("500103",), ("500103",)]
    assert [e[0] for e in _rows(db, "SELECT action FROM case_event ORDER BY at, id")] == ["create", "route"]
    with db.session() as session:
        assert cases.photo(session, case_id, photo_id, CENTRE).data == PNG
        # The retry still finds it, in its new district.
        assert cases.create_case(session, report, CENTRE) == (case_id, False)
        # And reassigned north again, it moves back with its whole ledger.
        cases.apply_action(session, case_id, cases.ActionInput("file"), CENTRE)
        cases.apply_action(session, case_id, cases.ActionInput("dispatch", grid_code=NORTH_CODE), CENTRE)
    assert _rows(db, "SELECT grid_code, district_code, team_id, branch_id FROM service_case") == [
        (NORTH_CODE, "500104", None, None)]
    assert _rows(db, "SELECT count(*), min(district_code), max(district_code) FROM case_event") == [
        (4, "500104", "500104")]


def test_building_that_changes_district_moves_with_its_visits_and_party_group(
    db: Database, db_settings: Settings, tmp_path: Path
) -> None:
    _load_two_districts(db_settings, tmp_path)
    frame = drawn.buildings_frame()
    frame.loc[frame["code"] == "B-WEST", "geometry"] = Point(106.505, 29.565)  # into the north grid
    import_file(db_settings, "buildings", drawn.write(frame, tmp_path / "moved.geojson"))
    keys = "SELECT id, district_code, street_code, grid_id IS NOT NULL FROM building WHERE code = 'B-WEST'"
    ((building_id, district, street, in_grid),) = _rows(db, keys)
    assert (district, street, in_grid) == ("500104", "500104001", True)
    assert _rows(db, "SELECT district_code FROM party_org WHERE level = 'building_group'") == [("500104",)]
    with db.session() as session:
        session.execute(text(
            "INSERT INTO visit (building_id, person_id, visited_at, note, district_code) "
            "SELECT :id, min(p.id), now(), 'test', :district FROM person AS p"
        ), {"id": building_id, "district": "500104"})
    import_file(db_settings, "buildings", drawn.write(drawn.buildings_frame(), tmp_path / "back.geojson"))
    assert _rows(db, keys) == [(building_id, "500103", "500103001", True)]
    assert _rows(db, "SELECT count(*) FROM building WHERE code = 'B-WEST'") == [(1,)]
    assert _rows(db, "SELECT building_id, district_code FROM visit") == [(building_id, "500103")]
    assert _rows(db, "SELECT district_code FROM party_org WHERE level = 'building_group'") == [("500103",)]


def test_building_outside_every_community_takes_the_nearest_district(
    db: Database, db_settings: Settings, tmp_path: Path
) -> None:
    _load_two_districts(db_settings, tmp_path)
    frame = drawn.buildings_frame()
    frame.loc[frame["code"] == "B-OUT", "geometry"] = Point(106.510, 29.575)
    import_file(db_settings, "buildings", drawn.write(frame, tmp_path / "far.geojson"))
    assert _rows(db, "SELECT district_code, street_code, grid_id FROM building WHERE code = 'B-OUT'") == [
        ("500104", None, None)]


# -- migration 0005 on a database that holds rows without a district ------------------------------------


def test_migration_gives_every_row_a_district_and_downgrades(pg_cluster: EmbeddedCluster) -> None:
    import psycopg

    from gis.store.database import alembic_config, make_engine, upgrade

    name = f"gridmap_mig_{os.getpid()}"
    with psycopg.connect(pg_cluster.dsn("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(pg_cluster.url(name))
    try:
        upgrade(engine, "0004")
        square = "ST_Multi(ST_MakeEnvelope(106.500, 29.550, 106.520, 29.560, 4326))"
        point = "ST_SetSRID(ST_MakePoint({}, {}), 4326)"
        case = ("INSERT INTO service_case (id, source, category_code, position, given_lon, given_lat, grid_id, "
                "grid_code, district_code, first_contact, created_by, status, reported_at, description, address, "
                "given_crs, rework_count) VALUES ({id}, 'hotline', 'exposed_rubbish', {p}, 0, 0, {grid}, {code}, "
                "{district}, 't', 't', 'reported', now(), '', '', 'wgs84', 0)")
        with engine.begin() as conn:
            for sql in (
                f"INSERT INTO district (code, name, geom) VALUES ('500103', '渝中区', {square})",
                "INSERT INTO street (code, name, district_code) VALUES ('500103001', '街道', '500103')",
                f"INSERT INTO community (id, code, name, district_code, street_code, geom) "
                f"VALUES (1, '500103001001', '社区', '500103', '500103001', {square})",
                f"INSERT INTO grid (id, code, name, community_id, district_code, street_code, geom) "
                f"VALUES (1, '500103001001001', '网格', 1, '500103', '500103001', {square})",
                case.format(id=1, p=point.format(106.505, 29.555), grid=1, code="'500103001001001'",
                            district="'500103'"),
                case.format(id=2, p=point.format(106.600, 29.555), grid="NULL", code="NULL", district="NULL"),
                "INSERT INTO case_event (case_id, at, actor, action, note, district_code) "
                "VALUES (1, now(), 't', 'create', '', '500999'), (2, now(), 't', 'create', '', NULL)",
                f"INSERT INTO building (id, code, address, households, residents, geom) "
                f"VALUES (1, 'B-FAR', '', 0, 0, {point.format(106.600, 29.555)})",
                "INSERT INTO person (id, name, district_code) VALUES (1, '网格员', '500103')",
                "INSERT INTO visit (building_id, person_id, visited_at, note) VALUES (1, 1, now(), '')",
            ):
                conn.execute(text(sql))
        upgrade(engine)
        with engine.connect() as conn:
            def rows(sql: str) -> list[tuple]:
                return [tuple(r) for r in conn.execute(text(sql))]

            assert rows("SELECT id, district_code, grid_code FROM service_case ORDER BY id") == [
                (1, "500103", "500103001001001"), (2, "500103", None)]
            assert rows("SELECT case_id, district_code FROM case_event ORDER BY case_id") == [
                (1, "500103"), (2, "500103")]
            assert rows("SELECT district_code, street_code FROM building") == [("500103", None)]
            assert rows("SELECT district_code FROM visit") == [("500103",)]
        command.downgrade(alembic_config(engine), "0004")
        upgrade(engine)
        reflected = MetaData()
        reflected.reflect(engine, only=[*DISTRIBUTED_TABLES, *REFERENCE_TABLES])
        assert distribution_problems(reflected) == []
    finally:
        engine.dispose()
        with psycopg.connect(pg_cluster.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
