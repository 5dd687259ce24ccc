"""Regression tests for what an outside probe found (issue 7, part 1): each failed on the code it found.

Reads-after-writes go through a real uvicorn server and a second connection, because the loss happened
between the response leaving the server and the commit that should have preceded it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from gis.settings import Settings
from gis.store.database import Database
from gis.store.users import create_user
from tests import drawn
from tests.api.conftest import KEYS, load_drawn
from tests.conftest import LiveServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEST_POINT = {"lon": 106.505, "lat": 29.555}
EAST_POINT = {"lon": 106.515, "lat": 29.555}


def bearer(username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer key-{username}"}


@pytest.fixture
def live(db: Database, db_settings: Settings, tmp_path: Path) -> Iterator[str]:
    """The drawn places behind a real server, with one user per role (keys 'key-<username>')."""
    load_drawn(db_settings, tmp_path)
    with db.session() as session:
        for username, (role, grid, street) in KEYS.items():
            create_user(session, username, role, grid_code=grid, street_code=street, key=f"key-{username}")
    with LiveServer(create_app(db_settings, database=db)) as server:
        yield server.url


def test_every_acknowledged_write_is_readable_at_once(live: str) -> None:
    """Write on one connection, read on another the moment the answer arrives: never a 404 or a stale state."""
    with httpx.Client(base_url=live, headers=bearer("centre")) as writer, \
            httpx.Client(base_url=live, headers=bearer("centre")) as reader:
        for number in range(60):
            body = {"source": "hotline", "category": "exposed_rubbish", "description": f"第{number}处", **WEST_POINT}
            created = writer.post("/api/cases", json=body)
            assert created.status_code == 201, created.text
            case_id = created.json()["id"]
            assert reader.get(f"/api/cases/{case_id}").status_code == 200, f"case {case_id} not readable"
            filed = writer.post(f"/api/cases/{case_id}/actions", json={"action": "file"})
            assert filed.status_code == 200, filed.text
            assert reader.get(f"/api/cases/{case_id}").json()["status"] == "filed"
            photo = writer.post(f"/api/cases/{case_id}/photos", files={"file": ("a.png", PNG, "image/png")})
            assert photo.status_code == 201, photo.text
            assert reader.get(photo.json()["url"]).status_code == 200


def test_open311_post_is_readable_at_once(live: str) -> None:
    with httpx.Client(base_url=live) as client:
        for number in range(30):
            posted = client.post("/open311/v2/requests.json", data={
                "api_key": "key-hotline-app", "service_code": "exposed_rubbish", "lat": "29.555",
                "long": "106.505", "description": f"第{number}处"})
            assert posted.status_code == 201, posted.text
            request_id = posted.json()[0]["service_request_id"]
            assert client.get(f"/open311/v2/requests/{request_id}.json").status_code == 200


def report(client: TestClient, headers: dict[str, str], point: dict[str, float]) -> dict:
    body = {"source": "patrol", "category": "exposed_rubbish", "description": "路边垃圾", **point}
    response = client.post("/api/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_planner_attaches_no_photo(client: TestClient, users: dict) -> None:
    case = report(client, users["centre"], WEST_POINT)
    upload = client.post(f"/api/cases/{case['id']}/photos", files={"file": ("a.png", PNG, "image/png")},
                         headers=users["planner"])
    assert upload.status_code == 403 and "photo" in upload.json()["detail"]
    assert client.get(f"/api/cases/{case['id']}", headers=users["centre"]).json()["photos"] == []


@pytest.mark.parametrize(("user", "may_attach"), [
    ("admin", True), ("centre", True), ("street-1", True), ("worker-west", True),
    ("worker-east", False), ("street-2", False), ("planner", False), ("hotline-app", False),
])
def test_who_may_attach_photos(client: TestClient, users: dict, user: str, may_attach: bool) -> None:
    case = report(client, users["centre"], WEST_POINT)
    upload = client.post(f"/api/cases/{case['id']}/photos", files={"file": ("a.png", PNG, "image/png")},
                         headers=users[user])
    assert upload.status_code == (201 if may_attach else 403), upload.text


@pytest.mark.parametrize("user", ["worker-west", "street-2"])
def test_a_case_reported_outside_ones_area_is_kept_and_readable_by_its_reporter(
    client: TestClient, users: dict, user: str,
) -> None:
    """A worker reports what they see wherever they are: same answer through the native API as Open311."""
    case = report(client, users[user], EAST_POINT)
    assert case["grid_code"] == drawn.EAST_CODE
    assert client.get(f"/api/cases/{case['id']}", headers=users[user]).status_code == 200
    assert client.get(f"/api/cases/{case['id']}", headers=users["centre"]).status_code == 200
    # Reporting it does not make it theirs to work: field and desk actions stay with its own area.
    action = "accept" if user.startswith("worker") else "file"
    assert client.post(f"/api/cases/{case['id']}/actions", json={"action": action},
                       headers=users[user]).status_code == 403
    # and other cases of that grid stay out of sight
    other = report(client, users["centre"], EAST_POINT)
    assert client.get(f"/api/cases/{other['id']}", headers=users[user]).status_code == 403


# -- the database away ----------------------------------------------------------------------------


@pytest.fixture
def no_database() -> Iterator[TestClient]:
    """An app whose database does not answer (nothing listens on the port): every call meets an outage."""
    from sqlalchemy.orm import sessionmaker

    from gis.store.database import make_engine

    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/gridmap?connect_timeout=2")
    database = Database(engine, sessionmaker(engine, expire_on_commit=False))
    settings = Settings(database_url=str(engine.url), sweep_interval_seconds=3600)
    with TestClient(create_app(settings, database=database)) as client:
        yield client


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/cases"), ("POST", "/api/cases"), ("GET", "/api/grids"), ("GET", "/api/layers/version"),
    ("GET", "/healthz"),
])
def test_an_outage_is_503_with_retry_after(no_database: TestClient, method: str, path: str) -> None:
    body = {"source": "hotline", "category": "exposed_rubbish", **WEST_POINT} if method == "POST" else None
    response = no_database.request(method, path, json=body, headers=bearer("centre"))
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    assert response.json()["error"] == "ServiceUnavailable"
    assert "database" in response.json()["detail"]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_an_outage_is_503_in_open311_format(no_database: TestClient, fmt: str) -> None:
    for response in (no_database.get(f"/open311/v2/requests.{fmt}"),
                     no_database.post(f"/open311/v2/requests.{fmt}", data={
                         "api_key": "key-hotline-app", "service_code": "exposed_rubbish", "lat": "29.555",
                         "long": "106.505"})):
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        if fmt == "xml":
            assert "<errors><error><code>503</code>" in response.text
        else:
            assert response.json()[0]["code"] == 503


def test_healthz_says_the_database_is_away(no_database: TestClient) -> None:
    body = no_database.get("/healthz").json()
    assert body["status"] == "unavailable" and body["database"] == "unreachable"


def test_the_published_document_declares_the_error_bodies_we_send(client: TestClient, users: dict) -> None:
    spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    declared = spec["paths"]["/api/cases"]["post"]["responses"]["422"]["content"]["application/json"]["schema"]
    assert declared == {"$ref": "#/components/schemas/Error"}
    required = spec["components"]["schemas"]["Error"]["required"]
    sent = client.post("/api/cases", json={"source": "hotline"}, headers=users["centre"])
    assert sent.status_code == 422 and set(required) <= set(sent.json())
    open311 = spec["paths"]["/open311/v2/requests.{fmt}"]["post"]["responses"]["400"]["content"]
    assert open311["application/json"]["schema"] == {"$ref": "#/components/schemas/Open311Errors"}
