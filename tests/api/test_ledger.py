"""The ledger export (台账) over the hand-drawn places: the workbook and the CSV agree with the case list,
the summary with the rows; the period and the caller's area limit what is exported; bad requests are
refused naming the problem."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote

import openpyxl
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from openpyxl.workbook.workbook import Workbook
from sqlalchemy import text

from gis import ledger
from gis.i18n import parse_language
from gis.permissions import Actor
from gis.store.database import Database
from gis.workcalendar import SHANGHAI
from gis.workflow import STATUS_LABELS, CaseStatus
from tests import drawn

COMMUNITY = "500103001001"
STREET = "500103001"
JANUARY = {"from": "2026-01-01", "to": "2026-02-01"}
WEST_POINT = {"lon": 106.505, "lat": 29.555}
EAST_POINT = {"lon": 106.515, "lat": 29.555}
FORMULA = '=HYPERLINK("http://example.invalid","点我")'
ZH_STATUS = {s.value: STATUS_LABELS[s]["zh-CN"] for s in CaseStatus}


def report(client: TestClient, headers: dict[str, str], point: dict[str, float], **overrides: object) -> int:
    body = {"source": "hotline", "category": "exposed_rubbish", "description": "路边垃圾", **point}
    body.update(overrides)
    response = client.post("/api/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def walk(client: TestClient, users: dict, case_id: int, steps: list[tuple[str, str, dict[str, Any]]]) -> None:
    for user, action, extra in steps:
        response = client.post(f"/api/cases/{case_id}/actions", json={"action": action, **extra},
                               headers=users[user])
        assert response.status_code == 200, (action, response.text)


def set_reported(db: Database, case_id: int, moment: str) -> None:
    with db.session() as session:
        session.execute(text("UPDATE service_case SET reported_at = CAST(:at AS timestamptz) WHERE id = :id"),
                        {"at": moment, "id": case_id})


@pytest.fixture
def cases(client: TestClient, users: dict, db: Database) -> dict[str, int]:
    """Seven cases reported in January 2026 (local time) in both grids, at every kind of stage, and three
    just outside it. Names: w* west grid, e* east grid."""
    ids = {
        "w_evaluated": report(client, users["centre"], WEST_POINT, reporter_name="张三"),
        "w_declined": report(client, users["centre"], WEST_POINT),
        "w_rework": report(client, users["worker-west"], WEST_POINT, source="patrol"),
        "w_overdue": report(client, users["centre"], WEST_POINT, category="neighbour_dispute"),
        "w_formula": report(client, users["hotline-app"], WEST_POINT, description=FORMULA),
        "e_closed": report(client, users["centre"], EAST_POINT),
        "e_filed": report(client, users["centre"], EAST_POINT),
        "e_february": report(client, users["centre"], EAST_POINT),
        "e_new_year_eve": report(client, users["centre"], EAST_POINT),
        "e_last_minute": report(client, users["centre"], EAST_POINT),
    }
    to_close = [("centre", "file", {}), ("centre", "dispatch", {}), ("worker-west", "accept", {}),
                ("worker-west", "handle", {"note": "已清理"}), ("centre", "verify", {})]
    satisfied = ("centre", "evaluate_satisfied", {"satisfaction": "satisfied"})
    walk(client, users, ids["w_evaluated"], [*to_close, satisfied])
    walk(client, users, ids["w_declined"], [("centre", "decline", {"reason": "重复上报"})])
    walk(client, users, ids["w_rework"], [*to_close[:4], ("centre", "reject", {"reason": "未清理干净"})])
    walk(client, users, ids["w_overdue"], to_close[:2])
    walk(client, users, ids["e_closed"], [(u.replace("west", "east"), a, x) for u, a, x in to_close])
    walk(client, users, ids["e_filed"], [("centre", "file", {})])
    with db.session() as session:  # the dispute's deadline has passed
        session.execute(text("UPDATE service_case SET deadline = '2026-01-10T09:00:00+08:00' WHERE id = :id"),
                        {"id": ids["w_overdue"]})
    for day, name in enumerate(["w_evaluated", "w_declined", "w_rework", "w_overdue", "w_formula", "e_closed",
                                "e_filed"], start=2):
        set_reported(db, ids[name], f"2026-01-{day:02d}T10:00:00+08:00")
    set_reported(db, ids["e_february"], "2026-02-01T00:00:00+08:00")  # `to` is exclusive
    set_reported(db, ids["e_new_year_eve"], "2025-12-31T23:59:00+08:00")  # 15:59 UTC on the 31st
    set_reported(db, ids["e_last_minute"], "2026-01-31T16:30:00+00:00")  # 00:30 on 1 February in Chongqing
    return ids


def read_ledger(content: bytes) -> tuple[Workbook, str, list[str], list[dict[str, Any]]]:
    """The workbook, its title, its headers and its rows as dicts keyed by header."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    header = list(rows[1])
    return workbook, rows[0][0], header, [dict(zip(header, row, strict=True)) for row in rows[2:]]


