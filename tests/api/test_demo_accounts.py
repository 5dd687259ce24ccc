"""`gridmap sample` leaves a demo wall key and a demo grid worker who can sign in to the phone page, with
fresh secrets on every run."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.cli import _demo_accounts
from gis.store.database import Database
from tests.api.conftest import sign_in


def test_demo_accounts_are_refreshed_on_every_run(own_sample_db: Database, pg_cluster) -> None:  # noqa: ANN001
    with own_sample_db.session() as session:
        first_key, (username, first_password, grid) = _demo_accounts(session)
    with own_sample_db.session() as session:
        second_key, (_, second_password, second_grid) = _demo_accounts(session)
    assert first_key != second_key and first_password != second_password and grid == second_grid
    app = create_app(database=own_sample_db)
    with TestClient(app) as client:
        assert client.get("/api/session", headers={"X-API-Key": first_key}).status_code == 401
        assert client.get("/api/layers/version", headers={"X-API-Key": second_key}).status_code == 200
        refused = client.post("/api/session", json={"username": username, "password": first_password})
        assert refused.status_code == 401
        sign_in(client, username, second_password)
        area = client.get("/api/session").json()["area"]
        assert area == {"level": "grid", "codes": [grid]}
        with own_sample_db.session() as session:  # a point inside the worker's grid and one in another grid
            points = session.execute(text(
                "SELECT code, ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat "
                "FROM grid WHERE code = :own OR code = (SELECT min(code) FROM grid WHERE code <> :own) "
                "ORDER BY code = :own DESC"), {"own": grid}).mappings().all()
        for point in points:
            posted = client.post("/api/cases", headers={"X-API-Key": second_key}, json={
                "source": "hotline", "category": "exposed_rubbish", "lon": point["lon"], "lat": point["lat"]})
            assert posted.status_code == 201 and posted.json()["grid_code"] == point["code"]
        cases = client.get("/api/cases").json()["items"]
        assert [c["grid_code"] for c in cases] == [grid]
