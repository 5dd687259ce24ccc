"""A streaming read replica that gridmap starts itself: map reads come from it, writes go to the primary,
and the lag shows on /healthz and in the wall's version poll.

The proof that reads come from the replica: with replay paused on the standby, a new case is on the
primary (the case list) but not on the map; once replay resumes, it appears there too.
"""

from __future__ import annotations

import time

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from gis.settings import Settings
from gis.store.database import Database

KEY = {"Authorization": "Bearer key-centre"}  # the `replicated` fixture (tests/conftest.py) makes this user
WEST = {"source": "hotline", "category": "exposed_rubbish", "lon": 106.505, "lat": 29.555}


def _on_standby(database: Database, statement: str) -> None:
    assert database.replica_cluster is not None
    with psycopg.connect(database.replica_cluster.dsn(), autocommit=True) as conn:
        conn.execute(statement)


def _open_cases_on_map(client: TestClient) -> int:
    summary = client.get("/api/layers/summary", params={"measure": "open_cases"}, headers=KEY).json()
    return summary["district"]["open_cases"]


def _wait_for(condition, seconds: float = 15.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_gridmap_runs_a_standby_and_reads_the_map_from_it(replicated: tuple[Settings, Database]) -> None:
    settings, database = replicated
    assert database.replica_cluster is not None and database.replica_cluster.is_running()
    with database.read_session() as session:
        assert session.execute(text("SELECT pg_is_in_recovery()")).scalar_one()
    with TestClient(create_app(settings, database=database)) as client:
        health = client.get("/healthz").json()
        assert health["replica"]["status"] == "streaming"
        assert _wait_for(lambda: client.get("/healthz").json()["replica"]["lag_bytes"] == 0)
        before = _open_cases_on_map(client)
        version = client.get("/api/layers/version", headers=KEY).json()
        assert version["replica_lag_seconds"] == 0

        _on_standby(database, "SELECT pg_wal_replay_pause()")
        try:
            created = client.post("/api/cases", json=WEST, headers=KEY)
            assert created.status_code == 201, created.text
            case_id = created.json()["id"]
            filed = client.post(f"/api/cases/{case_id}/actions", json={"action": "file"}, headers=KEY)
            assert filed.status_code == 200 and filed.json()["status"] == "filed"  # now an open case
            # Written to the primary: the case list (primary) has it at once ...
            assert client.get(f"/api/cases/{case_id}", headers=KEY).status_code == 200
            # ... the map (replica, replay paused) does not, and the lag says so.
            assert _open_cases_on_map(client) == before
            assert client.get("/api/layers/version", headers=KEY).json()["version"] == version["version"]
            assert _wait_for(lambda: client.get("/healthz").json()["replica"]["lag_bytes"] > 0, 5)
            assert client.get("/api/layers/version", headers=KEY).json()["replica_lag_seconds"] > 0
        finally:
            _on_standby(database, "SELECT pg_wal_replay_resume()")
        assert _wait_for(lambda: _open_cases_on_map(client) == before + 1)
        assert client.get("/api/layers/version", headers=KEY).json()["version"] != version["version"]
        assert _wait_for(lambda: client.get("/healthz").json()["replica"]["lag_bytes"] == 0)

