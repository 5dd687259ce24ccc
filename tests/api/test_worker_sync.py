"""A phone's queued actions sent again (the answer was lost on a weak network) apply exactly once: workflow
actions and photos take an `Idempotency-Key` header, as reports do. What the phone shows as a conflict (the
case was reassigned meanwhile) is an ordinary refusal that names the reason."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from gis.store.database import Database
from tests import drawn

WEST_POINT = {"lon": 106.505, "lat": 29.555}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _dispatched_west_case(client: TestClient, users: dict) -> int:
    body = {"source": "hotline", "category": "exposed_rubbish", "description": "路边垃圾", **WEST_POINT}
    case = client.post("/api/cases", json=body, headers=users["centre"]).json()
    assert case["grid_code"] == drawn.WEST_CODE
    for action in ("file", "dispatch"):
        response = client.post(f"/api/cases/{case['id']}/actions", json={"action": action}, headers=users["centre"])
        assert response.status_code == 200, response.text
    return case["id"]


def _act(client: TestClient, headers: dict[str, str], case_id: int, action: str, key: str | None, **extra: object):  # noqa: ANN202
    with_key = {**headers, "Idempotency-Key": key} if key else headers
    return client.post(f"/api/cases/{case_id}/actions", json={"action": action, **extra}, headers=with_key)


def _events(db: Database, case_id: int, action: str) -> int:
    with db.session() as session:
        return session.execute(text("SELECT count(*) FROM case_event WHERE case_id = :id AND action = :action"),
                               {"id": case_id, "action": action}).scalar_one()


def test_a_retried_action_with_the_same_key_applies_once(client: TestClient, users: dict, db: Database) -> None:
    case_id = _dispatched_west_case(client, users)
    worker = users["worker-west"]
    first = _act(client, worker, case_id, "accept", "phone-1-accept")
    again = _act(client, worker, case_id, "accept", "phone-1-accept")
    assert first.status_code == again.status_code == 200
    assert again.json()["status"] == "in_handling" and again.json()["my_actions"] == ["handle", "explain"]
    handled = [_act(client, worker, case_id, "handle", "phone-1-handle", note="清理完毕") for _ in range(3)]
    assert [r.status_code for r in handled] == [200, 200, 200]
    assert handled[-1].json()["status"] == "handled"
    assert (_events(db, case_id, "accept"), _events(db, case_id, "handle")) == (1, 1)
    # Without a key a repeat is a new request, which the workflow refuses, naming what it allows now.
    repeat = _act(client, worker, case_id, "handle", None)
    assert repeat.status_code == 409 and repeat.json()["details"]["allowed"] == ["verify", "reject", "merge"]


def test_a_key_reused_for_another_step_is_a_conflict(client: TestClient, users: dict, db: Database) -> None:
    case_id = _dispatched_west_case(client, users)
    worker = users["worker-west"]
    assert _act(client, worker, case_id, "accept", "same-key").status_code == 200
    reused = _act(client, worker, case_id, "handle", "same-key")
    assert reused.status_code == 409 and "accept" in reused.text
    assert _events(db, case_id, "handle") == 0


def test_keys_belong_to_their_caller(client: TestClient, users: dict, db: Database) -> None:
    """Another person's identical key is not a replay of theirs (the desk files with 'k', the worker too)."""
    case_id = _dispatched_west_case(client, users)
    assert _act(client, users["centre"], case_id, "reassign", "k", reason="换人", grid_code=drawn.WEST_CODE
                ).status_code == 200
    assert _act(client, users["worker-west"], case_id, "accept", "k").status_code == 200
    assert (_events(db, case_id, "reassign"), _events(db, case_id, "accept")) == (1, 1)


def test_a_retried_photo_with_the_same_key_is_stored_once(client: TestClient, users: dict, db: Database) -> None:
    case_id = _dispatched_west_case(client, users)
    headers = {**users["worker-west"], "Idempotency-Key": "phone-1-photo-1"}
    answers = [client.post(f"/api/cases/{case_id}/photos", files={"file": ("a.png", PNG, "image/png")},
                           headers=headers) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 200]
    assert answers[0].json() == answers[1].json()
    other = client.post(f"/api/cases/{case_id}/photos", files={"file": ("b.png", PNG, "image/png")},
                        headers={**users["worker-west"], "Idempotency-Key": "phone-1-photo-2"})
    assert other.status_code == 201 and other.json()["id"] != answers[0].json()["id"]
    photos = client.get(f"/api/cases/{case_id}", headers=users["worker-west"]).json()["photos"]
    assert photos == sorted([answers[0].json()["id"], other.json()["id"]])


def test_a_queued_action_on_a_case_reassigned_meanwhile_is_refused(client: TestClient, users: dict) -> None:
    """What the phone files under "conflicts": the case went to another grid while the worker was offline."""
    case_id = _dispatched_west_case(client, users)
    moved = _act(client, users["centre"], case_id, "reassign", None, reason="属东网格", grid_code=drawn.EAST_CODE)
    assert moved.status_code == 200 and moved.json()["grid_code"] == drawn.EAST_CODE
    late = _act(client, users["worker-west"], case_id, "accept", "phone-2-accept")
    assert late.status_code == 403 and "outside" in late.text
