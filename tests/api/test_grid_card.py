"""The public grid card (网格公示, `/card/{code}`) and its report form, on the hand-drawn district
(tests/drawn.py): the WEST grid's team is 钱队长 (leader, 13800000001) and 孙网格员 (grid worker,
13800000002), its branch 西网格党支部 with secretary 赵书记. Here the team also gets a party-member central
household, a volunteer and a caring resident, and the grid a case with a named reporter: the card must never
show any of them, whoever asks."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import segno
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.pages import card_report
from api.pages.grid_card import QR_ERROR
from gis.periods import district_today, parse_period
from gis.permissions import Actor
from gis.store import cases as store
from gis.store.commitments import CommitmentInput
from gis.store.commitments import create as create_commitment
from gis.store.database import Database
from gis.store.measures import grid_measures
from tests import drawn

WEST, EAST = drawn.WEST_CODE, drawn.EAST_CODE
PUBLIC = ("钱队长", "13800000001", "孙网格员", "13800000002", "赵书记", "西网格党支部")
PRIVATE = {"central_household": ("党员陈中心", "13911110001"), "volunteer": ("志愿者韩", "13911110002"),
           "caring_resident": ("热心居民林", "13911110003")}
REPORTER = ("欧阳报事", "13655556666")
ADMIN = Actor("admin", "admin")


@pytest.fixture
def grid(client: TestClient, db: Database) -> str:
    """The WEST grid with private residents in its team and a case reported by a named resident."""
    with db.session() as session:
        team = session.execute(text("SELECT id, district_code, street_code FROM service_team "
                                    "WHERE grid_code = :g AND valid_to IS NULL"), {"g": WEST}).mappings().one()
        for role, (name, phone) in PRIVATE.items():
            person = session.execute(text("INSERT INTO person (name, phone, district_code) VALUES (:n, :p, '500103') "
                                          "RETURNING id"), {"n": name, "p": phone}).scalar_one()
            session.execute(text(
                "INSERT INTO team_membership (team_id, person_id, role, from_date, district_code, street_code) "
                "VALUES (:t, :p, CAST(:r AS team_role), '2024-01-01', :d, :s)"),
                {"t": team["id"], "p": person, "r": role, "d": team["district_code"], "s": team["street_code"]})
        store.create_case(session, store.CaseInput(
            source="hotline", category_code="neighbour_dispute", lon=106.505, lat=29.555, description="楼上漏水",
            reporter_name=REPORTER[0],
            reporter_contact=REPORTER[1], address="测试路1号3单元502"), ADMIN)
    return WEST


# -- the card ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", [None, "en"])
def test_the_card_names_the_notice_board_and_never_the_private_residents_or_reporters(
        client: TestClient, grid: str, lang: str | None) -> None:
    page = client.get(f"/card/{grid}", params={"lang": lang} if lang else {})
    assert page.status_code == 200, page.text
    for shown in PUBLIC:
        assert shown in page.text, shown
    for name, phone in (*PRIVATE.values(), REPORTER):
        assert name not in page.text and phone not in page.text, name
    assert "漏水" not in page.text and "502" not in page.text
    assert "周离职" not in page.text  # a grid worker whose membership has ended
    assert ("Grid notice board" in page.text) == (lang == "en")


def test_a_signed_in_reader_gets_the_same_public_card(client: TestClient, users: dict, grid: str) -> None:
    anonymous = client.get(f"/card/{grid}").text
    admin = client.get(f"/card/{grid}", headers=users["admin"]).text
    for name, _ in PRIVATE.values():
        assert name not in admin
    strip = re.compile(r'name="key" value="[^"]*"')
    assert strip.sub("", admin) == strip.sub("", anonymous)


def test_the_qr_code_encodes_the_report_form_of_this_grid(client: TestClient, grid: str) -> None:
    for lang, url in ((None, f"http://testserver/card/{grid}/report"),
                      ("en", f"http://testserver/card/{grid}/report?lang=en")):
        page = client.get(f"/card/{grid}", params={"lang": lang} if lang else {}).text
        svg = re.search(r"<svg[^>]*class=\"qr\".*?</svg>", page, re.S)
        assert svg, "no inline QR code"
        expected = segno.make(url, error=QR_ERROR, micro=False)
        # the same symbol segno draws for the URL, module for module (a QR of any other text differs)
        assert _modules(svg.group(0)) == _modules(expected.svg_inline(scale=1, border=2, omitsize=True))
        assert f"<title>{url}</title>" in svg.group(0).replace("&amp;", "&")
        assert _modules(svg.group(0)) != _modules(segno.make(url + "x", error=QR_ERROR).svg_inline(
            scale=1, border=2, omitsize=True))


def _modules(svg: str) -> str:
    return re.search(r' d="([^"]+)"', svg).group(1)


def test_the_card_shows_commitments_the_next_work_day_and_the_measures_figures(
        client: TestClient, users: dict, db: Database, grid: str) -> None:
    next_week = district_today() + timedelta(days=7)
    answer = client.post("/api/workdays", headers=users["centre"], json={
        "scope": "community", "community_code": grid[:12], "title": "社区工作日", "place": "党群服务中心",
        "date": next_week.isoformat(), "start_time": "09:00", "end_time": "11:30"})
    assert answer.status_code == 201, answer.text
    with db.session() as session:
        team_id = session.execute(text("SELECT id FROM service_team WHERE grid_code = :g AND valid_to IS NULL"),
                                  {"g": grid}).scalar_one()
        create_commitment(session, CommitmentInput(holder_kind="team", title="每周走访独居老人", team_id=team_id,
                                                   due_on=next_week + timedelta(days=30)), ADMIN, district_today())
        # a case due ten days ago (in the 90 days), closed and rated satisfied: due 1, solved 1, rated 1
        then = datetime.now(UTC) - timedelta(days=12)
        case_id, _ = store.create_case(session, store.CaseInput(
            source="hotline", category_code="exposed_rubbish", lon=106.505, lat=29.556), ADMIN, now=then)
        for hours, action in enumerate(("file", "dispatch", "accept", "handle", "verify")):
            store.apply_action(session, case_id, store.ActionInput(action), ADMIN, now=then + timedelta(hours=hours))
        store.apply_action(session, case_id, store.ActionInput("evaluate_satisfied", satisfaction="satisfied"), ADMIN,
                           now=then + timedelta(hours=6))
    page = client.get(f"/card/{grid}").text
    assert "每周走访独居老人" in page and "西网格服务团队" in page
    assert next_week.isoformat() in page and "09:00–11:30" in page and "党群服务中心" in page
    with db.session() as session:
        row = next(r for r in grid_measures(session, parse_period("90d")) if r["code"] == grid)
    assert row["closure_rate"] == 1.0 and row["satisfaction"] == 1.0  # the one definition, measured here
    figures = re.search(r'id="card-figures".*?</section>', page, re.S).group(0)
    assert figures.count("100.0%") == 2 and "1/1" in figures


def test_without_cases_the_figures_say_no_data(client: TestClient) -> None:
    figures = re.search(r'id="card-figures".*?</section>', client.get(f"/card/{EAST}").text, re.S).group(0)
    assert figures.count("暂无数据") == 2 and "%" not in figures


@pytest.mark.parametrize(("path", "status"), [
    ("/card/500103001001009", 404), ("/card/5001030010010", 422), ("/card/50010300100100x/report", 422),
    ("/card/500103001001009/report", 404),
])
def test_unknown_or_malformed_grids_are_refused(client: TestClient, path: str, status: int) -> None:
    assert client.get(path).status_code == status


# -- the report form -----------------------------------------------------------------------------------

ORIGIN = {"Origin": "http://testserver"}


def _form(client: TestClient, grid: str = WEST, lang: str | None = None) -> dict[str, str]:
    page = client.get(f"/card/{grid}/report", params={"lang": lang} if lang else {})
    assert page.status_code == 200
    assert "exposed_rubbish" in page.text and "<optgroup" in page.text
    return {"key": re.search(r'name="key" value="([^"]+)"', page.text).group(1),
            "category": "exposed_rubbish", "description": "单元门口堆了垃圾"}


def _cases(db: Database) -> list[dict]:
    with db.session() as session:
        return [dict(r) for r in session.execute(text(
            "SELECT id, grid_code, source, created_by, reporter_name, reporter_contact, extras, description "
            "FROM service_case ORDER BY id")).mappings()]


def test_a_report_without_a_position_goes_to_the_cards_grid(client: TestClient, db: Database) -> None:
    body = {**_form(client, EAST), "reporter_name": REPORTER[0], "reporter_phone": REPORTER[1]}
    answer = client.post(f"/card/{EAST}/report", data=body, headers=ORIGIN)
    assert answer.status_code == 201, answer.text
    (case,) = _cases(db)
    assert case["grid_code"] == EAST and case["source"] == "resident"
    assert case["created_by"] == card_report.CARD_REPORTER.username and case["extras"] == {"card_grid": EAST}
    assert (case["reporter_name"], case["reporter_contact"]) == REPORTER
    reference = re.search(r'id="reference">(\d+)<', answer.text).group(1)
    assert int(reference) == case["id"]
    assert REPORTER[0] not in answer.text and REPORTER[1] not in answer.text and "垃圾" not in answer.text


def test_a_report_with_a_position_is_routed_by_it(client: TestClient, db: Database) -> None:
    answer = client.post(f"/card/{WEST}/report", headers=ORIGIN,
                         data={**_form(client), "lon": "106.515", "lat": "29.555"})
    assert answer.status_code == 201, answer.text
    assert [c["grid_code"] for c in _cases(db)] == [EAST]  # where the resident stood, as any report


def test_the_same_form_sent_twice_stores_one_case(client: TestClient, db: Database) -> None:
    body = _form(client)
    first = client.post(f"/card/{WEST}/report", data=body, headers=ORIGIN)
    second = client.post(f"/card/{WEST}/report", data=body, headers=ORIGIN)
    assert first.status_code == second.status_code == 201
    assert len(_cases(db)) == 1
    assert re.search(r'id="reference">(\d+)<', first.text).group(1) == \
        re.search(r'id="reference">(\d+)<', second.text).group(1)


@pytest.mark.parametrize(("change", "status", "message"), [
    ({"category": ""}, 422, "请选择问题类别"),
    ({"category": "no_such_kind"}, 422, "请选择问题类别"),
    ({"description": ""}, 422, "请填写问题描述"),
    ({"description": "很长" * 600}, 422, "最多 1000 字"),
    ({"lon": "106.5"}, 422, "位置无效"),
    ({"lon": "abc", "lat": "29.5"}, 422, "位置无效"),
    ({"lon": "2.35", "lat": "48.85"}, 422, "位置无效"),  # Paris: outside China
    ({"reporter_phone": "call me"}, 422, "联系电话格式不对"),
    ({"description": "a\x00b"}, 422, "提交内容有误"),
])
def test_bad_input_reshows_the_form_with_the_problem_and_stores_nothing(
        client: TestClient, db: Database, change: dict, status: int, message: str) -> None:
    body = {**_form(client), **change}
    answer = client.post(f"/card/{WEST}/report", data=body, headers=ORIGIN)
    assert answer.status_code == status, answer.text
    assert message in answer.text and 'role="alert"' in answer.text
    if body["description"] and "\x00" not in body["description"]:
        assert body["description"][:20] in answer.text  # what was typed is kept
    assert _cases(db) == []


@pytest.mark.parametrize("headers", [{}, {"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"},
                                     {"Origin": "null"}])
def test_a_post_from_another_site_is_refused(client: TestClient, db: Database, headers: dict) -> None:
    answer = client.post(f"/card/{WEST}/report", data=_form(client), headers=headers)
    assert answer.status_code == 403 and "请从本网站的表单提交" in answer.text
    assert _cases(db) == []


def test_a_report_to_an_unknown_grid_is_404(client: TestClient, db: Database) -> None:
    answer = client.post("/card/500103001001009/report", data=_form(client), headers=ORIGIN)
    assert answer.status_code == 404 and _cases(db) == []


def test_reports_are_throttled_per_address(client: TestClient, db: Database) -> None:
    for number in range(card_report.REPORTS_PER_WINDOW):
        answer = client.post(f"/card/{WEST}/report", data=_form(client), headers=ORIGIN)
        assert answer.status_code == 201, (number, answer.text)
    refused = client.post(f"/card/{WEST}/report", data=_form(client), headers=ORIGIN)
    assert refused.status_code == 429 and "提交过于频繁" in refused.text
    assert len(_cases(db)) == card_report.REPORTS_PER_WINDOW


def test_the_form_speaks_english_when_asked(client: TestClient, db: Database) -> None:
    answer = client.post(f"/card/{WEST}/report", params={"lang": "en"}, data={**_form(client, lang="en"),
                                                                              "description": ""}, headers=ORIGIN)
    assert answer.status_code == 422 and "Describe the problem" in answer.text
