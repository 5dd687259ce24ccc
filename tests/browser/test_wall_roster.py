"""The roster on the wall (api/static/wall/roster.js): the coming week's work days and receptions of the
sample district, in a card over the map, at 1920x1080 — the rows the API gives, the people's names for the
command centre, clear of the side panel; screenshot in test-output/screenshots/wall-roster.png."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from playwright.sync_api import Page
from sqlalchemy import text

from gis.periods import district_today
from gis.permissions import Actor
from gis.store.database import Database
from gis.store.users import create_user
from gis.store.workdays import Assignee, WorkDayInput, schedule_work_day
from tests.browser.harness import app_over, errors_of, save_screenshot

pytestmark = pytest.mark.browser

KEY = "wall-roster-centre-key"
CADRES = ("张建国", "李卫东", "王秀英")
REPS = ("刘党代表", "陈人大代表", "杨党代表")


def _schedule(database: Database) -> None:
    """Three sessions in the coming week of the sample district's first community: a community work day
    with three cadres, a weekly reception whose representatives rotate, a building work day."""
    today = district_today()
    admin = Actor("roster-admin", "admin")
    with database.session() as session:
        create_user(session, "roster-wall", "command_centre", key=KEY)
        community, district = session.execute(text(
            "SELECT code, district_code FROM community ORDER BY code LIMIT 1")).one()
        building = session.execute(text(
            "SELECT b.code FROM building AS b JOIN grid AS g ON g.id = b.grid_id "
            "JOIN community AS m ON m.id = g.community_id WHERE m.code = :c ORDER BY b.code LIMIT 1"),
            {"c": community}).scalar_one()
        people = {}
        for name in (*CADRES, *REPS):
            people[name] = session.execute(text(
                "INSERT INTO person (name, district_code) VALUES (:n, :d) RETURNING id"),
                {"n": name, "d": district}).scalar_one()
        cadres = tuple(Assignee(person_id=people[n], title="区级机关干部") for n in CADRES)
        schedule_work_day(session, WorkDayInput(
            scope="community", community_code=community, title="社区工作日", place="社区党群服务中心",
            start_time=time(9), end_time=time(12), on=today + timedelta(days=1), assignees=cadres), admin)
        schedule_work_day(session, WorkDayInput(
            scope="community", community_code=community, kind="reception", title="党代表人大代表接待日",
            place="社区居委会接待室", start_time=time(14, 30), end_time=time(17),
            rule={"weekday": (today + timedelta(days=2)).isoweekday()}, valid_from=today,
            assignees=(Assignee(person_id=people[REPS[0]], role="party_rep", rotation_group=0),
                       Assignee(person_id=people[REPS[1]], role="congress_rep", rotation_group=0),
                       Assignee(person_id=people[REPS[2]], role="party_rep", rotation_group=1))), admin)
        schedule_work_day(session, WorkDayInput(
            scope="building", building_code=building, title="楼栋工作日", place=f"{building} 楼下",
            start_time=time(8, 30), end_time=time(11, 30), on=today + timedelta(days=4),
            assignees=cadres[:2]), admin)


def test_the_wall_shows_the_coming_weeks_roster(own_sample_db: Database, serve, closed_page) -> None:  # noqa: ANN001
    _schedule(own_sample_db)
    url = serve(app_over(own_sample_db))
    page: Page
    page, blocked = closed_page(width=1920, height=1080)
    page.goto(f"{url}/wall?key={KEY}&rotate=0", wait_until="load")
    page.wait_for_function("() => document.querySelector('#wall-roster')?.dataset.loaded === 'true' "
                           "&& window.gridmapWall && gridmapWall.stats.refreshes > 0", timeout=30_000)
    items = page.request.get(f"{url}/api/workdays/roster").json()["items"]
    assert len(items) >= 3  # (the sample district may hold work days of its own)
    rows = page.locator("#wall-roster li")
    assert rows.count() == min(len(items), 6)
    shown = rows.all_inner_texts()
    ours = [t for t in shown if "社区工作日" in t or "接待日" in t or "楼栋工作日" in t]
    assert len(ours) >= 3, shown
    assert any(all(n in t for n in CADRES) for t in shown), shown  # the command centre sees the names
    assert any(REPS[0] in t and REPS[1] in t and REPS[2] not in t for t in shown), shown  # this week's turn
    card = page.locator("#wall-roster").bounding_box()
    panel = page.locator("#wall-panel").bounding_box()
    assert card is not None and panel is not None
    assert card["x"] + card["width"] <= panel["x"] and card["y"] + card["height"] <= 1080
    assert card["height"] > 100
    font = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('#wall-roster .where')).fontSize)")
    assert font >= 16  # 0.8rem at 1920x1080 or more: readable across the room
    save_screenshot(page, "wall-roster")
    assert blocked == [] and errors_of(page) == []
