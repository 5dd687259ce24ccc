"""The layer caches under a stream of changes: measures are recomputed at most every
`values_min_interval` seconds (the newest values served meanwhile, tagged with their own version), and the
overdue layer is made once per cases version with its gzip made once."""

from __future__ import annotations

import gzip
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from gis.cases import CaseInput
from gis.periods import parse_period
from gis.permissions import Actor
from gis.settings import Settings
from gis.store import cases
from gis.store.database import Database
from gis.store.layer_cache import VALUES_MIN_INTERVAL_SECONDS, LruStore
from gis.store.layers import LayerCache, data_version, grid_values, layer_query, overdue
from tests.api.conftest import load_drawn

CENTRE = Actor(username="centre", role="command_centre")


@dataclass(frozen=True)
class Made:
    version: int
    n: int


def test_versioned_entries_are_recomputed_at_most_every_min_interval() -> None:
    made: list[int] = []

    def make(version: int):  # noqa: ANN202
        def run(session: object) -> Made:
            made.append(version)
            return Made(version, len(made))
        return run

    store = LruStore(2)
    ask = {"session": None, "max_age": 60, "sessions": None}
    assert store.versioned("k", 1, make(1), min_interval=60, **ask) == Made(1, 1)  # type: ignore[arg-type]
    assert store.versioned("k", 2, make(2), min_interval=60, **ask) == Made(1, 1)  # type: ignore[arg-type]
    assert store.versioned("k", 3, make(3), min_interval=60, **ask) == Made(1, 1)  # type: ignore[arg-type]
    assert store.versioned("k", 3, make(3), min_interval=0, **ask) == Made(3, 2)  # type: ignore[arg-type]
    assert store.versioned("k", 3, make(3), min_interval=0, **ask) == Made(3, 2)  # type: ignore[arg-type]
    assert made == [1, 3]
    assert 0 < VALUES_MIN_INTERVAL_SECONDS <= 2.5  # a change shows on the wall within 5 s


@pytest.fixture
def drawn_db(db: Database, db_settings: Settings, tmp_path: Path) -> Database:
    load_drawn(db_settings, tmp_path)
    return db


def _new_case(db: Database) -> None:
    with db.session() as session:
        cases.create_case(session, CaseInput(source="hotline", category_code="exposed_rubbish", lon=106.505,
                                             lat=29.555), CENTRE)


def _cache(db: Database) -> LayerCache:
    @contextmanager
    def sessions():  # noqa: ANN202
        with db.session() as session:
            yield session

    return LayerCache(sessions=sessions)


def test_measures_follow_a_stream_of_changes_at_most_every_interval(drawn_db: Database) -> None:
    cache = _cache(drawn_db)
    cache.values_min_interval = 3600  # as if the changes came faster than any interval
    query = layer_query("open_cases", parse_period("30d"))
    with drawn_db.session() as session:
        first = grid_values(session, cache, query, data_version(session))
    for _ in range(3):
        _new_case(drawn_db)
        with drawn_db.session() as session:
            now = data_version(session)
            served = grid_values(session, cache, query, now)
        assert served.version == first.version != now  # the newest values, tagged with their own version
    assert cache.computations == 1
    cache.values_min_interval = 0  # the interval has passed
    with drawn_db.session() as session:
        now = data_version(session)
        fresh = grid_values(session, cache, query, now)
        again = grid_values(session, cache, query, now)
    assert fresh.version == now and again is fresh and cache.computations == 2


def test_the_overdue_layer_is_made_once_per_cases_version(drawn_db: Database) -> None:
    cache = _cache(drawn_db)
    with drawn_db.session() as session:
        first = overdue(session, cache)
        second = overdue(session, cache)
        english = overdue(session, cache, language="en")
    assert second is first and english is not first and cache.computations == 2
    assert first.gzipped is first.gzipped and gzip.decompress(first.gzipped) == first.raw
    with drawn_db.session() as session:  # a case falls overdue: the sweeper's flag is a change of cases
        session.execute(text("INSERT INTO layer_change (kind, n) VALUES ('cases', 1)"))
    with drawn_db.session() as session:
        assert overdue(session, cache) is not first
    assert cache.computations == 3


def test_coverage_follows_cases_at_most_every_interval_and_places_at_once(drawn_db: Database) -> None:
    from gis.store.layers import coverage

    cache = _cache(drawn_db)
    cache.coverage_min_interval = 3600
    with drawn_db.session() as session:
        first = coverage(session, cache)
    _new_case(drawn_db)
    with drawn_db.session() as session:
        assert coverage(session, cache) is first  # only cases changed, within the interval
    assert cache.computations == 1
    cache.coverage_min_interval = 0
    with drawn_db.session() as session:
        fresh = coverage(session, cache)
        assert fresh is not first and coverage(session, cache) is fresh
    assert cache.computations == 2
    cache.coverage_min_interval = 3600
    with drawn_db.session() as session:  # places changed: at once, whatever the interval
        session.execute(text("INSERT INTO layer_change (kind, n) VALUES ('places', 1)"))
    with drawn_db.session() as session:
        assert coverage(session, cache) is not fresh
    assert cache.computations == 3
