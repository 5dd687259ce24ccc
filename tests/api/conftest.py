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