def summary_blocks(workbook: Workbook) -> dict[str, list[tuple]]:
    """The summary sheet's tables, keyed by their first heading cell (指标, 状态, 大类, 网格编码)."""
    blocks: dict[str, list[tuple]] = {}
    current: list[tuple] | None = None
    for row in list(workbook.worksheets[1].iter_rows(values_only=True))[2:]:
        if all(value is None for value in row):
            current = None
        elif current is None:
            current = blocks.setdefault(row[0], [])
        else:
            current.append(row)
    return blocks


def listed(client: TestClient, headers: dict[str, str], **scope: str) -> dict[str, Any]:
    params = {**scope, "reported_from": "2026-01-01T00:00:00+08:00",
              "reported_to": "2026-02-01T00:00:00+08:00", "limit": 5000}
    response = client.get("/api/cases", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def local(iso: str | None) -> datetime | None:
    if iso is None:
        return None
    return datetime.fromisoformat(iso).astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)


def export(client: TestClient, headers: dict[str, str], kind: str = "xlsx", **params: str) -> Response:
    return client.get(f"/api/ledger.{kind}", params=params, headers=headers)


# -- the workbook -----------------------------------------------------------------------------------


def test_workbook_rows_match_the_case_list(client: TestClient, users: dict, cases: dict[str, int]) -> None:
    response = export(client, users["admin"], community=COMMUNITY, **JANUARY)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == ledger.XLSX_MEDIA_TYPE
    workbook, title, header, rows = read_ledger(response.content)
    assert workbook.sheetnames == ["台账", "汇总"]
    assert title == "渝中区 解放碑街道 测试社区 诉求台账 2026-01-01 至 2026-01-31"
    assert header == [c.zh for c in ledger.COLUMNS]
    assert header[:4] == ["序号", "案件编号", "上报时间", "来源"]
    sheet = workbook.worksheets[0]
    assert sheet.freeze_panes == "C3" and sheet["B2"].font.b and sheet["A1"].font.b

    expected = listed(client, users["admin"], community=COMMUNITY)
    assert len(rows) == expected["numberMatched"] == 7
    assert Counter(r["状态"] for r in rows) == Counter(ZH_STATUS[c["status"]] for c in expected["items"])
    assert [r["序号"] for r in rows] == list(range(1, 8))
    assert [r["上报时间"] for r in rows] == sorted(r["上报时间"] for r in rows)
    by_id = {c["id"]: c for c in expected["items"]}
    assert {r["案件编号"] for r in rows} == set(by_id)
    for row in rows:  # every step's time, as naive Asia/Shanghai datetimes
        case = by_id[row["案件编号"]]
        stamps = case["timestamps"]
        assert row["上报时间"] == local(stamps["reported_at"]) and isinstance(row["上报时间"], datetime)
        for header_text, key in [("立案时间", "filed_at"), ("派遣时间", "dispatched_at"),
                                 ("签收时间", "accepted_at"), ("处置完成时间", "handled_at"),
                                 ("结案时间", "closed_at"), ("返工时间", "reworked_at"),
                                 ("评价时间", "evaluated_at"), ("不予立案时间", "declined_at"),
                                 ("首次响应时间", "first_action_at")]:
            assert row[header_text] == local(stamps[key]), (header_text, case["id"])
        assert row["处置时限"] == local(case["deadline"])
        assert row["是否超期"] == ("是" if case["overdue"] else "否")
        assert row["返工次数"] == case["rework_count"]

    row = {r["案件编号"]: r for r in rows}
    evaluated, declined, rework = row[cases["w_evaluated"]], row[cases["w_declined"]], row[cases["w_rework"]]
    assert (evaluated["状态"], evaluated["满意度"], evaluated["诉求人"]) == ("已评价", "满意", "张三")
    assert (evaluated["网格"], evaluated["网格编码"], evaluated["服务团队"], evaluated["网格党支部"]) == (
        "西网格", drawn.WEST_CODE, "西网格服务团队", "西网格党支部")
    assert [evaluated[h] for h in ("街道", "社区", "来源", "小类", "大类")] == [
        "解放碑街道", "测试社区", "12345热线", "暴露垃圾", "市容环境"]
    assert evaluated["首问责任人"] == "centre" and row[cases["w_rework"]]["首问责任人"] == "worker-west"
    assert [declined[h] for h in ("状态", "不予立案原因", "最新进展")] == ["不予立案", "重复上报", "重复上报"]
    assert (rework["状态"], rework["返工次数"], rework["最新进展"]) == ("返工", 1, "未清理干净")
    assert row[cases["w_overdue"]]["是否超期"] == "是"
    assert row[cases["e_closed"]]["服务团队"] is None  # the east grid has no team
    formula = sheet.cell(row=[r["案件编号"] for r in rows].index(cases["w_formula"]) + 3, column=7)
    assert formula.value == FORMULA and formula.data_type == "s"  # a resident's text is never a formula


