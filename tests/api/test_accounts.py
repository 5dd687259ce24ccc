"""People's accounts: passwords, lockout and its end, sessions that end (sign-out, expiry, idleness,
disabling, a new password), CSRF and Origin on cookie writes, keys only in headers, the sign-in throttle,
the audit log, and a worker's grids following their team memberships by date."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.cli import main as gridmap
from gis import passwords
from gis.store.database import Database
from gis.store.users import actor_for_user, create_user
from tests import drawn
from tests.api.conftest import PASSWORD, page_headers, sign_in

CASE = {"source": "hotline", "category": "exposed_rubbish", "lon": 106.505, "lat": 29.555, "description": "垃圾"}
BBOX = {"bbox": "106.5,29.55,106.52,29.56"}


def _post_case(client: TestClient, headers: dict[str, str]) -> int:
    return client.post("/api/cases", json=CASE, headers=headers).status_code


def _sql(db: Database, statement: str, **params: object) -> None:
    with db.session() as session:
        session.execute(text(statement), params)


# -- passwords and lockout ----------------------------------------------------------------------------


def test_a_person_signs_in_and_the_cookie_holds_only_a_session_id(client: TestClient, people: dict) -> None:
    response = client.post("/api/session", json={"username": "p-centre", "password": PASSWORD},
                           headers={"Origin": str(client.base_url)})
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "command_centre" and body["area"] == {"level": "everywhere", "codes": []}
    cookies = "; ".join(response.headers.get_list("set-cookie"))
    session_cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("gridmap_session="))
    assert "httponly" in session_cookie.lower() and "samesite=strict" in session_cookie.lower()
    assert "secure" not in session_cookie.lower()  # plain http in tests; https sets Secure (below)
    assert PASSWORD not in cookies
    assert client.get("/api/session").json()["username"] == "p-centre"
    assert client.get("/api/buildings", params=BBOX).status_code == 200


def test_over_https_the_session_cookies_are_secure(client: TestClient, people: dict) -> None:
    secure = TestClient(client.app, base_url="https://testserver")
    response = secure.post("/api/session", json={"username": "p-centre", "password": PASSWORD},
                           headers={"Origin": "https://testserver"})
    assert response.status_code == 200
    assert all("secure" in c.lower() for c in response.headers.get_list("set-cookie"))


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(client: TestClient, people: dict) -> None:
    wrong = client.post("/api/session", json={"username": "p-centre", "password": "not-the-password"})
    unknown = client.post("/api/session", json={"username": "nobody", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "wrong username or password"
    assert "gridmap_session" not in client.cookies


def test_repeated_wrong_passwords_lock_the_account_until_the_lock_ends(
    client: TestClient, db: Database, people: dict
) -> None:
    for _ in range(passwords.FAILURES_BEFORE_LOCK):
        assert client.post("/api/session", json={"username": "p-planner", "password": "wrong-wrong"}).status_code == 401
    locked = client.post("/api/session", json={"username": "p-planner", "password": PASSWORD})
    assert locked.status_code == 401 and "locked until" in locked.json()["detail"]
    _sql(db, "UPDATE app_user SET locked_until = now() - interval '1 second' WHERE username = 'p-planner'")
    assert client.post("/api/session", json={"username": "p-planner", "password": PASSWORD}).status_code == 200


def test_an_address_that_fails_too_often_waits(client: TestClient, people: dict) -> None:
    client.app.state.sign_in_throttle.limit = 3
    for _ in range(3):
        client.post("/api/session", json={"username": f"guess-{_}", "password": "wrong-wrong"})
    refused = client.post("/api/session", json={"username": "p-centre", "password": PASSWORD})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    form = client.post("/session", data={"username": "p-centre", "password": PASSWORD})
    assert form.status_code == 429


def test_passwords_are_stored_as_argon2_hashes_and_must_be_long_enough(client: TestClient, db: Database) -> None:
    with db.session() as session:
        create_user(session, "long-enough", "planner", password="ten chars!")
        stored = session.execute(text("SELECT password_hash, api_key_hash FROM app_user "
                                      "WHERE username = 'long-enough'")).mappings().one()
    assert stored["password_hash"].startswith("$argon2id$") and stored["api_key_hash"] is None
    too_short = client.app.state.database
    with too_short.session() as session, pytest.raises(Exception, match="at least 10 characters"):
        create_user(session, "short", "planner", password="short")


# -- sessions end -------------------------------------------------------------------------------------


def test_sign_out_ends_the_session_on_the_server(client: TestClient, people: dict) -> None:
    csrf = sign_in(client, "p-centre")
    stolen = client.cookies.get("gridmap_session")
    assert client.delete("/api/session", headers=page_headers(client, csrf)).status_code == 200
    assert client.get("/api/session").status_code == 401
    client.cookies.set("gridmap_session", stolen)  # a copy of the cookie no longer works either
    assert client.get("/api/session").status_code == 401


@pytest.mark.parametrize("ending", [
    "UPDATE user_session SET expires_at = now() - interval '1 second'",
    "UPDATE user_session SET last_seen_at = now() - interval '5 hours'",  # idle longer than IDLE_TIMEOUT
    "UPDATE app_user SET active = false WHERE username = 'p-centre'",
])
def test_expired_idle_and_disabled_sessions_end(client: TestClient, db: Database, people: dict, ending: str) -> None:
    sign_in(client, "p-centre")
    assert client.get("/api/session").status_code == 200
    _sql(db, ending)
    response = client.get("/api/session")
    assert response.status_code == 401 and "sign in again" in response.json()["detail"]


def test_an_admins_password_reset_and_disabling_end_the_persons_sessions(
    client: TestClient, db: Database, people: dict, users: dict
) -> None:
    worker = TestClient(client.app)
    sign_in(worker, "p-worker-west")
    assert worker.get("/api/session").status_code == 200
    refused = client.post("/api/users/p-worker-west/password", json={"password": "new-password-123"},
                          headers=users["centre"])
    assert refused.status_code == 403
    reset = client.post("/api/users/p-worker-west/password", json={"password": "new-password-123"},
                        headers=users["admin"])
    assert reset.status_code == 200
    assert worker.get("/api/session").status_code == 401
    sign_in(worker, "p-worker-west", "new-password-123")
    assert client.post("/api/users/p-worker-west/disable", headers=users["admin"]).status_code == 200
    assert worker.get("/api/session").status_code == 401
    again = worker.post("/api/session", json={"username": "p-worker-west", "password": "new-password-123"})
    assert again.status_code == 401


# -- writes with the session cookie: CSRF and Origin --------------------------------------------------


def test_a_cookie_write_needs_the_csrf_token_and_this_origin(client: TestClient, people: dict) -> None:
    csrf = sign_in(client, "p-centre")
    origin = str(client.base_url)
    missing = client.post("/api/cases", json=CASE, headers={"Origin": origin})
    assert missing.status_code == 403 and "CSRF" in missing.json()["detail"]
    wrong = client.post("/api/cases", json=CASE, headers={"Origin": origin, "X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    foreign = client.post("/api/cases", json=CASE, headers={"Origin": "https://evil.example", "X-CSRF-Token": csrf})
    assert foreign.status_code == 403 and "evil.example" in foreign.json()["detail"]
    no_origin = client.post("/api/cases", json=CASE, headers={"X-CSRF-Token": csrf})
    assert no_origin.status_code == 403
    referer = client.post("/api/cases", json=CASE, headers={"Referer": f"{origin}/m", "X-CSRF-Token": csrf})
    assert referer.status_code == 201
    assert _post_case(client, page_headers(client, csrf)) == 201
    assert client.get("/api/cases").json()["numberMatched"] == 2  # the refused attempts wrote nothing


def test_a_foreign_page_cannot_sign_anyone_in(client: TestClient, people: dict) -> None:
    response = client.post("/api/session", json={"username": "p-centre", "password": PASSWORD},
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 403 and "gridmap_session" not in client.cookies
    form = client.post("/session", data={"username": "p-centre", "password": PASSWORD},
                       headers={"Origin": "https://evil.example"})
    assert form.status_code == 403 and "gridmap_session" not in client.cookies


def test_a_key_in_a_header_needs_no_csrf_token_but_a_key_in_the_url_is_refused(
    client: TestClient, users: dict
) -> None:
    assert _post_case(client, users["centre"]) == 201
    in_url = client.get("/api/cases", params={"api_key": "key-centre"})
    assert in_url.status_code == 401 and "not accepted in the URL" in in_url.json()["detail"]
    posted = client.post("/api/cases", params={"api_key": "key-centre"}, json=CASE)
    assert posted.status_code == 401


# -- the audit log ------------------------------------------------------------------------------------


def test_every_write_and_sign_in_is_in_the_audit_log_which_only_admins_read(
    client: TestClient, people: dict, users: dict
) -> None:
    assert _post_case(client, users["centre"]) == 201
    assert client.post("/api/cases", json={}, headers=users["worker-west"]).status_code == 422
    client.post("/api/session", json={"username": "p-centre", "password": "wrong-wrong"})
    for role in ("centre", "planner", "worker-west", "hotline-app"):
        assert client.get("/api/audit", headers=users[role]).status_code == 403
    log = client.get("/api/audit", headers=users["admin"]).json()["items"]
    writes = [(e["username"], e["method"], e["path"], e["status"]) for e in log if e["kind"] == "write"]
    assert ("centre", "POST", "/api/cases", 201) in writes
    assert ("worker-west", "POST", "/api/cases", 422) in writes
    failed = [e for e in log if e["kind"] == "sign_in_failed"]
    assert failed and failed[0]["detail"] == {"username": "p-centre"} and failed[0]["client_ip"]
    assert all("password" not in str(e["detail"]).lower() for e in log)


# -- a worker's grids follow their team memberships ---------------------------------------------------


def _person(db: Database, name: str) -> int:
    with db.session() as session:
        return session.execute(text("SELECT id FROM person WHERE name = :n"), {"n": name}).scalar_one()


def test_a_workers_grids_are_those_of_the_teams_they_serve_in_today(client: TestClient, db: Database) -> None:
    with db.session() as session:
        serving = create_user(session, "sun", "grid_worker", password=PASSWORD, person_id=_person(db, "孙网格员"))
        left = create_user(session, "zhou", "grid_worker", password=PASSWORD, person_id=_person(db, "周离职"))
        assert serving is None and left is None  # people get no key
        ids = dict(session.execute(text("SELECT username, id FROM app_user")).all())
        assert actor_for_user(session, ids["sun"]).grid_codes == {drawn.WEST_CODE}
        assert actor_for_user(session, ids["zhou"]).grid_codes == frozenset()  # left at the end of 2023
        session.execute(text("UPDATE team_membership SET to_date = :last WHERE person_id = :p"),
                        {"last": date(2099, 12, 31), "p": _person(db, "周离职")})  # back in the team
        assert actor_for_user(session, ids["zhou"]).grid_codes == {drawn.WEST_CODE}
    sign_in(client, "sun")
    assert client.get("/api/session").json()["area"] == {"level": "grid", "codes": [drawn.WEST_CODE]}


# -- the command line ---------------------------------------------------------------------------------


def test_gridmap_user_commands(db_settings, db: Database, client: TestClient, monkeypatch, capsys) -> None:  # noqa: ANN001
    import io

    monkeypatch.setenv("GRIDMAP_DATABASE_URL", db_settings.database_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("first-password-1\n"))
    assert gridmap(["user", "add", "li", "--role", "community_manager", "--community", "500103001001",
                    "--password-stdin"]) == 0
    assert "li (community_manager) created; signs in with the password" in capsys.readouterr().out
    assert sign_in(client, "li", "first-password-1")
    assert client.get("/api/session").json()["area"] == {"level": "community", "codes": ["500103001001"]}
    monkeypatch.setattr("sys.stdin", io.StringIO("second-password-2\n"))
    assert gridmap(["user", "passwd", "li", "--password-stdin"]) == 0
    assert client.get("/api/session").status_code == 401  # a new password ends the sessions
    assert gridmap(["user", "role", "li", "--role", "street_officer", "--street", "500103001"]) == 0
    assert sign_in(client, "li", "second-password-2")
    assert client.get("/api/session").json()["area"] == {"level": "street", "codes": ["500103001"]}
    assert gridmap(["user", "disable", "li"]) == 0
    assert client.get("/api/session").status_code == 401
    assert gridmap(["user", "add", "app", "--role", "open311_client", "--machine"]) == 0
    key = capsys.readouterr().out.rsplit(": ", 1)[1].strip()
    assert client.get("/api/cases", headers={"X-API-Key": key}).status_code == 200
    assert gridmap(["user", "add", "bad", "--role", "community_manager"]) != 0  # no community given
