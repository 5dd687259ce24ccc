"""Party strength, commitments, evaluations and the 双公开 report through the API, on the hand-drawn district
(tests/drawn.py): community 500103001001 with the WEST grid (branch 西网格党支部, declared 12 members, team
西网格服务团队) and the EAST grid (branch 东网格党支部, declared 8, no team). street-1 manages the drawn street,
street-2 another; worker-west serves WEST."""

from __future__ import annotations

import io
import time
from datetime import date, timedelta

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from gis.periods import district_today
from gis.store.commitments import commitments_for_grid
from gis.store.database import Database
from tests import drawn
from tests.api.conftest import session_cookie

WEST, EAST = drawn.WEST_CODE, drawn.EAST_CODE
COMMUNITY = "500103001001"
MEMBER_NAMES = ("甲党员", "乙党员", "丙党员", "丁党员")


@pytest.fixture(autouse=True)
def _organisations_since_2024(db: Database) -> None:
    """The drawn branches and team were imported today: date them back so the history has room."""
    with db.session() as session:
        for table in ("party_org", "service_team"):
            session.execute(text(f"UPDATE {table} SET valid_from = '2024-01-01'"))


def _branch_id(db: Database, grid: str) -> int:
    with db.session() as session:
        return session.execute(text("SELECT id FROM party_org WHERE level = 'grid_branch' AND place_code = :g "
                                    "AND valid_to IS NULL"), {"g": grid}).scalar_one()


def _member(client: TestClient, headers: dict, branch: int, name: str, **extra: object) -> dict:
    response = client.post("/api/party/members", headers=headers, json={
        "branch_id": branch, "person_name": name, "phone": "139" + str(abs(hash(name)) % 10**8).zfill(8),
        "from_date": "2025-01-01", **extra})
    assert response.status_code == 201, response.text
    return response.json()