def test_summary_sheet_totals_equal_the_rows(client: TestClient, users: dict, cases: dict[str, int]) -> None:
    response = export(client, users["centre"], community=COMMUNITY, **JANUARY)
    workbook, _, _, rows = read_ledger(response.content)
    assert workbook.worksheets[1].title == "汇总"
    blocks = summary_blocks(workbook)
    totals = {measure: value for measure, value, *_ in blocks["指标"]}
    closed = sum(r["状态"] in ("结案", "已评价") for r in rows)
    filed = sum(r["状态"] not in ("上报", "不予立案") for r in rows)
    assert totals["诉求总数"] == len(rows) == 7
    assert totals["不予立案"] == sum(r["状态"] == "不予立案" for r in rows) == 1
    assert totals["待立案"] == sum(r["状态"] == "上报" for r in rows) == 1
    assert totals["已立案（应结案）"] == filed == 5
    assert totals["已结案"] == closed == 2
    assert totals["立案办结率"] == pytest.approx(closed / filed)  # not the wall's 结案率 (closed / due)
    on_time = sum(r["状态"] in ("结案", "已评价") and r["是否超期"] == "否" for r in rows)
    assert totals["按期结案"] == on_time == 2
    assert totals["立案按期办结率"] == pytest.approx(2 / 5)
    assert totals["超期"] == sum(r["是否超期"] == "是" for r in rows) == 1
    assert totals["返工案件"] == sum(r["返工次数"] > 0 for r in rows) == 1
    assert totals["已处置"] == sum(r["处置完成时间"] is not None for r in rows) == 3
    assert totals["返工率"] == pytest.approx(1 / 3)
    assert (totals["已评价"], totals["满意"], totals["满意率"]) == (1, 1, 1)

    statuses = {status: count for status, count, *_ in blocks["状态"]}
    assert statuses.pop("合计") == len(rows)
    assert statuses == {label: sum(r["状态"] == label for r in rows) for label in ZH_STATUS.values()}
    for heading, key in [("大类", "小类"), ("网格编码", "网格")]:
        *groups, total = blocks[heading]
        assert total[0] == "合计" and total[2] == len(rows) == sum(g[2] for g in groups)
        assert total[4] == closed == sum(g[4] for g in groups)
        assert {g[1]: g[2] for g in groups} == Counter(r[key] for r in rows)
    grids = {g[0]: g[2:6] for g in blocks["网格编码"][:-1]}
    assert grids == {drawn.WEST_CODE: (5, 3, 1, 1), drawn.EAST_CODE: (2, 2, 1, 0)}


