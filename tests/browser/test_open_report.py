"""The printable 双公开 report in Chromium on a closed network, over a copy of the sample district: the
community with the most cases this half-year, a commitment of each kind of status, an evaluation score and a
branch of two members. A full-page screenshot and the page printed to A4 (`page.pdf`) go to test-output/ for a
person to look at; the page must name no private person."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from gis.periods import district_today
from gis.store.database import Database
from gis.store.users import create_user
from tests.api.conftest import session_cookie
from tests.browser.harness import SCREENSHOT_DIR, app_over, errors_of, save_screenshot

pytestmark = pytest.mark.browser

A4_PX = {"width": 794, "height": 1123}  # 210 × 297 mm at 96 dpi
KEY = {"Authorization": "Bearer key-report-admin"}


def _busiest_community(database: Database) -> tuple[str, list[str], list[tuple[float, float]]]:
    """The community with the most current grids, its grids and a building position in each."""
    with database.session() as session:
        community = session.execute(text(
            "SELECT left(code, 12) FROM grid WHERE valid_to IS NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        )).scalar_one()
        rows = session.execute(text(
            "SELECT DISTINCT ON (g.code) g.code, ST_X(b.geom) AS lon, ST_Y(b.geom) AS lat FROM grid AS g "
            "JOIN building AS b ON b.grid_id = g.id WHERE g.valid_to IS NULL AND left(g.code, 12) = :c "
            "ORDER BY g.code, b.code"), {"c": community}).mappings().all()
        create_user(session, "report-admin", "admin", key="key-report-admin")
    return community, [r["code"] for r in rows], [(r["lon"], r["lat"]) for r in rows]


def _cases(client, positions: list[tuple[float, float]]) -> None:  # noqa: ANN001
    """Three cases per grid: one closed and rated satisfied, one closed, one open."""
    closing = ("file", "dispatch", "accept", "handle", "verify")
    for lon, lat in positions:
        for steps in ((*closing, "evaluate_satisfied"), closing, ("file",)):
            made = client.post("/api/cases", headers=KEY, json={
                "source": "hotline", "category": "exposed_rubbish", "lon": lon, "lat": lat,
                "reporter_name": "欧阳娜娜", "reporter_contact": "13812341234"})
            assert made.status_code == 201, made.text
            for action in steps:
                extra = {"satisfaction": "satisfied"} if action == "evaluate_satisfied" else {}
                done = client.post(f"/api/cases/{made.json()['id']}/actions", headers=KEY,
                                   json={"action": action, **extra})
                assert done.status_code == 200, done.text


def _records(client, database: Database, grids: list[str], year: int, first: str) -> None:  # noqa: ANN001
    with database.session() as session:
        branches = {code: session.execute(text(
            "SELECT id FROM party_org WHERE level = 'grid_branch' AND place_code = :g AND valid_to IS NULL"),
            {"g": code}).scalar_one() for code in (grids[0], grids[-1])}
    due = (date.fromisoformat(first) + timedelta(days=120)).isoformat()
    titles = (("每月组织一次楼道清理", "kept"), ("为独居老人每周上门一次", "in_progress"),
              ("年内完成三个小区的停车改造", "promised"), ("增设便民服务点", "not_kept"))
    for title, status in titles:
        made = client.post("/api/commitments", headers=KEY, json={
            "holder_kind": "branch", "branch_id": branches[grids[0]], "title": title, "made_on": first,
            "due_on": due})
        assert made.status_code == 201, made.text
        if status != "promised":
            if status == "kept":
                client.patch(f"/api/commitments/{made.json()['id']}", headers=KEY, json={"status": "in_progress"})
            changed = client.patch(f"/api/commitments/{made.json()['id']}", headers=KEY, json={"status": status})
            assert changed.status_code == 200, changed.text
    for code, score in zip(grids[:2], (92.5, 78), strict=False):
        assert client.post("/api/evaluations", headers=KEY, json={
            "year": year, "subject": "grid", "code": code, "score": score}).status_code == 201
    for name in ("浏览器甲", "浏览器乙"):
        assert client.post("/api/party/members", headers=KEY, json={
            "branch_id": branches[grids[-1]], "person_name": name,
            "from_date": "2025-01-01"}).status_code == 201


def test_the_report_prints_on_a4_and_names_no_private_person(closed_page, own_sample_db: Database,
                                                              serve) -> None:  # noqa: ANN001
    from fastapi.testclient import TestClient

    today = district_today()
    half = f"{today.year}H{1 if today.month <= 6 else 2}"
    first = f"{today.year}-{'01' if today.month <= 6 else '07'}-01"
    community, grids, positions = _busiest_community(own_sample_db)
    with TestClient(app_over(own_sample_db)) as client:
        _cases(client, positions)
        _records(client, own_sample_db, grids, today.year, first)
        report = client.get("/api/open-report", headers=KEY, params={"community": community, "half": half}).json()
    assert report["cases"]["received"] > 0 and report["party"]["needing_seconded_branch"] >= 1
    base = serve(app_over(own_sample_db))
    page, blocked = closed_page(width=A4_PX["width"] + 40, height=A4_PX["height"])
    page.context.add_cookies([{"name": "gridmap_session", "url": base,
                               "value": session_cookie(own_sample_db, "report-admin")["gridmap_session"]}])
    page.goto(f"{base}/open-report?community={community}&half={half}")
    page.locator("h1").wait_for()
    received = page.locator(".figures div").first.locator("dd").inner_text()
    assert received == str(report["cases"]["received"])
    assert page.locator("tbody tr").count() >= 4 + 2
    body = page.locator("body").inner_text()
    with own_sample_db.session() as session:
        private = session.execute(text(
            "SELECT p.name FROM person AS p WHERE p.name IN ('浏览器甲', '浏览器乙') UNION "
            "SELECT reporter_name FROM service_case WHERE community_code = :c AND reporter_name IS NOT NULL"),
            {"c": community}).scalars().all()
    assert private and not [name for name in private if name and name in body]
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "open-report.png"), full_page=True)
    save_screenshot(page, "open-report-top")
    page.emulate_media(media="print")
    page.screenshot(path=str(SCREENSHOT_DIR / "open-report-print.png"), full_page=True)
    pdf = SCREENSHOT_DIR / "open-report.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") - data.count(b"/Type /Pages") == 1  # one A4 page
    assert blocked == [] and errors_of(page) == []