def _branches(client: TestClient, headers: dict, **params: str) -> dict[str, dict]:
    response = client.get("/api/party/branches", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return {b["place_code"]: b for b in response.json()["items"]}


# -- strength ------------------------------------------------------------------------------------------


def test_a_branch_of_two_members_is_flagged_for_a_seconded_branch(client: TestClient, users: dict,
                                                                  db: Database) -> None:
    east = _branch_id(db, EAST)
    before = _branches(client, users["street-1"])
    assert (before[EAST]["members"], before[EAST]["members_from"], before[EAST]["needs_seconded_branch"]) == (
        8, "declared", False)
    for name in MEMBER_NAMES[:2]:
        answer = _member(client, users["street-1"], east, name, building_code="B-EAST")
        assert name not in str(answer)
    _member(client, users["street-1"], east, MEMBER_NAMES[2], to_date="2025-06-30")  # left before today
    after = _branches(client, users["street-1"])
    assert (after[EAST]["members"], after[EAST]["members_from"], after[EAST]["needs_seconded_branch"]) == (
        2, "records", True)
    assert (after[WEST]["members"], after[WEST]["needs_seconded_branch"]) == (12, False)  # still its declared 12
    # on a day when the third was still a member, the branch had three
    assert _branches(client, users["street-1"], day="2025-03-01")[EAST]["needs_seconded_branch"] is False
    strength = client.get(f"/api/party/grids/{EAST}", headers=users["centre"]).json()
    assert strength["party_members"] == 2
    assert {b["code"]: b["party_members"] for b in strength["buildings"]} == {"B-EAST": 2}
    listed = client.get("/api/party/branches", headers=users["centre"]).text
    assert not any(name in listed for name in MEMBER_NAMES)


def test_members_import_is_all_or_nothing_and_names_the_row(client: TestClient, users: dict, db: Database) -> None:
    good = "person_name,phone,branch_code,building_code,from_date\n" \
           f"甲党员,13900000001,{EAST},B-EAST,2025-01-01\n乙党员,13900000002,{EAST},,2025-02-01\n"
    bad = good + f"丙党员,13900000003,{EAST},B-NOWHERE,2025-02-01\n"
    refused = client.post("/api/party/members/import", headers=users["street-1"],
                          files={"file": ("members.csv", bad.encode(), "text/csv")})
    assert refused.status_code == 422 and "row 4" in refused.json()["detail"], refused.text
    assert "building_code" in refused.json()["detail"]
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM party_membership")).scalar_one() == 0
    taken = client.post("/api/party/members/import", headers=users["street-1"],
                        files={"file": ("members.csv", good.encode(), "text/csv")})
    assert taken.status_code == 200, taken.text
    assert taken.json()["branches"][0]["members"] == 2 and taken.json()["branches"][0]["needs_seconded_branch"]
    other = client.post("/api/party/members/import", headers=users["street-2"],
                        files={"file": ("members.csv", good.replace("甲", "戊").encode(), "text/csv")})
    assert other.status_code == 403


# -- grades and pairings -------------------------------------------------------------------------------


def _grade(client: TestClient, headers: dict, branch: int, grade: str, day: str) -> dict:
    response = client.post(f"/api/party/branches/{branch}/grades", headers=headers,
                           json={"grade": grade, "graded_on": day})
    assert response.status_code == 201, response.text
    return response.json()


def test_grade_history_and_the_grade_on_a_day(client: TestClient, users: dict, db: Database) -> None:
    east = _branch_id(db, EAST)
    _grade(client, users["street-1"], east, "后进", "2026-01-10")  # the organisation's own word
    history = _grade(client, users["centre"], east, "average", "2026-06-01")
    assert [(h["grade"], h["graded_on"], h["graded_by"]) for h in history["history"]] == [
        ("weak", "2026-01-10", "street-1"), ("average", "2026-06-01", "centre")]

    def on(day: str) -> str | None:
        answer = client.get(f"/api/party/branches/{east}/grades", headers=users["worker-east"], params={"day": day})
        assert answer.status_code == 200, answer.text
        return answer.json()["grade"]

    assert (on("2026-01-09"), on("2026-01-10"), on("2026-05-31"), on("2026-06-01")) == (None, "weak", "weak",
                                                                                        "average")
    wrong = client.post(f"/api/party/branches/{east}/grades", headers=users["centre"],
                        json={"grade": "excellent", "graded_on": "2026-01-10"})
    assert wrong.status_code == 422 and "advanced (先进)" in wrong.json()["detail"]
    future = (district_today() + timedelta(days=3)).isoformat()
    late = client.post(f"/api/party/branches/{east}/grades", headers=users["centre"],
                       json={"grade": "weak", "graded_on": future})
    assert late.status_code == 422 and "future" in late.json()["detail"]
    assert client.get(f"/api/party/branches/{east}/grades", headers=users["worker-west"]).status_code == 403


def test_a_weak_branch_is_paired_with_an_advanced_one(client: TestClient, users: dict, db: Database) -> None:
    west, east = _branch_id(db, WEST), _branch_id(db, EAST)
    _grade(client, users["centre"], east, "weak", "2026-01-10")
    _grade(client, users["centre"], west, "average", "2026-01-10")
    refused = client.post("/api/party/pairings", headers=users["street-1"],
                          json={"weak_branch_id": east, "strong_branch_id": west, "from_date": "2026-02-01"})
    assert refused.status_code == 409 and "advanced" in refused.json()["detail"]
    _grade(client, users["centre"], west, "advanced", "2026-01-20")
    itself = client.post("/api/party/pairings", headers=users["street-1"],
                         json={"weak_branch_id": east, "strong_branch_id": east, "from_date": "2026-02-01"})
    assert itself.status_code == 422
    paired = client.post("/api/party/pairings", headers=users["street-1"],
                         json={"weak_branch_id": east, "strong_branch_id": west, "from_date": "2026-02-01"})
    assert paired.status_code == 201, paired.text
    shown = _branches(client, users["centre"], day="2026-03-01")
    # each branch's own part in the pairing, and its partner
    assert [(p["role"], p["partner"]) for p in shown[EAST]["pairings"]] == [("weak", "西网格党支部")]
    assert [(p["role"], p["partner"]) for p in shown[WEST]["pairings"]] == [("strong", "东网格党支部")]
    assert _branches(client, users["centre"], day="2026-01-31")[EAST]["pairings"] == []
    assert client.post("/api/party/pairings", headers=users["street-2"], json={
        "weak_branch_id": east, "strong_branch_id": west}).status_code == 403


# -- commitments ---------------------------------------------------------------------------------------


def test_commitments_crud_statuses_and_the_grid_card(client: TestClient, users: dict, db: Database) -> None:
    west = _branch_id(db, WEST)
    _member(client, users["street-1"], west, "甲党员")
    with db.session() as session:
        membership = session.execute(text("SELECT id FROM party_membership")).scalar_one()
        team = session.execute(text("SELECT id FROM service_team WHERE grid_code = :g"), {"g": WEST}).scalar_one()
    today = district_today()
    due = (today + timedelta(days=60)).isoformat()
    made = {}
    for kind, extra, public in (("branch", {"branch_id": west}, True), ("team", {"team_id": team}, True),
                                ("member", {"membership_id": membership}, True),
                                ("branch", {"branch_id": west}, False)):
        response = client.post("/api/commitments", headers=users["street-1"], json={
            "holder_kind": kind, "title": f"{kind} 承诺 {public}", "due_on": due, "public": public, **extra})
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "promised"
        made[(kind, public)] = response.json()["id"]
    member = client.get(f"/api/commitments/{made[('member', True)]}", headers=users["worker-west"]).json()
    assert member["holder_label"] == "西网格党支部" and "甲党员" not in str(member)

    one = made[("branch", True)]
    for status, code in (("in_progress", 200), ("kept", 200), ("in_progress", 409), ("promised", 409)):
        response = client.patch(f"/api/commitments/{one}", headers=users["centre"], json={"status": status})
        assert response.status_code == code, (status, response.text)
    assert "allowed: none (final status)" in response.json()["detail"]
    client.patch(f"/api/commitments/{made[('team', True)]}", headers=users["centre"],
                 json={"status": "not_kept", "evidence": "未按期完成"})
    bad = client.patch(f"/api/commitments/{one}", headers=users["centre"], json={"status": "done"})
    assert bad.status_code == 422 and "not_kept" in bad.json()["detail"]

    with db.session() as session:
        card = commitments_for_grid(session, WEST, today)
    assert sorted((c["holder_kind"], c["holder_label"], c["status"]) for c in card) == [
        ("branch", "西网格党支部", "kept"), ("member", "西网格党支部", "promised"),
        ("team", "西网格服务团队", "not_kept")]
    assert all(set(c) == {"title", "due", "status", "holder_kind", "holder_label"} and c["due"] == due for c in card)
    with db.session() as session:
        assert commitments_for_grid(session, WEST, today - timedelta(days=1)) == []  # made today
        assert commitments_for_grid(session, EAST, today) == []

    listed = client.get("/api/commitments", headers=users["worker-west"]).json()["items"]
    assert len(listed) == 4
    assert client.get("/api/commitments", headers=users["worker-east"]).json()["items"] == []
    assert client.get(f"/api/commitments/{one}", headers=users["worker-east"]).status_code == 403
    assert client.delete(f"/api/commitments/{one}", headers=users["worker-west"]).status_code == 403
    assert client.delete(f"/api/commitments/{one}", headers=users["street-1"]).status_code == 204
    assert client.get(f"/api/commitments/{one}", headers=users["centre"]).status_code == 404


# -- evaluations ---------------------------------------------------------------------------------------


def _csv(*rows: str) -> dict:
    content = "\n".join(("year,subject,code,score,respondents", *rows)) + "\n"
    return {"file": ("scores.csv", content.encode(), "text/csv")}


def test_evaluation_import_refuses_a_file_with_bad_rows_by_name(client: TestClient, users: dict,
                                                                 db: Database) -> None:
    refused = client.post("/api/evaluations/import", headers=users["street-1"], files=_csv(
        f"2026,grid,{WEST},91.5,40", f"2026,grid,{EAST},120,40", f"2026,team,{EAST},80,", f"2026,grid,{WEST},90,"))
    assert refused.status_code == 422, refused.text
    problems = refused.json()["details"]["problems"]
    assert problems == ["row 3: score '120' is not a number from 0 to 100",
                        "row 4: subject 'team' is not one of grid, branch",
                        f"row 5: repeats row 2 (grid {WEST} in 2026)"]
    unknown = client.post("/api/evaluations/import", headers=users["street-1"],
                          files=_csv(f"2026,grid,{WEST},91.5,40", "2026,grid,500103001001099,70,"))
    assert unknown.status_code == 422 and "row 3: code '500103001001099'" in unknown.json()["detail"]
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM evaluation")).scalar_one() == 0
    taken = client.post("/api/evaluations/import", headers=users["street-1"],
                        files=_csv(f"2026,grid,{WEST},91.5,40", f"2026,branch,{EAST},78,12"))
    assert taken.status_code == 200 and taken.json() == {"imported": 2}, taken.text
    again = client.post("/api/evaluations", headers=users["centre"],
                        json={"year": 2026, "subject": "grid", "code": WEST, "score": 93})
    assert again.status_code == 201, again.text
    items = client.get("/api/evaluations", headers=users["street-1"], params={"year": 2026}).json()["items"]
    assert [(i["subject"], i["code"], i["score"], i["source"]) for i in items] == [
        ("grid", WEST, 93.0, "entered"), ("branch", EAST, 78.0, "imported")]
    assert items[1]["branch_name"] == "东网格党支部"
    assert client.post("/api/evaluations/import", headers=users["street-2"],
                       files=_csv(f"2026,grid,{WEST},50,")).status_code == 403
    assert client.get("/api/evaluations", headers=users["worker-east"]).json()["items"] == [
        i for i in items if i["code"] == EAST]


# -- the 双公开 report ---------------------------------------------------------------------------------

WEST_POINT = {"lon": 106.505, "lat": 29.555}


def _act(client: TestClient, users: dict, case_id: int, *steps: tuple[str, str, dict]) -> None:
    for user, action, extra in steps:
        answer = client.post(f"/api/cases/{case_id}/actions", headers=users[user], json={"action": action, **extra})
        assert answer.status_code == 200, (action, answer.text)


def _report_world(client: TestClient, users: dict, db: Database) -> str:
    """Four cases in WEST this half-year (one closed and rated satisfied, one closed unrated, one declined, one
    open), one in EAST, one in WEST the half before; a commitment, a score, two members in EAST."""
    today = district_today()
    half = f"{today.year}H{1 if today.month <= 6 else 2}"
    ids = []
    for point in (WEST_POINT, WEST_POINT, WEST_POINT, WEST_POINT, {"lon": 106.515, "lat": 29.555}, WEST_POINT):
        answer = client.post("/api/cases", headers=users["centre"], json={
            "source": "hotline", "category": "exposed_rubbish", "reporter_name": "欧阳娜娜",
            "reporter_contact": "13812341234", **point})
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    close = [("centre", "file", {}), ("centre", "dispatch", {}), ("worker-west", "accept", {}),
             ("worker-west", "handle", {}), ("centre", "verify", {})]
    _act(client, users, ids[0], *close, ("centre", "evaluate_satisfied", {"satisfaction": "satisfied"}))
    _act(client, users, ids[1], *close)
    _act(client, users, ids[2], ("centre", "decline", {"reason": "重复"}))
    _act(client, users, ids[3], ("centre", "file", {}))
    first_day = date(today.year, 1 if today.month <= 6 else 7, 1)
    with db.session() as session:
        session.execute(text("UPDATE service_case SET reported_at = :at WHERE id = :id"),
                        {"at": f"{first_day - timedelta(days=2)}T10:00:00+08:00", "id": ids[5]})
    west = _branch_id(db, WEST)
    client.post("/api/commitments", headers=users["centre"], json={
        "holder_kind": "branch", "branch_id": west, "title": "每月清理楼道", "due_on": str(today + timedelta(days=20))})
    client.post("/api/evaluations", headers=users["centre"],
                json={"year": today.year, "subject": "grid", "code": WEST, "score": 88.5})
    for name in MEMBER_NAMES[:2]:
        _member(client, users["centre"], _branch_id(db, EAST), name)
    return half


def _independent(db: Database, half: str, grid: str) -> dict[str, int]:
    """Counted from service_case alone: the half-year's cases of the grid by reported_at."""
    year, part = int(half[:4]), int(half[-1])
    first = date(year, 1 if part == 1 else 7, 1)
    last = date(year, 7, 1) if part == 1 else date(year + 1, 1, 1)
    sql = ("SELECT count(*) AS received, count(*) FILTER (WHERE status IN ('closed', 'evaluated')) AS closed, "
           "count(*) FILTER (WHERE status = 'declined') AS declined, "
           "count(*) FILTER (WHERE satisfaction IS NOT NULL) AS rated, "
           "count(*) FILTER (WHERE satisfaction IN ('satisfied', 'basically_satisfied')) AS satisfied "
           "FROM service_case WHERE grid_code = :g AND reported_at >= (:first)::timestamp AT TIME ZONE 'Asia/Shanghai' "
           "AND reported_at < (:last)::timestamp AT TIME ZONE 'Asia/Shanghai'")
    with db.session() as session:
        return dict(session.execute(text(sql), {"g": grid, "first": first, "last": last}).mappings().one())


def test_the_reports_figures_equal_independent_counts(client: TestClient, users: dict, db: Database) -> None:
    half = _report_world(client, users, db)
    counted = _independent(db, half, WEST)
    assert counted == {"received": 4, "closed": 2, "declined": 1, "rated": 1, "satisfied": 1}
    answer = client.get("/api/open-report", headers=users["street-1"], params={"grid": WEST, "half": half})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    cases = report["cases"]
    assert (cases["received"], cases["declined"], cases["rated"], cases["satisfied"]) == (
        counted["received"], counted["declined"], counted["rated"], counted["satisfied"])
    assert cases["closed"] == counted["closed"]
    assert cases["filed"] == counted["received"] - counted["declined"]
    assert cases["satisfaction"] == counted["satisfied"] / counted["rated"]
    assert cases["closure_rate"] == pytest.approx(cases["solved"] / cases["filed"])
    assert [c["title"] for c in report["commitments"]["items"]] == ["每月清理楼道"]
    assert report["commitments"]["by_status"]["promised"] == 1
    assert [(e["code"], e["score"]) for e in report["evaluations"]] == [(WEST, 88.5)]
    assert [(b["place_code"], b["members"]) for b in report["party"]["branches"]] == [(WEST, 12)]

    community = client.get("/api/open-report", headers=users["centre"],
                           params={"community": COMMUNITY, "half": half}).json()
    assert community["cases"]["received"] == counted["received"] + _independent(db, half, EAST)["received"]
    assert community["party"] == {**community["party"], "members": 14, "needing_seconded_branch": 1}
    for secret in ("欧阳", "13812341234", *MEMBER_NAMES, "赵书记", "钱队长"):
        assert secret not in answer.text and secret not in str(community), secret

    workbook = client.get("/api/open-report.xlsx", headers=users["street-1"], params={"grid": WEST, "half": half})
    assert workbook.status_code == 200 and workbook.headers["content-type"].startswith("application/vnd.openxml")
    cells = [c for row in openpyxl.load_workbook(io.BytesIO(workbook.content)).active.iter_rows(values_only=True)
             for c in row if c is not None]
    assert cells[cells.index("受理诉求") + 1] == counted["received"]
    assert cells[cells.index("满意率") + 1] == counted["satisfied"] / counted["rated"]
    assert "每月清理楼道" in cells and not any("欧阳" in str(c) for c in cells)

    client.cookies.update(session_cookie(db, "street-1"))
    page = client.get("/open-report", params={"grid": WEST, "half": half})
    client.cookies.clear()
    assert page.status_code == 200 and "每月清理楼道" in page.text and "欧阳" not in page.text


@pytest.mark.parametrize(("who", "status"), [
    ("admin", 200), ("centre", 200), ("planner", 200), ("street-1", 200), ("worker-west", 200),
    ("worker-east", 403), ("street-2", 403), ("hotline-app", 403), (None, 401),
])
def test_who_reads_the_report(client: TestClient, users: dict, who: str | None, status: int) -> None:
    headers = users[who] if who else {}
    answer = client.get("/api/open-report", headers=headers, params={"grid": WEST, "half": "2026H1"})
    assert answer.status_code == status, answer.text


@pytest.mark.parametrize(("params", "word"), [
    ({"grid": WEST, "half": "2026H3"}, "YYYYH1"),
    ({"grid": WEST, "community": COMMUNITY, "half": "2026H1"}, "exactly one"),
    ({"street": "500103001", "half": "2026H1"}, "exactly one"), ({"grid": "123", "half": "2026H1"}, "123"),
])
def test_a_bad_report_request_is_refused_by_name(client: TestClient, users: dict, params: dict, word: str) -> None:
    answer = client.get("/api/open-report", headers=users["centre"], params=params)
    assert answer.status_code == 422 and word in answer.json()["detail"], answer.text


def test_the_planners_checks_warn_of_a_branch_under_three_members(client: TestClient, users: dict,
                                                                  db: Database) -> None:
    def warned() -> set[tuple[str, ...]]:
        plan = client.post("/api/plans", json={"area": COMMUNITY, "name": "支部检查"}, headers=users["planner"]).json()
        checks = client.get(f"/api/plans/{plan['id']}/checks", headers=users["planner"]).json()
        return {tuple(p["grids"]) for p in checks["problems"] if p["kind"] == "branch_under_three"
                and p["severity"] == "warning"}

    assert warned() == set()  # declared 12 and 8
    for name in MEMBER_NAMES[:2]:
        _member(client, users["centre"], _branch_id(db, EAST), name)
    assert warned() == {(EAST,)}
    _member(client, users["centre"], _branch_id(db, EAST), MEMBER_NAMES[2])
    assert warned() == set()


def test_the_wall_counts_party_members_and_weak_branches(client: TestClient, users: dict, db: Database) -> None:
    from gis.periods import parse_period
    from gis.store.measures import district_summary, grid_measures

    def counts() -> tuple[dict, dict, dict]:
        with db.session() as session:
            rows = grid_measures(session, parse_period("30d"))
            grids = {g["code"]: (g["party_members"], g["weak_branches"]) for g in rows}
            (community,) = grid_measures(session, parse_period("30d"), level="community")
            total = district_summary(session, parse_period("30d"))
        return grids, (community["party_members"], community["weak_branches"]), (total["party_members"],
                                                                                  total["weak_branches"])

    def layer() -> dict:
        time.sleep(0.15)
        body = client.get("/api/layers/grids", params={"measure": "weak_branches"}, headers=users["centre"]).json()
        client.app.state.layer_cache.values_min_interval = 0.1  # each change shows (the throttle: test_layer_cache)
        return {f["properties"]["code"]: f["properties"]["value"] for f in body["features"]}

    assert counts() == ({WEST: (12, 0), EAST: (8, 0)}, (20, 0), (20, 0))
    assert layer() == {WEST: 0, EAST: 0}  # cached now: members and grades must make it recompute
    for name in MEMBER_NAMES[:2]:
        _member(client, users["centre"], _branch_id(db, EAST), name)
    assert counts() == ({WEST: (12, 0), EAST: (2, 1)}, (14, 1), (14, 1))
    assert layer() == {WEST: 0, EAST: 1}
    _member(client, users["centre"], _branch_id(db, EAST), MEMBER_NAMES[2])
    assert layer() == {WEST: 0, EAST: 0}
    _grade(client, users["centre"], _branch_id(db, WEST), "weak", "2026-01-10")  # three members, but graded weak
    assert counts() == ({WEST: (12, 1), EAST: (3, 0)}, (15, 1), (15, 1))
    assert layer() == {WEST: 1, EAST: 0}


def test_central_households_per_grid_and_building(client: TestClient, users: dict, db: Database) -> None:
    west = _branch_id(db, WEST)
    for name, building in (("甲党员", "B-WEST"), ("乙党员", "B-WEST"), ("丙党员", "B-EDGE")):
        _member(client, users["street-1"], west, name, building_code=building)
    with db.session() as session:  # 甲 also serves in the team as a party-member central household (党员中心户)
        session.execute(text(
            "INSERT INTO team_membership (team_id, person_id, role, from_date, district_code, street_code) "
            "SELECT t.id, p.id, 'central_household', '2025-01-01', t.district_code, t.street_code "
            "FROM service_team AS t, person AS p WHERE t.grid_code = :g AND p.name = '甲党员'"), {"g": WEST})
    strength = client.get(f"/api/party/grids/{WEST}", headers=users["worker-west"]).json()
    assert (strength["party_members"], strength["central_households"]) == (3, 1)
    by_building = {b["code"]: (b["party_members"], b["central_households"]) for b in strength["buildings"]}
    assert by_building == {"B-WEST": (2, 1), "B-EDGE": (1, 0), "B-CORNER": (0, 0)}
    assert "甲党员" not in str(strength)
    assert client.get(f"/api/party/grids/{WEST}", headers=users["worker-east"]).status_code == 403


def test_evaluations_import_from_excel(client: TestClient, users: dict) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (("year", "subject", "code", "score", "note"), (2026, "grid", WEST, 88, "六月问卷"),
                (2026, "branch", WEST, 90.25, None)):
        sheet.append(row)
    content = io.BytesIO()
    book.save(content)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    answer = client.post("/api/evaluations/import", headers=users["centre"],
                         files={"file": ("scores.xlsx", content.getvalue(), xlsx)})
    assert answer.status_code == 200 and answer.json() == {"imported": 2}, answer.text
    items = client.get("/api/evaluations", headers=users["centre"]).json()["items"]
    assert sorted((i["subject"], i["score"], i["note"]) for i in items) == [
        ("branch", 90.25, ""), ("grid", 88.0, "六月问卷")]
    wrong = client.post("/api/evaluations/import", headers=users["centre"],
                        files={"file": ("scores.txt", b"year,subject", "text/plain")})
    assert wrong.status_code == 422 and "neither .csv nor .xlsx" in wrong.json()["detail"]