def test_csv_has_the_same_rows(client: TestClient, users: dict, cases: dict[str, int]) -> None:
    _, _, header, rows = read_ledger(export(client, users["admin"], community=COMMUNITY, **JANUARY).content)
    response = export(client, users["admin"], "csv", community=COMMUNITY, **JANUARY)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(response.content[3:].decode("utf-8"))))
    assert lines[0] == header

    def shown(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        return "'" + value if isinstance(value, str) and value.startswith("=") else str(value)

    assert lines[1:] == [[shown(v) for v in row.values()] for row in rows]
    assert any(line[6] == "'" + FORMULA for line in lines[1:])


def test_english_headers_and_labels(client: TestClient, users: dict, cases: dict[str, int]) -> None:
    params = {"community": COMMUNITY, **JANUARY, "lang": "en"}
    response = export(client, users["planner"], **params)
    workbook, title, header, rows = read_ledger(response.content)
    assert header == [c.en for c in ledger.COLUMNS] and header[:3] == ["No.", "Case no.", "Reported at"]
    assert workbook.sheetnames == ["Ledger", "Summary"]
    assert title == "渝中区 解放碑街道 测试社区 case ledger 2026-01-01 to 2026-01-31"
    assert {r["Status"] for r in rows} >= {"Declined", "Evaluated", "Rework"}
    assert response.headers["content-disposition"] == (
        'attachment; filename="ledger_500103001001_2026-01.xlsx"')  # ASCII: no filename* needed
    text_csv = export(client, users["planner"], "csv", **params).content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text_csv)))
    assert lines[0] == header and len(lines) == 8


def test_period_is_local_days_to_exclusive(client: TestClient, users: dict, cases: dict[str, int]) -> None:
    _, _, _, rows = read_ledger(export(client, users["admin"], grid=drawn.EAST_CODE, **JANUARY).content)
    assert [r["案件编号"] for r in rows] == [cases["e_closed"], cases["e_filed"]]
    wider = {"from": "2025-12-31", "to": "2026-02-02"}
    _, _, _, rows = read_ledger(export(client, users["admin"], grid=drawn.EAST_CODE, **wider).content)
    outside = {cases["e_new_year_eve"], cases["e_last_minute"], cases["e_february"]}
    assert outside <= {r["案件编号"] for r in rows} and len(rows) == 5


def test_filename_is_rfc_5987_for_chinese(client: TestClient, users: dict, cases: dict[str, int]) -> None:
    response = export(client, users["admin"], community=COMMUNITY, **JANUARY)
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="ledger_500103001001_2026-01.xlsx"; '
                                  "filename*=UTF-8''")
    assert unquote(disposition.split("''", 1)[1]) == "台账_500103001001_2026-01.xlsx"
    assert response.headers["cache-control"] == "no-store"
    half = {"from": "2026-01-01", "to": "2026-01-16"}
    other = export(client, users["admin"], "csv", grid=drawn.WEST_CODE, **half)
    assert unquote(other.headers["content-disposition"].split("''", 1)[1]) == (
        "台账_500103001001001_2026-01-01_2026-01-15.csv")


# -- who may export what ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "scope", "status"),
    [
        ("admin", {"street": STREET}, 200),
        ("centre", {"community": COMMUNITY}, 200),
        ("planner", {"grid": drawn.EAST_CODE}, 200),
        ("worker-west", {"grid": drawn.WEST_CODE}, 200),
        ("worker-west", {"community": COMMUNITY}, 403),
        ("worker-east", {"grid": drawn.WEST_CODE}, 403),
        ("street-1", {"street": STREET}, 200),
        ("street-1", {"grid": drawn.EAST_CODE}, 200),
        ("street-2", {"street": STREET}, 403),
        ("street-2", {"community": COMMUNITY}, 403),
        ("hotline-app", {"community": COMMUNITY}, 403),
    ],
)
def test_roles_export_only_their_area(
    client: TestClient, users: dict, user: str, scope: dict, status: int
) -> None:
    for kind in ("xlsx", "csv"):
        response = export(client, users[user], kind, **scope, **JANUARY)
        assert response.status_code == status, (kind, response.text)
        if status == 403:
            assert "may not" in response.json()["detail"]


