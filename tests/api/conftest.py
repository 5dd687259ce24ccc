"""An app over a database holding the hand-drawn places (answers known by eye)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import import_file
from gis import passwords
from gis.settings import Settings
from gis.store.database import Database, open_database
from tests import drawn


def load_drawn(settings: Settings, folder: Path) -> None:
    """The hand-drawn places, written as files into `folder` and imported through the CLI's path (one
    database opened for the four files, as `gridmap sample` does)."""
    files = (("communities", drawn.communities_frame(), "communities.geojson"),
             ("grids", drawn.grids_frame(), "grids.geojson"),
             ("buildings", drawn.buildings_frame(), "buildings.geojson"),
             ("teams", drawn.teams_frame(), "teams.csv"))
    database = open_database(settings)
    try:
        for kind, frame, file_name in files:
            import_file(settings, kind, drawn.write(frame, folder / file_name), database=database)
    finally:
        database.close()


@pytest.fixture
def client(db: Database, db_settings: Settings) -> Iterator[TestClient]:
    """The app over `db`, which holds the hand-drawn places for a test that uses this fixture (loaded once
    per session by `load_drawn` into `drawn_template`, then cloned: see `db` in tests/conftest.py)."""
    with TestClient(create_app(db_settings, database=db)) as test_client:
        yield test_client


KEYS = {
    "admin": ("admin", None, None),
    "centre": ("command_centre", None, None),
    "planner": ("planner", None, None),
    "worker-west": ("grid_worker", drawn.WEST_CODE, None),
    "worker-east": ("grid_worker", drawn.EAST_CODE, None),
    "street-1": ("street_officer", None, "500103001"),
    "street-2": ("street_officer", None, "500103002"),
    "hotline-app": ("open311_client", None, None),
}


@pytest.fixture
def users(client: TestClient, db: Database) -> dict[str, dict[str, str]]:
    """One user per role; returns headers per username (the key equals 'key-<username>')."""
    from gis.store.users import create_user

    with db.session() as session:
        for username, (role, grid, street) in KEYS.items():
            create_user(session, username, role, grid_code=grid, street_code=street, key=f"key-{username}")
    return {username: {"Authorization": f"Bearer key-{username}"} for username in KEYS}


PASSWORD = "a-long-test-password"


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign a person in the way their page does (JSON, from this origin); returns the CSRF token their
    page would send back with each write. The client keeps the session cookie."""
    response = client.post("/api/session", json={"username": username, "password": password},
                           headers={"Origin": str(client.base_url)})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


def page_headers(client: TestClient, csrf_token: str) -> dict[str, str]:
    """What a page's script sends with a write: its origin and the session's CSRF token."""
    return {"Origin": str(client.base_url), "X-CSRF-Token": csrf_token}


_hash_of = functools.cache(passwords.hash_password)  # the real function, whatever a test patches later


@pytest.fixture
def people(client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """People with passwords (PASSWORD), one per role, in the drawn district; returns username → role.
    Their argon2 hash is the real one, made once per session (hashing costs a fifth of a second by design);
    signing in checks it in full."""
    from gis.store.users import create_user

    accounts = {"p-centre": ("command_centre", {}), "p-admin": ("admin", {}), "p-planner": ("planner", {}),
                "p-worker-west": ("grid_worker", {"grid_code": drawn.WEST_CODE}),
                "p-street-1": ("street_officer", {"street_code": "500103001"})}
    with monkeypatch.context() as patch, db.session() as session:
        patch.setattr(passwords, "hash_password", _hash_of)
        for username, (role, area) in accounts.items():
            create_user(session, username, role, password=PASSWORD, **area)
    return {username: role for username, (role, _) in accounts.items()}


def session_cookie(db: Database, username: str) -> dict[str, str]:
    """A signed-in browser's cookie for any account (as if it had signed in), for read tests."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from gis.store.sessions import open_session

    with db.session() as session:
        user_id = session.execute(text("SELECT id FROM app_user WHERE username = :u"), {"u": username}).scalar_one()
        token = open_session(session, user_id, via="password", now=datetime.now(UTC), client_ip=None, user_agent=None)
    return {"gridmap_session": token}
