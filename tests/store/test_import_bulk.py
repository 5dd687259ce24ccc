"""The bulk paths of a building import (an empty table filled straight by COPY; a big re-import written with
the indexes and foreign key down) store exactly what the row-by-row path stores, keep the table's indexes
and constraints, and roll back whole."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import text

from gis.generate.lattice import make_grids, make_points
from gis.importing import check_file
from gis.store import loaders
from gis.store.database import Database
from gis.store.embedded import EmbeddedCluster
from tests.conftest import TEMPLATE, _Copies, _open_clone

GRIDS = 30
ROWS = """
SELECT b.code, g.code AS grid, b.district_code, b.street_code, b.address, b.households, b.residents, b.floors,
       ST_AsEWKT(b.geom) AS geom
FROM building AS b LEFT JOIN grid AS g ON g.id = b.grid_id ORDER BY b.code
"""
GROUPS = "SELECT place_code, name, secretary, district_code, street_code FROM party_org " \
         "WHERE level = 'building_group' ORDER BY place_code"
SCHEMA = """
SELECT (SELECT array_agg(indexdef ORDER BY indexdef) FROM pg_indexes WHERE tablename = 'building') AS indexes,
       (SELECT array_agg(pg_get_constraintdef(oid) ORDER BY conname) FROM pg_constraint
        WHERE conrelid = 'building'::regclass) AS constraints
"""


def _buildings(count: int, seed: int):  # noqa: ANN202 - a GeoDataFrame
    frame = make_points(count, GRIDS, seed=seed)
    frame["address"] = np.where(np.arange(count) % 4 == 0, "", "路" + frame["code"])
    frame["party_group"] = np.where(np.arange(count) % 10 == 0, "党小组" + frame["code"], None)
    frame["party_group_leader"] = np.where(np.arange(count) % 20 == 0, "组长", None)
    frame.loc[3, "geometry"] = shapely.Point(106.10, 29.31)  # west of the lattice: outside every grid
    frame.loc[5, "floors"] = None
    return frame


def _load(database: Database, kind: str, frame) -> dict[str, int]:  # noqa: ANN001
    checked = check_file(kind, frame, source=kind)
    with database.session() as session:
        return loaders.load(session, checked)


def _read(database: Database) -> tuple[list, list, tuple]:
    with database.session() as session:
        return (session.execute(text(ROWS)).all(), session.execute(text(GROUPS)).all(),
                tuple(session.execute(text(SCHEMA)).one()))


@pytest.fixture
def two(pg_cluster: EmbeddedCluster, copies: _Copies) -> Iterator[tuple[Database, Database]]:
    """Two fresh databases holding the same communities and grids."""
    names = [copies.take(TEMPLATE), copies.take(TEMPLATE)]
    databases = [_open_clone(pg_cluster, name) for name in names]
    communities, grids = make_grids(GRIDS)
    for database in databases:
        _load(database, "communities", communities)
        _load(database, "grids", grids)
    yield databases[0], databases[1]
    for database, name in zip(databases, names, strict=True):
        database.close()
        copies.drop(name)


def test_bulk_paths_store_what_the_row_path_stores(two: tuple[Database, Database],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    bulk, rows = two
    first = _buildings(300, seed=1)
    again = first.copy()
    again.loc[:49, "geometry"] = _buildings(50, seed=2).geometry.values  # 50 moved
    again.loc[100:119, "households"] += 1  # 20 changed
    extra = _buildings(340, seed=3).iloc[300:].assign(code=lambda f: "N" + f["code"])  # 40 new
    again = pd.concat([again, extra], ignore_index=True)

    with monkeypatch.context() as patched:
        patched.setattr(loaders, "BULK_REINDEX_ROWS", 1)
        patched.setattr(loaders, "FIRST_COPY_ROWS", 1)
        made = _load(bulk, "buildings", first)
        assert made["index_rebuilt"] == 1 and made["changed"] == 300
        schema_before = _read(rows)[2]  # the row path's database: its table untouched yet
        assert _read(bulk)[2] == schema_before  # indexes and foreign key made again, as they were
    with monkeypatch.context() as patched:
        patched.setattr(loaders, "FIRST_COPY_ROWS", 10**9)
        assert _load(rows, "buildings", first)["index_rebuilt"] == 0
    stored, groups, _ = _read(bulk)
    assert (stored, groups) == _read(rows)[:2]
    assert sum(r.grid is None for r in stored) >= 1 and all(r.district_code for r in stored)

    with monkeypatch.context() as patched:
        patched.setattr(loaders, "BULK_REINDEX_ROWS", 1)
        changed = _load(bulk, "buildings", again)
    moved = int((~shapely.equals_exact(first.geometry.values[:50], again.geometry.values[:50], 0)).sum())
    assert moved == 49  # building 3 stays where it was, outside every grid
    assert changed["index_rebuilt"] == 1 and changed["changed"] == moved + 20 + 40
    assert _load(rows, "buildings", again)["changed"] == changed["changed"]
    assert _read(bulk) == _read(rows)


def test_a_failed_bulk_import_leaves_the_table_as_it_was(two: tuple[Database, Database],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    database, _ = two
    _load(database, "buildings", _buildings(120, seed=1))
    before = _read(database)

    def broken(session: object) -> None:
        raise RuntimeError("the party organisations could not be written")

    for stored in (True, False):  # a re-import, then a first import into the emptied table
        monkeypatch.setattr(loaders, "BULK_REINDEX_ROWS", 1)
        monkeypatch.setattr(loaders, "FIRST_COPY_ROWS", 1)
        monkeypatch.setattr(loaders, "_upsert_building_groups", broken)
        with pytest.raises(RuntimeError, match="party organisations"):
            _load(database, "buildings", _buildings(150, seed=4))
        assert _read(database) == before
        monkeypatch.undo()
        if stored:
            with database.session() as session:
                session.execute(text("DELETE FROM party_org WHERE level = 'building_group'"))
                session.execute(text("DELETE FROM building"))
            before = _read(database)
            assert before[0] == []
