"""Focus households (关爱对象) at the top of the worker's list on `/m`, in Debian Chromium at phone size
(375×812), on the sample district's own copy. The worker's grid gets three households — one overdue for a
visit (registered 10 days ago, weekly, never visited: 3 days late), one unpaired, one paired and visited in
time — and another grid one overdue household. The list shows the worker's two gaps, overdue first; "visited"
records the visit through the outbox (once), and the household leaves the list. Screenshots:
test-output/screenshots/worker_focus*.png."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from sqlalchemy import text

from gis.periods import district_today
from gis.permissions import Actor
from gis.store import focus as store
from gis.store.database import Database
from gis.store.users import create_user
from tests.browser.harness import LOOPBACK_HOSTS, app_over, save_screenshot

pytestmark = pytest.mark.browser

PASSWORD = "focus-browser-password"
USERNAME = "w-focus"
DESK = Actor(username="focus-test-desk", role="admin")
SMALL_TARGETS = """() => Array.from(document.querySelectorAll('#m-focus button, #m-focus a[href]'))
  .filter(e => e.offsetParent !== null)
  .map(e => ({what: e.className || e.tagName, h: Math.round(e.getBoundingClientRect().height)}))
  .filter(t => t.h < 44)"""


@pytest.fixture
def register(own_sample_db: Database) -> dict[str, object]:
    """The busiest grid's worker and the register above; returns the grid and the households' ids."""
    today = district_today()
    with own_sample_db.session() as session:
        grid, other = session.execute(text(
            "SELECT g.code FROM building AS b JOIN grid AS g ON g.id = b.grid_id GROUP BY g.code "
            "ORDER BY count(*) DESC, g.code LIMIT 2")).scalars().all()
        create_user(session, USERNAME, "grid_worker", password=PASSWORD, grid_code=grid)
        mine = session.execute(text(
            "SELECT b.code FROM building AS b JOIN grid AS g ON g.id = b.grid_id WHERE g.code = :g "
            "ORDER BY b.code LIMIT 3"), {"g": grid}).scalars().all()
        theirs = session.execute(text(
            "SELECT b.code FROM building AS b JOIN grid AS g ON g.id = b.grid_id WHERE g.code = :g "
            "ORDER BY b.code LIMIT 1"), {"g": other}).scalar_one()

        def add(building: str, door: str, name: str, category: str, days_ago: int, helper: str | None) -> int:
            return store.create_household(session, store.HouseholdInput(
                household=door, person_name=name, category=category, building_code=building,
                phone="13912345678", valid_from=today - timedelta(days=days_ago),
                helper=store.Helper(name=helper) if helper else None), DESK)

        overdue = add(mine[0], "3-2-1", "王奶奶", "lonely_elderly", 10, "党员李明")
        unpaired = add(mine[1], "1-5-2", "赵大爷", "hardship", 1, None)
        in_time = add(mine[2], "2-1-1", "钱老师", "retired_cadre", 3, "志愿者周红")
        foreign = add(theirs, "9-9-9", "别处的人", "lonely_elderly", 10, None)
    return {"grid": grid, "overdue": overdue, "unpaired": unpaired, "in_time": in_time, "foreign": foreign}


@pytest.fixture
def phone(browser: Browser) -> Iterator[tuple[BrowserContext, list[str], list[str]]]:
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="zh-CN", service_workers="allow",
                                  device_scale_factor=1, has_touch=True, is_mobile=True)
    outside: list[str] = []
    errors: list[str] = []

    def on_request(request) -> None:  # noqa: ANN001
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK_HOSTS:
            outside.append(request.url)

    context.on("request", on_request)
    context.on("weberror", lambda error: errors.append(f"page error: {error.error}"))
    yield context, outside, errors
    context.close()


def test_the_workers_overdue_and_unpaired_focus_households_come_first_and_visited_records_a_visit(
        own_sample_db: Database, register: dict, serve, phone) -> None:  # noqa: ANN001
    context, outside, errors = phone
    url = serve(app_over(own_sample_db))
    page = context.new_page()
    page.goto(url + "/m")
    page.wait_for_url("**/signin?**")
    page.locator("#signin-username").fill(USERNAME)
    page.locator("#signin-password").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(url + "/m")
    page.wait_for_function("() => document.body.dataset.ready", timeout=30_000)
    rows = page.locator("#m-focus-list [data-focus]")
    expect(rows).to_have_count(2)
    assert [int(v) for v in rows.evaluate_all("rows => rows.map(r => r.dataset.focus)")] == [
        register["overdue"], register["unpaired"]]
    expect(rows.nth(0)).to_contain_text("王奶奶")
    expect(rows.nth(0)).to_contain_text("逾期 3 天")
    expect(rows.nth(0)).to_contain_text("独居老人")
    expect(rows.nth(1)).to_contain_text("未结对")
    expect(page.locator("#m-focus")).to_be_visible()
    # above the task list: the section's box ends before the first task begins
    focus_box, tasks_box = page.locator("#m-focus").bounding_box(), page.locator("#m-tasks").bounding_box()
    assert focus_box and tasks_box and focus_box["y"] + focus_box["height"] <= tasks_box["y"]
    assert page.evaluate(SMALL_TARGETS) == []
    save_screenshot(page, "worker_focus")

    rows.nth(0).locator("button.m-focus-visited").click()
    expect(rows).to_have_count(1, timeout=20_000)  # sent, read again: visited today, no longer a gap
    assert int(rows.first.get_attribute("data-focus")) == register["unpaired"]
    with own_sample_db.session() as session:
        visits = session.execute(text("SELECT count(*) FROM visit WHERE focus_household_id = :id"),
                                 {"id": register["overdue"]}).scalar_one()
    assert visits == 1
    save_screenshot(page, "worker_focus_visited")
    # With no network the visit waits in the outbox and is sent once when the network returns; the unpaired
    # household stays on the list (visited, but still no helper).
    context.set_offline(True)
    rows.first.locator("button.m-focus-visited").click()
    expect(rows.first.locator(".m-focus-queued")).to_be_visible()
    save_screenshot(page, "worker_focus_queued")
    context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(rows.first.locator("button.m-focus-visited")).to_be_visible(timeout=20_000)
    expect(rows.first).to_contain_text("未结对")
    with own_sample_db.session() as session:
        visited = session.execute(text("SELECT focus_household_id, count(*) FROM visit WHERE focus_household_id "
                                       "IS NOT NULL GROUP BY 1 ORDER BY 1")).all()
    assert [tuple(r) for r in visited] == sorted([(register["overdue"], 1), (register["unpaired"], 1)])
    page.get_by_role("tab", name="同步").click()
    expect(page.locator("#m-queue-empty")).to_be_visible()
    assert outside == [] and errors == []


def test_the_english_page_names_the_categories(own_sample_db: Database, register: dict, serve, phone) -> None:  # noqa: ANN001
    context, _, errors = phone
    url = serve(app_over(own_sample_db))
    signed = context.request.post(url + "/api/session", data={"username": USERNAME, "password": PASSWORD},
                                  headers={"Origin": url})
    assert signed.status == 200, signed.text()
    page = context.new_page()
    page.goto(url + "/m?lang=en")
    page.wait_for_function("() => document.body.dataset.ready", timeout=30_000)
    rows = page.locator("#m-focus-list [data-focus]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("3 days overdue")
    expect(rows.nth(0)).to_contain_text("Lonely elderly")
    expect(rows.nth(1)).to_contain_text("No helper")
    save_screenshot(page, "worker_focus_en")
    assert errors == []
