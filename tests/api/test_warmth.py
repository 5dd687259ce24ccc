"""The warmer (api/warmer.py, gis/store/warmth.py): from `warm_from_grids` current grids the server makes
the wall's measure table, its first measure's summary, the overdue and coverage layers at start-up, so the first wall's
requests find them made; below it nothing is made. `/healthz` says which."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from gis.settings import CITY_SCALE_GRIDS, Settings
from gis.store.database import Database
from gis.store.tile_classes import WALL_MEASURES
from gis.store.users import create_user


def warmth_when_settled(client: TestClient, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get("/healthz").json()
        if body["warmth"]["state"] != "warming" or time.monotonic() > deadline:
            return body["warmth"]
        time.sleep(0.05)


def test_a_city_scale_server_makes_the_walls_first_answers_before_it_is_asked(
    client: TestClient, db: Database, db_settings: Settings
) -> None:
    # `client` loads the hand-drawn district into `db`; a second app over it is the one under test
    with db.session() as session:
        create_user(session, "centre", "command_centre", key="key-centre")
    headers = {"Authorization": "Bearer key-centre"}
    # the hand-drawn district has 2 grids: with the threshold at 1 it counts as a city
    with TestClient(create_app(replace(db_settings, warm_from_grids=1), database=db)) as city:
        warmth = warmth_when_settled(city)
        assert warmth["state"] == "warm" and warmth["grids"] == 2 and warmth["stamp"]
        cache = city.app.state.layer_cache
        made = cache.computations
        assert made == 3  # the grid rows, the overdue layer and the coverage layer, each once by the warmer
        table = city.get("/tiles/grids/classes.json", headers=headers)
        assert table.status_code == 200, table.text
        assert table.json()["stamp"] == warmth["stamp"]  # the very table the warmer made
        summary = city.get("/api/layers/summary", params={"measure": WALL_MEASURES[0]}, headers=headers)
        assert summary.status_code == 200, summary.text
        for layer in ("overdue", "coverage"):
            answer = city.get(f"/api/layers/{layer}", headers=headers)
            assert answer.status_code == 200, answer.text
        assert cache.computations == made  # no request computed anything


def test_a_small_district_is_left_cold(client: TestClient) -> None:
    assert CITY_SCALE_GRIDS > 2
    warmth = warmth_when_settled(client)
    assert warmth["state"] == "small" and warmth["grids"] == 2
    assert client.app.state.layer_cache.computations == 0


def test_the_warmer_reads_its_settings_from_the_environment() -> None:
    settings = Settings.from_env({"GRIDMAP_WARM_FROM_GRIDS": "5000", "GRIDMAP_WARM_INTERVAL_SECONDS": "15"})
    assert settings.warm_from_grids == 5000 and settings.warm_interval_seconds == 15.0
    assert Settings.from_env({}).warm_from_grids == CITY_SCALE_GRIDS
