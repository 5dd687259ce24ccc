"""`gridmap generate` at a small scale: what it makes, that every case sits where the boundary rule routes it,
and that a seed gives the same city again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import text

from api.cli import main as cli_main
from gis.errors import InvalidInput
from gis.generate import CityScale, generate_city
from gis.generate.lattice import lattice_shape, make_grids, make_points
from gis.store.database import Database
from gis.store.embedded import EmbeddedCluster
from gis.store.routing import route_points
from gis.workflow_enums import CaseStatus
from tests.conftest import TEMPLATE, _Copies, _open_clone

SCALE = CityScale(grids=70, buildings=700, cases=3_000, seed=5)
MADE = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
FINGERPRINT = """
SELECT (SELECT md5(string_agg(concat_ws('|', code, ST_AsEWKT(geom), community_id), ',' ORDER BY code)) FROM grid),
       (SELECT md5(string_agg(concat_ws('|', code, grid_id, households, ST_AsEWKT(geom)), ',' ORDER BY code))
        FROM building),
       (SELECT md5(string_agg(concat_ws('|', grid_code, category_code, status, reported_at, closed_at, deadline,
                                        satisfaction, ST_AsEWKT(position)), ',' ORDER BY id)) FROM service_case),
       (SELECT md5(string_agg(concat_ws('|', building_id, visited_at), ',' ORDER BY building_id)) FROM visit)
"""


@pytest.fixture(scope="module")
def city(pg_cluster: EmbeddedCluster, copies: _Copies) -> Iterator[tuple[Database, dict]]:
    name = copies.take(TEMPLATE)
    database = _open_clone(pg_cluster, name)
    made = generate_city(database, SCALE, show_progress=False, made=MADE)
    yield database, made
    database.close()
    copies.drop(name)


def test_counts_and_places(city: tuple[Database, dict]) -> None:
    database, made = city
    communities, grids = make_grids(SCALE.grids, seed=SCALE.seed)
    assert made["grids"] == SCALE.grids and made["buildings"] == SCALE.buildings and made["cases"] == SCALE.cases
    assert made["communities"] == len(communities) > 1
    with database.session() as session:
        row = session.execute(text(
            "SELECT (SELECT count(*) FROM street) AS streets, (SELECT count(*) FROM district) AS districts, "
            "(SELECT count(*) FROM service_team) AS teams, "
            "(SELECT count(*) FROM party_org WHERE level = 'grid_branch') AS branches, "
            "(SELECT count(*) FROM grid AS g JOIN community AS c ON c.id = g.community_id "
            " WHERE left(g.code, 12) <> c.code) AS misfiled, "
            "(SELECT min(ST_Area(geom::geography)) FROM grid) AS smallest, "
            "(SELECT max(ST_Area(geom::geography)) FROM grid) AS largest, "
            "(SELECT count(*) FROM building WHERE grid_id IS NULL) AS outside_buildings")).mappings().one()
    assert row["districts"] == 1 and row["streets"] == communities["street_code"].nunique()
    without = len(range(32, SCALE.grids, 33))  # every 33rd grid has no team and no branch
    assert row["teams"] == row["branches"] == SCALE.grids - without
    assert row["misfiled"] == 0
    assert 5_000 < row["smallest"] < 20_000 and row["largest"] < 60_000  # about 1 ha, up to a few hectares
    rows, columns = lattice_shape(SCALE.grids)
    assert (rows * columns > SCALE.grids) == (row["outside_buildings"] > 0)


def test_every_case_lies_where_the_boundary_rule_routes_it(city: tuple[Database, dict]) -> None:
    database, _ = city
    with database.session() as session:
        cases = session.execute(text(
            "SELECT grid_code, ST_X(position) AS lon, ST_Y(position) AS lat FROM service_case ORDER BY id"
        )).mappings().all()
        routed = route_points(session, [c["lon"] for c in cases], [c["lat"] for c in cases])
    stored = [c["grid_code"] for c in cases]
    assert routed == stored
    unrouted = sum(code is None for code in stored)
    assert 0 < unrouted < 0.02 * len(stored)


def test_statuses_follow_the_workflow(city: tuple[Database, dict]) -> None:
    database, _ = city
    with database.session() as session:
        statuses = dict(session.execute(text("SELECT status, count(*) FROM service_case GROUP BY status")).all())
        broken = session.execute(text(
            "SELECT count(*) FROM service_case WHERE reported_at > :made OR reported_at < :made - interval '366 days' "
            "OR (status IN ('closed', 'evaluated') AND (closed_at IS NULL OR handled_at IS NULL "
            "    OR closed_at < handled_at OR handled_at < dispatched_at OR dispatched_at < reported_at)) "
            "OR (status = 'declined') <> (declined_at IS NOT NULL) "
            "OR (status = 'evaluated' AND satisfaction IS NULL) "
            "OR (status IN ('dispatched', 'in_handling') AND (deadline IS NULL OR closed_at IS NOT NULL)) "
            "OR (escalated_at IS NOT NULL AND supervised_at IS NULL)"), {"made": MADE}).scalar_one()
    assert set(statuses) <= {s.value for s in CaseStatus}
    assert {"reported", "dispatched", "in_handling", "closed", "evaluated", "declined"} <= set(statuses)
    assert statuses["evaluated"] + statuses["closed"] > 0.8 * SCALE.cases  # a year back, most are done
    assert broken == 0


def test_the_same_seed_makes_the_same_city(
    city: tuple[Database, dict], pg_cluster: EmbeddedCluster, copies: _Copies
) -> None:
    first, _ = city
    name = copies.take(TEMPLATE)
    second = _open_clone(pg_cluster, name)
    try:
        generate_city(second, SCALE, show_progress=False, made=MADE)
        with first.session() as a, second.session() as b:
            assert a.execute(text(FINGERPRINT)).one() == b.execute(text(FINGERPRINT)).one()
        with pytest.raises(InvalidInput, match="already holds"):  # never on top of a city
            generate_city(second, SCALE, show_progress=False)
    finally:
        second.close()
        copies.drop(name)
    other = make_points(50, SCALE.grids, seed=SCALE.seed + 7)
    assert not np.array_equal(other.get_coordinates().to_numpy(),
                              make_points(50, SCALE.grids, seed=SCALE.seed + 1).get_coordinates().to_numpy())


def test_the_command_line(pg_cluster: EmbeddedCluster, copies: _Copies, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    name = copies.take(TEMPLATE)
    try:
        monkeypatch.setenv("GRIDMAP_DATABASE_URL", pg_cluster.url(name))
        assert cli_main(["generate", "--grids", "12", "--buildings", "40", "--cases", "100", "--seed", "3"]) == 0
        err = capsys.readouterr().err
        assert "100" in err and "done" in err  # the progress bar reached its end
        assert cli_main(["generate", "--grids", "0"]) == 2
        assert "--grids must be at least 1" in capsys.readouterr().err
    finally:
        copies.drop(name)
