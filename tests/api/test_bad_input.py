"""Bad input, table-driven: each class the probe found, over every text and numeric parameter.

Every bad value gets a 4xx that names the problem and changes nothing. The sweep at the end walks the
OpenAPI document, so a new route's parameters are covered without editing this file.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from gis.store.database import Database
from tests import drawn

NUL = "a\x00b"
SURROGATE_JSON = '"\\ud800"'  # a lone surrogate, as a JSON escape
HUGE = str(2**64)
WEST = {"lon": 106.505, "lat": 29.555}
CASE_BODY = {"source": "hotline", "category": "exposed_rubbish", "description": "路边垃圾", **WEST}
OPEN311_FORM = {"api_key": "key-hotline-app", "service_code": "exposed_rubbish", "lat": "29.555", "long": "106.505"}


def stored(db: Database) -> tuple[int, int]:
    with db.session() as session:
        cases = session.execute(text("SELECT count(*) FROM service_case")).scalar_one()
        events = session.execute(text("SELECT count(*) FROM case_event")).scalar_one()
    return cases, events


def refused(response: Any, status: int, *words: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    for word in words:
        assert word in response.text, (word, response.text)


# -- NUL bytes and lone surrogates in bodies ------------------------------------------------------

CASE_TEXT_FIELDS = ["source", "category", "description", "crs", "address", "reporter_name", "reporter_contact",
                    "idempotency_key"]


@pytest.mark.parametrize("field", CASE_TEXT_FIELDS)
def test_nul_in_a_native_case_field(client: TestClient, users: dict, db: Database, field: str) -> None:
    before = stored(db)
    response = client.post("/api/cases", json={**CASE_BODY, field: NUL}, headers=users["centre"])
    refused(response, 422, field, "NUL")
    assert stored(db) == before


ACTION_TEXT_FIELDS = ["action", "reason", "satisfaction", "note", "crs", "grid_code", "department"]


@pytest.mark.parametrize("field", ACTION_TEXT_FIELDS)
def test_nul_in_an_action_field(client: TestClient, users: dict, db: Database, field: str) -> None:
    case = client.post("/api/cases", json=CASE_BODY, headers=users["centre"]).json()
    before = stored(db)
    response = client.post(f"/api/cases/{case['id']}/actions", json={"action": "file", field: NUL},
                           headers=users["centre"])
    refused(response, 422, field, "NUL")
    assert stored(db) == before
    route = client.post(f"/api/cases/{case['id']}/route", json={"grid_code": drawn.WEST_CODE, "note": NUL},
                        headers=users["centre"])
    refused(route, 422, "note", "NUL")


OPEN311_TEXT_FIELDS = ["service_code", "description", "address_string", "first_name", "last_name", "phone", "email",
                       "idempotency_key", "source", "coordinate_system", "account_id", "device_id"]


@pytest.mark.parametrize("encoding", ["form", "json"])
@pytest.mark.parametrize("field", OPEN311_TEXT_FIELDS)
def test_nul_in_an_open311_field(client: TestClient, users: dict, db: Database, field: str, encoding: str) -> None:
    before = stored(db)
    fields = {**OPEN311_FORM, field: NUL}
    if encoding == "form":
        response = client.post("/open311/v2/requests.json", data=fields)
    else:
        response = client.post("/open311/v2/requests.json", json=fields)
    refused(response, 400, field, "NUL")
    assert response.json()[0]["code"] == 400
    assert stored(db) == before


@pytest.mark.parametrize("field", ["description", "address_string", "first_name", "idempotency_key"])
def test_lone_surrogate_in_an_open311_json_body(client: TestClient, users: dict, db: Database, field: str) -> None:
    before = stored(db)
    body = json.dumps(OPEN311_FORM)[:-1] + f', "{field}": {SURROGATE_JSON}}}'
    response = client.post("/open311/v2/requests.xml", content=body.encode(),
                           headers={"Content-Type": "application/json"})
    refused(response, 400, field, "surrogate")
    assert "<errors>" in response.text
    assert stored(db) == before


def test_lone_surrogate_in_a_native_json_body(client: TestClient, users: dict, db: Database) -> None:
    before = stored(db)
    body = json.dumps(CASE_BODY)[:-1] + f', "address": {SURROGATE_JSON}}}'
    response = client.post("/api/cases", content=body.encode(),
                           headers={**users["centre"], "Content-Type": "application/json"})
    refused(response, 422, "address")
    assert stored(db) == before


# -- numbers, dates and periods out of range ------------------------------------------------------

OUT_OF_RANGE = [
    ("/api/cases", {"offset": str(2**63)}, 422, "offset"),
    ("/api/cases", {"offset": HUGE}, 422, "offset"),
    ("/api/grids", {"offset": str(2**63)}, 422, "offset"),
    ("/api/buildings", {"offset": HUGE, "outside": "true"}, 422, "offset"),
    (f"/api/cases/{2**63}", {}, 422, "case_id"),
    (f"/api/cases/{HUGE}/events", {}, 422, "case_id"),
    ("/open311/v2/requests.json", {"end_date": "0001-01-01T00:00:00"}, 400, "end_date"),
    ("/open311/v2/requests.json", {"end_date": "9999-12-31T23:59:59.999999+00:00"}, 400, "end_date"),
    ("/open311/v2/requests.json", {"start_date": "0001-01-01T00:00:00+08:00"}, 400, "start_date"),
    ("/open311/v2/requests.json", {"service_request_id": str(2**64)}, 400, "service_request_id"),
    ("/api/layers/grids", {"period": "9999-12"}, 422, "9999-12"),
    ("/api/layers/summary", {"period": "9999-12"}, 422, "9999-12"),
    ("/api/layers/legend", {"period": "0001-01"}, 422, "0001-01"),
    ("/api/layers/grids", {"period": "9999-12-30..9999-12-31"}, 422, "9999-12-31"),
    ("/tiles/grids/14/13294/6843.mvt", {"period": "9999-12"}, 422, "9999-12"),
    ("/api/ledger.csv", {"grid": drawn.WEST_CODE, "from": "9999-12-01", "to": "9999-12-31"}, 422, "9999"),
]


@pytest.mark.parametrize(("path", "params", "status", "named"), OUT_OF_RANGE)
def test_out_of_range_values_are_refused_by_name(
    client: TestClient, users: dict, path: str, params: dict, status: int, named: str,
) -> None:
    refused(client.get(path, params=params, headers=users["admin"]), status, named)


# -- the sweep: every text and numeric parameter of every GET in the published document -----------

SAMPLE_PATH_VALUES = {"code": drawn.WEST_CODE, "fmt": "json", "z": "14", "x": "13294", "y": "6843",
                      "layer": "grids", "service_code": "exposed_rubbish", "service_request_id": "1",
                      "case_id": "1", "photo_id": "1"}


def _get_operations(spec: dict) -> list[tuple[str, dict]]:
    return [(path, operation["get"]) for path, operation in spec["paths"].items() if "get" in operation]


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_VALUES.get(m[1], "1"), path)


def _bad_values(schema: dict) -> list[str]:
    kinds = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
    values = []
    if "string" in kinds or not kinds - {None}:
        values.append(NUL)
    if kinds & {"integer", "number"}:
        values += [HUGE, NUL]
    return values


def test_every_get_parameter_refuses_nul_and_huge_numbers(client: TestClient, users: dict, db: Database) -> None:
    """No 5xx from any parameter of any GET, whoever asks; nothing written."""
    client.post("/api/cases", json=CASE_BODY, headers=users["centre"])
    before = stored(db)
    spec = client.get("/openapi.json").json()
    tried = 0
    for path, operation in _get_operations(spec):
        for parameter in operation.get("parameters", []):
            for value in _bad_values(parameter.get("schema", {})):
                where = parameter["in"]
                url = _concrete(path)
                params = {}
                if where == "query":
                    params[parameter["name"]] = value
                elif where == "path":
                    url = _concrete(path.replace("{" + parameter["name"] + "}", value.replace("\x00", "%00")))
                else:
                    continue
                response = client.get(url, params=params, headers=users["admin"])
                tried += 1
                assert 400 <= response.status_code < 500, (path, parameter["name"], value, response.text)
    assert tried > 40
    assert stored(db) == before
