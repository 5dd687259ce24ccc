"""The planner's page `/plan` in Debian Chromium at 1440×900, on a copy of the hand-drawn district
(tests/drawn.py: two squares, west and east, in one community): a planner opens a new plan, splits the west
grid along a drawn line, sees the checks name the new grid's faults (a duplicate code, no team, no branch)
and the impact panel (the open case and the corner building that would change hands), fixes them in the side
panel, accepts the households warnings with a reason and checks the plan; an admin then approves it. Every
request stays on loopback. Each state is screenshot to test-output/screenshots/plan_*.png."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from gis.cases import CaseInput
from gis.permissions import Actor
from gis.store import cases as case_store
from gis.store.database import Database
from gis.store.users import create_user
from tests import drawn
from tests.browser.harness import app_over, errors_of, save_screenshot
from tests.conftest import _open_clone

pytestmark = pytest.mark.browser

PASSWORD = "plan-browser-password"
NEW_CODE = "500103001001003"
DESK = Actor(username="plan-test-desk", role="admin")
SCREEN = {"width": 1440, "height": 900}


@dataclass(frozen=True)
class Office:
    url: str
    db: Database
    case_id: int
    spare_team: int
    spare_branch: int


@pytest.fixture
def office(pg_cluster, copies, drawn_template, serve) -> Iterator[Office]:  # noqa: ANN001
    """The drawn district with a planner and an admin (passwords), a team for the east grid, a spare team and
    branch for a new grid, and an open case in the north of the west grid."""
    name = copies.take(drawn_template)
    database = _open_clone(pg_cluster, name)
    with database.session() as session:
        create_user(session, "planner-li", "planner", password=PASSWORD)
        create_user(session, "admin-wang", "admin", password=PASSWORD)
        for grid, team in ((drawn.EAST_CODE, "东网格服务团队"), (NEW_CODE, "北片服务团队")):
            session.execute(text(
                "INSERT INTO service_team (grid_code, name, district_code, street_code, valid_from) "
                "VALUES (:grid, :name, '500103', '500103001', '2024-01-01')"), {"grid": grid, "name": team})
        session.execute(text(
            "INSERT INTO party_org (level, name, place_code, secretary, member_count, district_code, street_code, "
            "valid_from) VALUES ('grid_branch', '北片党支部', :grid, '郑书记', 5, '500103', '500103001', "
            "'2024-01-01')"), {"grid": NEW_CODE})
        spare_team = session.execute(text("SELECT id FROM service_team WHERE grid_code = :g"), {"g": NEW_CODE}).scalar()
        spare_branch = session.execute(text("SELECT id FROM party_org WHERE place_code = :g"), {"g": NEW_CODE}).scalar()
        case_id, _ = case_store.create_case(session, CaseInput(
            source="hotline", category_code="exposed_rubbish", lon=106.505, lat=29.559, description="北边垃圾",
            address="测试路北"), DESK)
        case_store.apply_action(session, case_id, case_store.ActionInput(action="file"), DESK)
    try:
        yield Office(serve(app_over(database)), database, case_id, spare_team, spare_branch)
    finally:
        database.close()
        copies.drop(name)


def _sign_in(page: Page, url: str, username: str, path: str = "/plan") -> None:
    page.goto(url + path)
    page.wait_for_url("**/signin?**")
    page.locator("#signin-username").fill(username)
    page.locator("#signin-password").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(url + path)
    try:
        page.wait_for_function("() => document.body.dataset.ready", timeout=30_000)
    except Exception:
        raise AssertionError(errors_of(page)) from None
    assert page.evaluate("() => document.body.dataset.ready") == "1", errors_of(page)


def _pixel(page: Page, lon: float, lat: float) -> tuple[float, float]:
    """Page coordinates of a place on the plan's map."""
    point = page.evaluate("""([lon, lat]) => {
        const p = window.gridmapPlanMap.latLngToContainerPoint([lat, lon]);
        const box = document.getElementById('p-map').getBoundingClientRect();
        return [box.left + p.x, box.top + p.y]; }""", [lon, lat])
    return point[0], point[1]


def _settled(page: Page) -> None:
    """Saved and read back: nothing waiting to be saved, and the checks, balance and impact of the save."""
    page.wait_for_function("""() => { const s = window.gridmapPlan;
        return !s.dirty && !s.saving && document.getElementById('p-save').dataset.state !== 'saving'; }""",
                           timeout=20_000)
    page.wait_for_function("() => !document.body.dataset.pending", timeout=20_000)


def _kinds(page: Page) -> list[str]:
    return page.locator("#p-checks .p-problem").evaluate_all("items => items.map(i => i.dataset.kind)")


