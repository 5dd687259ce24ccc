"""Open311 GeoReport v2 over the hand-drawn places: documents in both formats, posting, filters, privacy."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from urllib.parse import quote

import httpx
import prcoords
import pytest
from fastapi.testclient import TestClient
from pyproj import Geod
from sqlalchemy import text

from gis.store.database import Database
from tests import drawn
from tests.api.conftest import session_cookie

BASE = "/open311/v2"
KEY = "key-hotline-app"
WEST = {"lat": "29.555", "long": "106.505"}
EAST = {"lat": "29.555", "long": "106.515"}
REQUEST_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
]
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]


def post(client: TestClient, fmt: str = "json", **fields: str) -> httpx.Response:
    """POST form-encoded, as the spec says."""
    data = {"api_key": KEY, "service_code": "exposed_rubbish", **WEST, **fields}
    return client.post(f"{BASE}/requests.{fmt}", data={k: v for k, v in data.items() if v is not None})


def new_request(client: TestClient, **fields: str) -> str:
    response = post(client, **fields)
    assert response.status_code == 201, response.text
    return response.json()[0]["service_request_id"]


def as_xml(response: httpx.Response) -> ET.Element:
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def tags(element: ET.Element) -> list[str]:
    return [child.tag for child in element]


def ids(client: TestClient, **params: str) -> set[str]:
    response = client.get(f"{BASE}/requests.json", params=params)
    assert response.status_code == 200, response.text
    return {r["service_request_id"] for r in response.json()}


def act(client: TestClient, headers: dict[str, str], case_id: str, action: str, **extra: str) -> None:
    response = client.post(f"/api/cases/{case_id}/actions", json={"action": action, **extra}, headers=headers)
    assert response.status_code == 200, response.text


def case_count(client: TestClient, users: dict) -> int:
    return client.get("/api/cases", headers=users["admin"]).json()["numberMatched"]


# -- discovery and services -----------------------------------------------------------------------


def test_discovery_in_both_formats(client: TestClient) -> None:
    body = client.get(f"{BASE}/discovery.json").json()
    assert list(body) == ["changeset", "contact", "key_service", "endpoints"]
    [endpoint] = body["endpoints"]
    assert endpoint == {"specification": "http://wiki.open311.org/GeoReport_v2", "url": "http://testserver/open311/v2",
                        "changeset": body["changeset"], "type": "production",
                        "formats": ["text/xml", "application/json"]}
    root = as_xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery" and tags(root) == ["changeset", "contact", "key_service", "endpoints"]
    [element] = root.find("endpoints")
    assert element.tag == "endpoint"
    assert tags(element) == ["specification", "url", "changeset", "type", "formats"]
    assert [f.text for f in element.find("formats").iter("format")] == ["text/xml", "application/json"]


def test_openapi_documents_the_posted_fields(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/open311/v2/requests.{fmt}"]["post"]
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["service_code", "lat", "long"] and "coordinate_system" in form["properties"]


def test_services_in_both_formats_and_languages(client: TestClient) -> None:
    categories = client.get("/api/categories").json()
    services = client.get(f"{BASE}/services.json").json()
    assert [s["service_code"] for s in services] == [c["code"] for c in categories]
    rubbish = next(s for s in services if s["service_code"] == "exposed_rubbish")
    assert list(rubbish) == SERVICE_FIELDS
    assert rubbish["service_name"] == "暴露垃圾" and rubbish["group"] == "市容环境"
    assert rubbish["metadata"] is False and rubbish["type"] == "realtime"
    assert "4工作时" in rubbish["description"] and "属地优先" in rubbish["description"]
    english = client.get(f"{BASE}/services.json", params={"locale": "en"}).json()
    by_header = client.get(f"{BASE}/services.json", headers={"Accept-Language": "en-GB,en;q=0.8"}).json()
    assert english == by_header
    rubbish_en = next(s for s in english if s["service_code"] == "exposed_rubbish")
    assert rubbish_en["service_name"] == "Exposed rubbish" and "4 working hours" in rubbish_en["description"]
    root = as_xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and set(tags(root)) == {"service"} and len(root) == len(services)
    first = root[0]
    assert tags(first) == SERVICE_FIELDS
    assert first.findtext("service_code") == services[0]["service_code"]
    assert first.findtext("metadata") == "false"


def test_service_definition_and_unknown_code(client: TestClient) -> None:
    assert client.get(f"{BASE}/services/exposed_rubbish.json").json() == {
        "service_code": "exposed_rubbish", "attributes": []}
    root = as_xml(client.get(f"{BASE}/services/exposed_rubbish.xml"))
    assert root.tag == "service_definition" and tags(root) == ["service_code", "attributes"]
    assert len(root.find("attributes")) == 0
    missing = client.get(f"{BASE}/services/no_such_thing.json")
    assert missing.status_code == 404
    assert missing.json()[0]["code"] == 404 and "no_such_thing" in missing.json()[0]["description"]
    root = as_xml(client.get(f"{BASE}/services/no_such_thing.xml"))
    assert root.tag == "errors" and tags(root[0]) == ["code", "description"]


# -- posting --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("point", "grid"), [(WEST, drawn.WEST_CODE), (EAST, drawn.EAST_CODE)])
def test_post_form_encoded_is_routed_to_its_grid(
    client: TestClient, users: dict, point: dict, grid: str
) -> None:
    response = post(client, "xml", **point, account_id="acct-7")
    assert response.status_code == 201, response.text
    root = as_xml(response)
    assert root.tag == "service_requests" and tags(root) == ["request"]
    assert tags(root[0]) == ["service_request_id", "service_notice", "account_id"]
    case_id = root[0].findtext("service_request_id")
    assert root[0].findtext("service_notice") == "派遣后4工作时内处置"
    assert root[0].findtext("account_id") == "acct-7"
    assert response.headers["location"] == f"{BASE}/requests/{case_id}.xml"
    case = client.get(f"/api/cases/{case_id}", headers=users["centre"]).json()
    assert case["grid_code"] == grid and case["source"] == "resident" and case["created_by"] == "hotline-app"
    assert case["status"] == "reported" and case["category"]["code"] == "exposed_rubbish"


def test_post_json_body_with_source_extension(client: TestClient, users: dict) -> None:
    body = {"api_key": KEY, "service_code": "street_light_out", "lat": 29.555, "long": 106.515,
            "source": "hotline"}
    response = client.post(f"{BASE}/requests.json", json=body, headers={"Accept-Language": "en"})
    assert response.status_code == 201, response.text
    [answer] = response.json()
    assert answer == {"service_request_id": answer["service_request_id"], "account_id": None,
                      "service_notice": "to be handled within 3 working days of dispatch"}
    case = client.get(f"/api/cases/{answer['service_request_id']}", headers=users["centre"]).json()
    assert case["source"] == "hotline" and case["grid_code"] == drawn.EAST_CODE


@pytest.mark.parametrize(
    ("key", "where", "words"),
    [(None, "none", "api_key is required"), ("wrong-key", "form", "invalid api_key"),
     ("key-planner", "form", "may not report cases"), ("wrong-key", "bearer", "invalid api_key")],
)
def test_post_needs_a_valid_key(
    client: TestClient, users: dict, key: str | None, where: str, words: str
) -> None:
    data = {"service_code": "exposed_rubbish", **WEST}
    headers = {}
    if where == "form":
        data["api_key"] = key
    elif where == "bearer":
        headers["Authorization"] = f"Bearer {key}"
    response = client.post(f"{BASE}/requests.xml", data=data, headers=headers)
    assert response.status_code == 403
    root = as_xml(response)
    assert root.tag == "errors" and root[0].findtext("code") == "403"
    assert words in root[0].findtext("description")
    assert case_count(client, users) == 0


def test_key_may_come_as_header_but_not_as_page_cookie(client: TestClient, db: Database, users: dict) -> None:
    data = {"service_code": "exposed_rubbish", **WEST}
    assert client.post(f"{BASE}/requests.json", data=data, headers={"X-API-Key": KEY}).status_code == 201
    client.cookies.update(session_cookie(db, "hotline-app"))
    try:
        assert client.post(f"{BASE}/requests.json", data=data).status_code == 403
    finally:
        client.cookies.clear()
    assert case_count(client, users) == 1


@pytest.mark.parametrize("where", ["header", "field"])
def test_retry_with_the_same_idempotency_key_creates_nothing(
    client: TestClient, users: dict, where: str
) -> None:
    def attempt() -> httpx.Response:
        data = {"api_key": KEY, "service_code": "exposed_rubbish", **WEST}
        headers = {"Idempotency-Key": "app-42"} if where == "header" else {}
        if where == "field":
            data["idempotency_key"] = "app-42"
        return client.post(f"{BASE}/requests.json", data=data, headers=headers)

    first, retry = attempt(), attempt()
    assert (first.status_code, retry.status_code) == (201, 200)
    assert first.json() == retry.json()
    assert case_count(client, users) == 1


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"service_code": None}, 400, "service_code is required"),
        ({"service_code": "no_such_thing"}, 404, "unknown service_code 'no_such_thing'"),
        ({"lat": None, "long": None, "address_string": "解放碑"}, 400, "lat and long are required"),
        ({"long": None}, 400, "lat and long must be sent together"),
        ({"lat": "north"}, 400, "lat 'north' is not a number"),
        ({"lat": "51.5", "long": "-0.12"}, 400, "China"),
        ({"coordinate_system": "mars"}, 400, "unknown coordinate system 'mars'"),
        ({"source": "pigeon"}, 400, "unknown source 'pigeon'"),
        ({"media_url": "ftp://example.cn/a.jpg"}, 400, "media_url"),
        ({"description": "长" * 4001}, 400, "at most 4000"),
    ],
)
def test_post_errors_name_the_problem(
    client: TestClient, users: dict, fields: dict, status: int, words: str
) -> None:
    response = post(client, **fields)
    assert response.status_code == status, response.text
    [error] = response.json()
    assert error["code"] == status and words in error["description"], error
    assert case_count(client, users) == 0


def test_post_refuses_an_unknown_body_type(client: TestClient, users: dict) -> None:
    response = client.post(f"{BASE}/requests.xml", content=b"service_code=x",
                           headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert "application/x-www-form-urlencoded" in as_xml(response)[0].findtext("description")


def test_gcj02_coordinate_system_extension_converts(client: TestClient, users: dict) -> None:
    # 150 m west of the shared edge in WGS84; the GCJ-02 shift (~500 m east) would land it in the east grid.
    wgs = prcoords.Coords(29.555, 106.5085)
    gcj = prcoords.wgs_gcj(wgs)
    case_id = new_request(client, lat=str(gcj.lat), long=str(gcj.lon), coordinate_system="gcj02")
    [item] = client.get(f"{BASE}/requests/{case_id}.json").json()
    _, _, metres = Geod(ellps="WGS84").inv(item["long"], item["lat"], 106.5085, 29.555)
    assert metres < 1.0
    assert item["agency_responsible"] == drawn.WEST_CODE


# -- reading --------------------------------------------------------------------------------------


def test_get_requests_with_each_filter(client: TestClient, users: dict, db: Database) -> None:
    west = new_request(client)
    light = new_request(client, service_code="street_light_out", **EAST)
    east = new_request(client, **EAST)
    old = new_request(client)
    with db.session() as session:
        session.execute(text("UPDATE service_case SET reported_at = now() - interval '100 days' "
                             "WHERE id = :id"), {"id": int(old)})
    assert ids(client) == {west, light, east}  # default: the last 90 days
    assert ids(client, service_code="exposed_rubbish") == {west, east}
    assert ids(client, service_code="exposed_rubbish,street_light_out") == {west, light, east}
    assert ids(client, grid=drawn.WEST_CODE) == {west}
    assert ids(client, service_request_id=f"{west},{old}", grid=drawn.EAST_CODE) == {west, old}  # overrides
    now = datetime.now().astimezone()
    assert ids(client, start_date=(now - timedelta(days=110)).isoformat()) == {west, light, east, old}
    assert ids(client, start_date=(now - timedelta(days=110)).isoformat(),
               end_date=(now - timedelta(days=95)).isoformat()) == {old}
    assert ids(client, end_date=(now - timedelta(days=95)).isoformat()) == {old}
    # A "+08:00" offset sent without URL-encoding arrives as a space; it is still understood.
    raw = (now - timedelta(days=110)).astimezone().strftime("%Y-%m-%dT%H:%M:%S")
    offset_sent = client.get(f"{BASE}/requests.json?start_date={raw}+08:00")
    assert offset_sent.status_code == 200 and len(offset_sent.json()) == 4
    assert ids(client, status="open") == {west, light, east}
    assert ids(client, status="closed") == set()
    act(client, users["centre"], light, "decline", reason="重复上报")
    assert ids(client, status="closed") == {light}
    assert ids(client, status="open,closed") == {west, light, east}
    for bad in ({"status": "pending"}, {"start_date": "yesterday"},
                {"start_date": now.isoformat(), "end_date": (now - timedelta(days=1)).isoformat()},
                {"service_request_id": "12,abc"}):
        response = client.get(f"{BASE}/requests.json", params=bad)
        assert response.status_code == 400 and response.json()[0]["code"] == 400, bad


def test_status_open_and_closed_follow_the_workflow(client: TestClient, users: dict) -> None:
    case_id = new_request(client)

    def current(**params: str) -> dict:
        [item] = client.get(f"{BASE}/requests/{case_id}.json", params=params).json()
        return item

    assert (current()["status"], current()["status_notes"]) == ("open", "上报 (reported)")
    assert current()["expected_datetime"] is None
    act(client, users["centre"], case_id, "file")
    act(client, users["centre"], case_id, "dispatch")
    assert current()["expected_datetime"] is not None
    act(client, users["worker-west"], case_id, "accept")
    assert (current()["status"], current()["status_notes"]) == ("open", "处置中 (in_handling)")
    act(client, users["worker-west"], case_id, "handle")
    assert current()["status"] == "open"
    act(client, users["centre"], case_id, "verify")
    closed = current()
    assert (closed["status"], closed["status_notes"]) == ("closed", "结案 (closed)")
    native = client.get(f"/api/cases/{case_id}", headers=users["centre"]).json()
    assert datetime.fromisoformat(closed["updated_datetime"]) == datetime.fromisoformat(
        native["timestamps"]["closed_at"]).replace(microsecond=0)
    assert closed["expected_datetime"].endswith("+08:00") and closed["requested_datetime"].endswith("+08:00")
    english = current(locale="en")
    assert english["status_notes"] == "Closed (closed)" and english["service_name"] == "Exposed rubbish"
    declined = new_request(client)
    act(client, users["centre"], declined, "decline", reason="不属于受理范围")
    [item] = client.get(f"{BASE}/requests/{declined}.json").json()
    assert item["status"] == "closed" and item["status_notes"] == "不予立案 (declined)"
    for fmt in ("json", "xml"):  # a decline reason is an internal note: never in a public read
        for path in (f"requests/{declined}.{fmt}", f"requests.{fmt}"):
            assert "不属于受理范围" not in client.get(f"{BASE}/{path}").text, path


def test_fields_present_in_both_formats_and_no_personal_data(client: TestClient, users: dict) -> None:
    personal = {"first_name": "三", "last_name": "张", "phone": "13912345678", "email": "zhang@example.cn"}
    case_id = new_request(client, description="路边垃圾\x07成堆", address_string="测试路1号",
                          device_id="dev-9", account_id="acct-7", media_url="https://img.example.cn/a.jpg",
                          **personal)
    stored = client.get(f"/api/cases/{case_id}", headers=users["centre"]).json()
    assert stored["reporter"] == {"name": "张三", "contact": "13912345678; zhang@example.cn"}
    [item] = client.get(f"{BASE}/requests/{case_id}.json").json()
    assert list(item) == REQUEST_FIELDS
    assert item["service_request_id"] == case_id and item["service_code"] == "exposed_rubbish"
    assert item["description"] == "路边垃圾\x07成堆" and item["media_url"] == "https://img.example.cn/a.jpg"
    assert item["address"] == "测试路…" and item["agency_responsible"] == drawn.WEST_CODE  # cut to the street
    assert (item["lat"], item["long"]) == (29.555, 106.505)
    assert item["service_notice"] == "派遣后4工作时内处置"
    single_xml = client.get(f"{BASE}/requests/{case_id}.xml")
    root = as_xml(single_xml)
    assert root.tag == "service_requests" and tags(root) == ["request"]
    assert tags(root[0]) == REQUEST_FIELDS
    assert root[0].findtext("description") == "路边垃圾成堆"  # characters XML cannot carry are dropped
    assert root[0].findtext("long") == "106.505" and root[0].findtext("zipcode") == ""
    listing_xml = client.get(f"{BASE}/requests.xml")
    assert [r.findtext("service_request_id") for r in as_xml(listing_xml)] == [case_id]
    for response in (client.get(f"{BASE}/requests.json"), client.get(f"{BASE}/requests/{case_id}.json"),
                     single_xml, listing_xml):
        shown = response.text
        for value in (*personal.values(), "张三", "dev-9", "acct-7", "hotline-app"):
            assert value not in shown and quote(value) not in shown, value


def test_unknown_request_and_format_are_404_in_the_format(client: TestClient) -> None:
    response = client.get(f"{BASE}/requests/999999.xml")
    assert response.status_code == 404
    root = as_xml(response)
    assert root.tag == "errors" and tags(root) == ["error"]
    assert root[0].findtext("code") == "404" and "999999" in root[0].findtext("description")
    assert client.get(f"{BASE}/requests/abc.json").json()[0]["code"] == 404
    unknown_format = client.get(f"{BASE}/requests.csv")
    assert unknown_format.status_code == 404 and "use .xml or .json" in as_xml(unknown_format)[0].findtext(
        "description")


def test_livelihood_requests_are_not_exposed_in_public_reads(client, users) -> None:  # noqa: ANN001
    """A dispute can identify a household: public Open311 output withholds its text and blurs its position."""
    body = {"source": "hotline", "category": "neighbour_dispute", "lon": 106.50512, "lat": 29.55534,
            "description": "楼上漏水邻里纠纷，住户王某", "address": "民生路12号3单元502室"}
    case = client.post("/api/cases", json=body, headers=users["centre"]).json()
    item = client.get(f"/open311/v2/requests/{case['id']}.json").json()[0]
    assert item["description"] is None and item["address"] is None
    for path in (f"requests/{case['id']}.xml", "requests.json", "requests.xml"):
        shown = client.get(f"/open311/v2/{path}").text
        assert "民生路" not in shown and "王某" not in shown, path
    assert (item["lat"], item["long"]) == (29.555, 106.505)
    staff = client.get(f"/api/cases/{case['id']}", headers=users["centre"]).json()
    assert staff["description"] == body["description"]


def test_address_id_is_kept_for_staff_and_never_shown_in_public(client: TestClient, users: dict) -> None:
    """A stored extra field (api/open311_input.py STORED_EXTRAS) reaches staff and stays out of Open311 reads."""
    case_id = new_request(client, address_id="ADDR-500103-7731", device_id="dev-1")
    staff = client.get(f"/api/cases/{case_id}", headers=users["centre"]).json()
    assert staff["extras"] == {"address_id": "ADDR-500103-7731"}  # device_id is not stored
    for fmt in ("json", "xml"):
        assert "ADDR-500103-7731" not in client.get(f"{BASE}/requests/{case_id}.{fmt}").text
    too_long = post(client, address_id="x" * 101)
    assert too_long.status_code == 400 and "address_id" in too_long.text
