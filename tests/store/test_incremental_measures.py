"""Measures kept fresh by refreshing only the units a change touched (gis/store/incremental.py) equal a full
computation after every step of seeded random sequences of changes: new cases (some outside every grid),
workflow actions, reassignments across grids and streets, routing by hand, visits made and removed, and
"now" moving on so that deadlines pass and visits leave the cycle with no write at all."""

from __future__ import annotations

import gzip
import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.cli import import_file
from gis.cases import CaseInput
from gis.errors import GridmapError
from gis.periods import parse_period
from gis.permissions import Actor
from gis.settings import Settings
from gis.store import cases, layer_pieces, measure_rows
from gis.store.data_version import data_version
from gis.store.database import Database
from gis.store.incremental import Mark, MeasureRows, fresh_rows, mark, touched_since
from gis.store.layer_cache import Newest
from gis.store.layer_pieces import Changes
from gis.store.layers import LayerCache, grid_layer, layer_query
from gis.store.measures import LEVELS, measures_now
from gis.workflow import Action, allowed_actions
from tests import drawn

ADMIN = Actor(username="admin", role="admin")
# Two streets of one community each; three grids per community, 0.01° squares side by side.
STREETS = ("001", "002")
COLUMNS = 3
ACTIONS = (Action.file, Action.decline, Action.dispatch, Action.accept, Action.handle, Action.verify,
           Action.reject, Action.evaluate_satisfied, Action.evaluate_unsatisfied, Action.reassign)
CATEGORIES = ("exposed_rubbish", "street_cleanliness", "consultation", "complaint", "dispute")


def _grid_code(street: str, column: int) -> str:
    return f"500103{street}001{column + 1:03d}"


def _square(street: int, column: int) -> Any:
    return box(106.50 + 0.01 * column, 29.55 + 0.01 * street, 106.51 + 0.01 * column, 29.56 + 0.01 * street)


def _places(settings: Settings, folder: Path) -> None:
    communities = gpd.GeoDataFrame(
        {"district_code": ["500103"] * 2, "district_name": ["渝中区"] * 2,
         "street_code": [f"500103{s}" for s in STREETS], "street_name": ["甲街道", "乙街道"],
         "code": [f"500103{s}001" for s in STREETS], "name": ["甲社区", "乙社区"],
         "party_secretary": ["王书记", "李书记"], "party_members": [40, 30]},
        geometry=[box(106.50, 29.55 + 0.01 * k, 106.50 + 0.01 * COLUMNS, 29.56 + 0.01 * k) for k in range(2)],
        crs="EPSG:4326")
    grids = gpd.GeoDataFrame(
        {"code": [_grid_code(s, c) for s in STREETS for c in range(COLUMNS)],
         "name": [f"网格{s}-{c}" for s in STREETS for c in range(COLUMNS)],
         "community_code": [f"500103{s}001" for s in STREETS for _ in range(COLUMNS)],
         "valid_from": ["2024-01-01"] * (2 * COLUMNS)},
        geometry=[_square(k, c) for k in range(2) for c in range(COLUMNS)], crs="EPSG:4326")
    points = [(k, c, j) for k in range(2) for c in range(COLUMNS) for j in range(3)]
    buildings = gpd.GeoDataFrame(
        {"code": [f"B{k}{c}{j}" for k, c, j in points], "address": [f"路{n}号" for n in range(len(points))],
         "households": [10 + 7 * n for n in range(len(points))], "residents": [30] * len(points),
         "floors": [6] * len(points), "party_group": [None] * len(points), "party_group_leader": [None] * len(points)},
        geometry=[_square(k, c).centroid.buffer(0.001 * (j + 1)).exterior.interpolate(0.2) for k, c, j in points],
        crs="EPSG:4326")
    teams = pd.DataFrame(
        [(code, f"{code}党支部", "书记", 10, f"{code}服务团队", f"队员{code}{role}", role, f"138{n:08d}",
          "2024-01-01", "") for n, (code, role) in enumerate(
             (g, r) for g in grids["code"][:-1] for r in ("leader", "grid_worker"))],
        columns=["grid_code", "branch_name", "branch_secretary", "branch_members", "team_name", "person_name",
                 "role", "phone", "from_date", "to_date"])
    for kind, frame, name in (("communities", communities, "c.geojson"), ("grids", grids, "g.geojson"),
                              ("buildings", buildings, "b.geojson"), ("teams", teams, "t.csv")):
        import_file(settings, kind, drawn.write(frame, folder / name))