def test_split_check_fix_and_approve(office: Office, closed_page) -> None:  # noqa: ANN001
    page, blocked = closed_page(**SCREEN)
    _sign_in(page, office.url, "planner-li")
    page.get_by_role("button", name="新建方案").click()
    expect(page.locator("#p-status")).to_have_text("草稿")
    expect(page.locator("#p-checks-note")).to_contain_text("错误 0 个")  # households warnings only
    page.wait_for_timeout(400)  # the map's fly to the grids (an animation, not a wait for data)
    save_screenshot(page, "plan_1_opened")

    page.mouse.click(*_pixel(page, 106.505, 29.553))  # select the west grid
    expect(page.locator("#p-code")).to_have_value(drawn.WEST_CODE)
    page.locator("#p-tools [data-tool=split]").click()
    expect(page.locator("#p-hint")).to_contain_text("画一条穿过所选网格的线")
    page.mouse.click(*_pixel(page, 106.4996, 29.558))
    page.mouse.dblclick(*_pixel(page, 106.5104, 29.558))
    page.wait_for_function("() => window.gridmapPlan.features.length === 3", timeout=10_000)
    _settled(page)
    expect(page.locator("#p-checks .p-problem[data-kind=code_duplicate]")).to_have_count(1)
    kinds = _kinds(page)
    assert {"code_duplicate", "no_team", "no_branch"} <= set(kinds), kinds
    expect(page.locator("#p-code")).to_have_value(drawn.WEST_CODE)  # the new piece, selected, has the old code
    page.locator("#p-checks .p-problem[data-kind=code_duplicate]").click()  # zooms to the problem
    page.wait_for_timeout(600)  # the fly-to animation
    save_screenshot(page, "plan_2_split_checks")

    page.locator("#p-code").fill(NEW_CODE)  # the fault the checks name first: a code of its own
    page.locator("#p-code").press("Tab")
    page.locator("#p-name").fill("北片网格")
    page.locator("#p-name").press("Tab")
    _settled(page)
    expect(page.locator("#p-checks .p-problem[data-kind=code_duplicate]")).to_have_count(0)
    page.locator("#p-tabs [data-tab=impact]").click()
    expect(page.locator("#p-impact-note")).to_contain_text("1 件在办案件将换网格")
    save_screenshot(page, "plan_3_impact")

    page.locator("#p-team").select_option(str(office.spare_team))
    page.locator("#p-branch").select_option(str(office.spare_branch))
    _settled(page)
    page.wait_for_timeout(100)
    page.locator("#p-tabs [data-tab=checks]").click()
    expect(page.locator("#p-checks .p-problem.p-error")).to_have_count(0)
    impact = page.evaluate("() => window.gridmapPlan.impact")
    assert [(m["id"], m["from"], m["to"]) for m in impact["open_cases"]] == [
        (office.case_id, drawn.WEST_CODE, NEW_CODE)]
    assert page.locator("#p-map .p-move-case").count() == 1  # drawn on the map

    forms = page.locator("#p-checks form.p-accept")  # each households warning, accepted with a reason
    assert forms.count() == 3
    while (left := forms.count()) > 0:
        forms.first.locator("input").fill("老城区户数少，按管理半径划分")
        forms.first.get_by_role("button").click()
        expect(forms).to_have_count(left - 1)
    expect(page.locator("#p-checks form.p-accept")).to_have_count(0)
    page.locator("#p-check").click()
    expect(page.locator("#p-status")).to_have_text("已检查")
    expect(page.locator("#p-approve")).to_be_disabled()  # the author may not approve
    expect(page.locator("#p-approve-note")).to_contain_text("你是作者")
    save_screenshot(page, "plan_4_checked")
    plan_id = page.evaluate("() => window.gridmapPlan.plan.id")

    admin, blocked_admin = closed_page(**SCREEN)
    _sign_in(admin, office.url, "admin-wang", f"/plan?plan={plan_id}")
    expect(admin.locator("#p-status")).to_have_text("已检查")
    expect(admin.locator("#p-approve")).to_be_enabled()
    admin.locator("#p-approve").click()
    expect(admin.locator("#p-status")).to_have_text("已批准")
    expect(admin.locator("#p-apply")).to_be_enabled()
    save_screenshot(admin, "plan_5_approved")

    with office.db.session() as session:
        row = session.execute(text("SELECT status, author, approved_by FROM redraw_plan WHERE id = :id"),
                              {"id": plan_id}).one()
        codes = session.execute(text("SELECT code, team_id FROM plan_grid WHERE plan_id = :id ORDER BY code"),
                                {"id": plan_id}).all()
    assert tuple(row) == ("approved", "planner-li", "admin-wang")
    assert [c for c, _ in codes] == [drawn.WEST_CODE, drawn.EAST_CODE, NEW_CODE]
    assert dict(codes)[NEW_CODE] == office.spare_team
    assert blocked == [] and blocked_admin == []
    assert errors_of(page) == [] and errors_of(admin) == []
