"""Many requests at once never stall the server: connections go back to the pool without waiting for a
thread, and a map read without a replica uses the request's own connection (found by bench/load.py: 70
concurrent polls, or 31 with a second session per map read, stalled until the pool's 30 s timeout)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.admission import GENERAL_SLOTS, HEAVY_SLOTS, request_class
from api.app import create_app
from gis.settings import Settings
from gis.store.database import POOL_CONNECTIONS, Database
from gis.store.users import create_user
from tests.api.conftest import load_drawn
from tests.conftest import LiveServer

CONCURRENT = 120


@pytest.fixture
def live(db: Database, db_settings: Settings, tmp_path: Path) -> Iterator[str]:
    load_drawn(db_settings, tmp_path)
    with db.session() as session:
        create_user(session, "centre", "command_centre", key="key-centre")
    with LiveServer(create_app(db_settings, database=db)) as server:
        yield server.url


async def _burst(url: str, paths: list[str]) -> list[int]:
    limits = httpx.Limits(max_connections=CONCURRENT, max_keepalive_connections=CONCURRENT)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60,
                                 headers={"Authorization": "Bearer key-centre"}) as client:
        responses = await asyncio.gather(*(client.get(path) for path in paths))
    return [r.status_code for r in responses]


@pytest.mark.parametrize("path", ["/api/layers/version", "/api/cases?limit=5", "/api/layers/summary"])
def test_a_burst_of_authenticated_requests_is_answered_without_stalling(live: str, path: str) -> None:
    started = time.monotonic()
    statuses = asyncio.run(_burst(live, [path] * CONCURRENT))
    elapsed = time.monotonic() - started
    assert statuses == [200] * CONCURRENT, sorted(set(statuses))
    assert elapsed < 25, f"{CONCURRENT} requests took {elapsed:.1f} s: the pool waited for its timeout"


@pytest.mark.parametrize(("method", "path", "kind"), [
    ("GET", "/api/layers/version", "general"), ("POST", "/api/cases", "general"),
    ("POST", "/open311/v2/requests.json", "general"), ("GET", "/open311/v2/requests.json", "heavy"),
    ("GET", "/api/layers/grids", "heavy"), ("GET", "/tiles/grids/14/1/1.mvt", "heavy"), ("GET", "/", "general"),
    ("GET", "/wall", "general"), ("GET", "/api/ledger.csv", "heavy"), ("GET", "/static/wall/wall.js", None),
    ("GET", "/vendor/leaflet@1.9.4/leaflet.js", None),
])
def test_request_classes(method: str, path: str, kind: str | None) -> None:
    assert request_class(method, path) == kind


def test_fewer_requests_are_admitted_than_there_are_connections_and_threads() -> None:
    assert HEAVY_SLOTS + GENERAL_SLOTS < POOL_CONNECTIONS < 40