@pytest.fixture
def places(db: Database, db_settings: Settings, tmp_path: Path) -> Database:
    _places(db_settings, tmp_path)
    return db


class World:
    """The random changes, drawn from one seeded generator."""

    def __init__(self, db: Database, seed: int) -> None:
        self.db = db
        self.rng = random.Random(seed)
        self.codes = [_grid_code(s, c) for s in STREETS for c in range(COLUMNS)]

    def step(self) -> str:
        kind = self.rng.choices(["create", "act", "reassign", "route", "visit", "unvisit", "wait"],
                                weights=[30, 45, 8, 3, 8, 3, 15])[0]
        if kind == "wait":
            return kind  # no write: only time passes
        with self.db.session() as session:
            try:
                with session.begin_nested():
                    getattr(self, kind)(session)
            except GridmapError:
                pass  # a refused step changes nothing, as in the product
        return kind

    def create(self, session: Session) -> None:
        outside = self.rng.random() < 0.1
        lon = 106.535 if outside else 106.50 + 0.03 * self.rng.random()
        lat = 29.55 + 0.02 * self.rng.random()
        cases.create_case(session, CaseInput(source="hotline", category_code=self.rng.choice(CATEGORIES),
                                             lon=lon, lat=lat), ADMIN)

    def _case(self, session: Session, where: str = "TRUE") -> dict[str, Any] | None:
        rows = session.execute(text(
            f"SELECT id, status, grid_code FROM service_case WHERE {where} ORDER BY id")).mappings().all()
        return dict(self.rng.choice(rows)) if rows else None

    def act(self, session: Session) -> None:
        case = self._case(session)
        if case is None:
            return
        possible = [a for a in allowed_actions(case["status"]) if a in ACTIONS and a is not Action.reassign]
        if not possible:
            return
        action = self.rng.choice(possible)
        reason = "测试" if action in (Action.decline, Action.reject) else None
        satisfaction = {Action.evaluate_satisfied: "satisfied",
                        Action.evaluate_unsatisfied: "unsatisfied"}.get(action)
        cases.apply_action(session, case["id"], cases.ActionInput(action=action.value, reason=reason,
                                                                   satisfaction=satisfaction), ADMIN)

    def reassign(self, session: Session) -> None:
        case = self._case(session, "grid_code IS NOT NULL")
        if case is None or Action.reassign not in allowed_actions(case["status"]):
            return
        target = self.rng.choice([c for c in self.codes if c != case["grid_code"]])
        cases.apply_action(session, case["id"], cases.ActionInput(action="reassign", reason="改派", grid_code=target),
                           ADMIN)

    def route(self, session: Session) -> None:
        case = self._case(session, "grid_code IS NULL")
        if case is not None:
            cases.route_by_hand(session, case["id"], self.rng.choice(self.codes), ADMIN)

    def visit(self, session: Session) -> None:
        chosen = self.rng.choice(session.execute(text(
            "SELECT id, district_code, street_code FROM building ORDER BY id")).mappings().all())
        person = session.execute(text("SELECT min(id) FROM person")).scalar_one()
        days = self.rng.uniform(0, 40)  # some already out of the cycle, some leaving it as "now" moves on
        session.execute(text(
            "INSERT INTO visit (building_id, person_id, visited_at, note, district_code, street_code) "
            "VALUES (:b, :p, now() - make_interval(secs => :s), '', :d, :st)"),
            {"b": chosen["id"], "p": person, "s": days * 86400, "d": chosen["district_code"],
             "st": chosen["street_code"]})

    def unvisit(self, session: Session) -> None:
        session.execute(text("DELETE FROM visit WHERE id = (SELECT min(id) FROM visit)"))


