"""An app over a database holding the hand-drawn places (answers known by eye)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import import_file
from gis.settings import Settings
from gis.store.database import Database
from tests import drawn


def load_drawn(settings: Settings, folder: Path) -> None:
    import_file(settings, "communities", drawn.write(drawn.communities_frame(), folder / "communities.geojson"))
    import_file(settings, "grids", drawn.write(drawn.grids_frame(), folder / "grids.geojson"))
    import_file(settings, "buildings", drawn.write(drawn.buildings_frame(), folder / "buildings.geojson"))
    import_file(settings, "teams", drawn.write(drawn.teams_frame(), folder / "teams.csv"))


@pytest.fixture
def client(db: Database, db_settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    load_drawn(db_settings, tmp_path)
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