def test_exported_rows_are_those_the_caller_may_list(
    client: TestClient, users: dict, cases: dict[str, int]
) -> None:
    for user, scope in [("worker-west", {"grid": drawn.WEST_CODE}), ("street-1", {"street": STREET})]:
        _, _, _, rows = read_ledger(export(client, users[user], **scope, **JANUARY).content)
        expected = listed(client, users[user], **scope)
        assert sorted(r["案件编号"] for r in rows) == sorted(c["id"] for c in expected["items"]), user
    assert len(rows) == 7


def test_no_key_is_401_and_unknown_place_404(client: TestClient, users: dict) -> None:
    assert export(client, {}, community=COMMUNITY, **JANUARY).status_code == 401
    bad_key = export(client, {"Authorization": "Bearer nope"}, "csv", community=COMMUNITY, **JANUARY)
    assert bad_key.status_code == 401
    unknown = export(client, users["admin"], street="500103009", **JANUARY)
    assert unknown.status_code == 404 and "500103009" in unknown.json()["detail"]
    # A role that never exports is told so before its parameters are looked at.
    assert export(client, users["hotline-app"], **{"from": "x"}).status_code == 403


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"grid": drawn.WEST_CODE, "community": COMMUNITY, **JANUARY},
         "exactly one scope: grid, community or street (got grid, community)"),
        (dict(JANUARY), "exactly one scope: grid, community or street (got none)"),
        ({"street": STREET, "from": "2026-02-01", "to": "2026-01-01"},
         "'to' (2026-01-01) must be after 'from' (2026-02-01)"),
        ({"street": STREET, "from": "2026-01-01", "to": "2026-01-01"}, "must be after"),
        ({"street": STREET, "from": "2025-01-01", "to": "2026-01-03"}, "367 days; at most 366"),
        ({"street": STREET, "from": "2026-13-01", "to": "2026-02-01"}, "from: "),
        ({"street": STREET, "from": "2026-01-01"}, "to: Field required"),
        ({"grid": "123", **JANUARY}, "grid code '123' must be exactly 15 digits"),
        ({"street": STREET, **JANUARY, "lang": "fr"}, "lang 'fr' is not offered"),
    ],
)
def test_bad_parameters_are_named(client: TestClient, users: dict, params: dict, words: str) -> None:
    response = export(client, users["admin"], **params)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]


def test_a_leap_year_of_366_days_is_allowed(client: TestClient, users: dict) -> None:
    leap_year = {"from": "2024-01-01", "to": "2025-01-01"}
    response = export(client, users["street-1"], "csv", street=STREET, **leap_year)
    assert response.status_code == 200
    assert "台账_500103001_2024.csv" in unquote(response.headers["content-disposition"])
    assert response.content.decode("utf-8-sig").count("\n") == 1  # the header alone


# -- the pure rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "slug"),
    [
        (date(2026, 1, 1), date(2026, 2, 1), "2026-01"),
        (date(2026, 12, 1), date(2027, 1, 1), "2026-12"),
        (date(2026, 1, 1), date(2027, 1, 1), "2026"),
        (date(2026, 3, 5), date(2026, 3, 6), "2026-03-05"),
        (date(2026, 1, 2), date(2026, 2, 2), "2026-01-02_2026-02-01"),
    ],
)
def test_period_slug(start: date, end: date, slug: str) -> None:
    assert ledger.ledger_period(start, end).slug() == slug


def test_can_read_scope_by_role() -> None:
    west = ledger.parse_scope(grid=drawn.WEST_CODE, community=None, street=None)
    community = ledger.parse_scope(grid=None, community=COMMUNITY, street="")
    other_street = ledger.parse_scope(grid=None, community=None, street="500103002")
    street_1 = Actor("s1", "street_officer", street_code=STREET)
    worker = Actor("w", "grid_worker", grid_codes=frozenset({drawn.WEST_CODE}))
    scopes = (west, community, other_street)
    assert [ledger.can_read_scope(street_1, s) for s in scopes] == [True, True, False]
    assert [ledger.can_read_scope(worker, s) for s in scopes] == [True, False, False]
    assert ledger.can_read_scope(Actor("p", "planner"), other_street)
    assert not ledger.can_read_scope(Actor("x", "street_officer"), community)  # no street on record
    assert not ledger.can_read_scope(Actor("app", "open311_client"), community)
    assert parse_language("zh_Hans") == "zh-CN" and parse_language("en-GB") == "en"