def _full(session: Session, level: str, at: datetime) -> dict[str, dict[str, Any]]:
    return {r["code"]: r for r in measures_now(session, parse_period("30d"), level, at)}  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [11, 12])
def test_refreshed_rows_equal_a_full_computation_after_every_change(places: Database, seed: int) -> None:
    world = World(places, seed)
    period = parse_period("30d")
    kept: dict[str, MeasureRows | None] = dict.fromkeys(LEVELS)
    # From now on by minutes: the cases' deadlines (hours to days away) pass, visits leave the cycle, and only
    # a couple of new days force full computations.
    at = datetime.now(UTC)
    refreshed = recomputed = moved_by_time = 0
    for step in range(200):
        kind = world.step()
        at += timedelta(minutes=world.rng.uniform(0, 40))
        with places.session() as session:
            version = data_version(session)
            for level in LEVELS if step % 4 == 0 else ("grid",):
                before = kept[level]
                rows = fresh_rows(session, before, period, level, version, at,  # type: ignore[arg-type]
                                  full_share=1.0)  # six grids: any share would do; the refresh is under test
                expected = _full(session, level, at)
                assert rows.rows == expected, f"seed {seed}, step {step} ({kind}), level {level}"
                refreshed += rows.changed is not None
                recomputed += rows.changed is None
                moved_by_time += kind == "wait" and before is not None and before.rows != expected
                kept[level] = rows
    assert refreshed > 5 * recomputed  # the refresh did the work, not full computations
    assert moved_by_time > 0  # time alone changed some rows, and the refresh followed


def test_a_reassignment_touches_both_grids_and_both_streets(places: Database) -> None:
    with places.session() as session:
        case_id, _ = cases.create_case(session, CaseInput(source="hotline", category_code="complaint",
                                                          lon=106.505, lat=29.555), ADMIN)
        cases.apply_action(session, case_id, cases.ActionInput(action="file"), ADMIN)
    with places.session() as session:
        before = mark(session, datetime.now(UTC))
    with places.session() as session:
        cases.apply_action(session, case_id, cases.ActionInput(action="reassign", reason="改派",
                                                               grid_code=_grid_code("002", 2)), ADMIN)
    with places.session() as session:
        touched = touched_since(session, before, before.at, 30)
    assert touched.of("grid") == {_grid_code("001", 0), _grid_code("002", 2)}
    assert touched.of("street") == {"500103001", "500103002"}


def test_a_change_not_yet_committed_is_taken_by_the_next_refresh(places: Database) -> None:
    """The snapshot rule: a transaction that commits after the mark was taken is not lost, even when a later
    transaction committed before it."""
    writer = places.engine.connect()
    transaction = writer.begin()
    writer.execute(text("INSERT INTO measure_change (grid_code) VALUES ('slow')"))
    with places.session() as session:
        session.execute(text("INSERT INTO measure_change (grid_code) VALUES ('quick')"))
    with places.session() as session:
        taken = mark(session, datetime.now(UTC))
        assert "quick" not in touched_since(session, taken, taken.at, 30).of("grid")
    transaction.commit()
    writer.close()
    with places.session() as session:
        assert touched_since(session, taken, taken.at, 30).of("grid") == {"slow"}


def test_time_alone_touches_the_grid_whose_deadline_passed(places: Database) -> None:
    with places.session() as session:
        case_id, _ = cases.create_case(session, CaseInput(source="hotline", category_code="exposed_rubbish",
                                                          lon=106.515, lat=29.555), ADMIN)
        for action in ("file", "dispatch"):
            cases.apply_action(session, case_id, cases.ActionInput(action=action), ADMIN)
        deadline = session.execute(text("SELECT deadline FROM service_case WHERE id = :id"),
                                   {"id": case_id}).scalar_one()
    with places.session() as session:
        before = Mark(mark(session, deadline).snapshot, deadline - timedelta(minutes=1))
        assert touched_since(session, before, deadline - timedelta(seconds=1), 30).of("grid") == set()
        assert touched_since(session, before, deadline + timedelta(minutes=1), 30).of("grid") == {_grid_code("001", 1)}


@pytest.mark.parametrize("classify_mode", ["fixed", "quantile"])
def test_the_layer_body_after_changes_equals_one_built_afresh(places: Database, classify_mode: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces of two grids, so a change rebuilds some pieces and keeps others; the joined gzip is one valid
    stream of the same bytes."""
    monkeypatch.setattr(layer_pieces, "PIECE", 2)
    world = World(places, 5)
    cache = LayerCache()
    cache.values_min_interval = 0
    query = layer_query("open_cases", parse_period("30d"), classify_mode, 3)
    for step in range(30):
        world.step()
        with places.session() as session:
            body = grid_layer(session, cache, query)
            afresh = grid_layer(session, LayerCache(), query)
        kept, made = json.loads(body.raw), json.loads(afresh.raw)
        assert kept["features"] == made["features"] and kept["legend"] == made["legend"], f"step {step}"
        assert gzip.decompress(body.gzipped) == body.raw
    assert len(cache.changes) == 1 and cache.changes[next(iter(cache.changes))].serial > 5


def test_changes_say_which_grids_differ_between_two_computations() -> None:
    changes = Changes()
    first = changes.add(None)
    second = changes.add(frozenset({"a"}))
    third = changes.add(frozenset({"b"}))
    assert changes.between(first, third) == {"a", "b"} and changes.between(second, third) == {"b"}
    assert changes.between(third, third) == frozenset()
    assert changes.between(0, third) is None  # the first was a full computation: anything may differ
    assert changes.between(third, first) is None  # asked backwards: not known


def test_newest_forgets_the_oldest_keys() -> None:
    newest = Newest(2)
    for day in ("mon", "tue", "wed"):
        newest.keep(day, day.upper())
    newest.keep("tue", "TUE2")  # kept again: now the newest
    newest.keep("thu", "THU")
    assert list(newest) == ["tue", "thu"] and newest["tue"] == "TUE2"


def test_aged_rows_are_renewed_in_the_background_and_the_layer_stays_right(
    places: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net's full computation (rows descending from an old full one) runs in the cache's own
    thread and is swapped in; requests only refresh; the layer after each step equals one built afresh."""
    fulls: list[str] = []
    real = measure_rows.fresh_rows

    def recording(session: Session, previous: MeasureRows | None, *args: Any, **kwargs: Any) -> MeasureRows:
        # six grids: any share of them touched would do; the renewal is under test
        rows = real(session, previous, *args, **{**kwargs, "full_share": 1.0})
        if rows.changed is None and (previous is not None or threading.current_thread().name != "MainThread"):
            fulls.append(threading.current_thread().name)  # not the first computation of a new cache
        return rows

    monkeypatch.setattr(measure_rows, "fresh_rows", recording)
    monkeypatch.setattr(layer_pieces, "PIECE", 2)
    world = World(places, 7)
    cache = LayerCache(sessions=places.session)
    cache.values_min_interval = 0
    period = parse_period("30d")
    query = layer_query("open_cases", period, "fixed", 5)
    with places.session() as session:
        grid_layer(session, cache, query)
    assert fulls == []  # the first computation (a request's) is not counted
    cache.renew_after = 0  # from now on every refresh finds its rows aged
    for step in range(12):
        with places.session() as session:
            was = data_version(session)
        while True:  # a step that wrote something: the next request refreshes the rows
            world.step()
            with places.session() as session:
                if data_version(session) != was:
                    break
        renewed = cache.renewals
        with places.session() as session:
            body = grid_layer(session, cache, query)
            afresh = grid_layer(session, LayerCache(), query)
        assert json.loads(body.raw)["features"] == json.loads(afresh.raw)["features"], f"step {step}"
        deadline = time.monotonic() + 30
        while cache.renewals == renewed and time.monotonic() < deadline:
            time.sleep(0.01)  # the renewal this refresh started
        assert cache.renewals > renewed, f"step {step}: no renewal swapped in"
    assert "MainThread" not in fulls  # no request computed in full for the safety net
    assert fulls.count("measure-renewal") >= 12
    with places.session() as session:
        rows = grid_layer(session, cache, query)
        assert json.loads(rows.raw)["features"] == json.loads(grid_layer(session, LayerCache(), query).raw)["features"]
