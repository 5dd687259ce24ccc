"""The public grid card (网格公示) in Chromium on a closed network, over the sample district: on a phone
(375×812), printed to one A4 page (`page.pdf`), and its report form sending a case from a phone. Screenshots
and the PDF go to test-output/ for a person to look at."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from gis.periods import district_today
from gis.permissions import Actor
from gis.store import liaisons
from gis.store.database import Database
from gis.store.users import create_user
from tests.browser.harness import SCREENSHOT_DIR, app_over, errors_of, save_screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
A4_PX = {"width": 794, "height": 1123}  # 210 × 297 mm at 96 dpi
PRINTABLE_PX = {"width": 703, "height": 1032}  # less the 12 mm margins of the card's @page


def _grid_with_a_team(database: Database) -> tuple[str, str]:
    """(code, leader's name) of the first current grid whose team has a leader and a grid worker."""
    with database.session() as session:
        row = session.execute(text(
            "SELECT t.grid_code, min(p.name) FILTER (WHERE m.role = 'leader') AS leader FROM service_team AS t "
            "JOIN team_membership AS m ON m.team_id = t.id JOIN person AS p ON p.id = m.person_id "
            "WHERE t.valid_to IS NULL AND m.to_date IS NULL GROUP BY t.grid_code "
            "HAVING bool_or(m.role = 'leader') AND bool_or(m.role = 'grid_worker') ORDER BY t.grid_code LIMIT 1"
        )).mappings().one()
    return row["grid_code"], row["leader"]


def _open_card(closed_page, base: str, code: str, **size: int) -> Page:  # noqa: ANN001
    page, blocked = closed_page(**size)
    page.goto(f"{base}/card/{code}")
    page.wait_for_selector("#card-map[data-ready='1'] path.leaflet-interactive, #card-map[data-ready='1'] path",
                           timeout=20_000)
    assert blocked == [], blocked
    return page


def test_the_card_on_a_phone(closed_page, live_server, sample_db: Database) -> None:  # noqa: ANN001
    code, leader = _grid_with_a_team(sample_db)
    page = _open_card(closed_page, live_server.url, code, **PHONE)
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("#card-team")).to_contain_text(leader)
    expect(page.locator("#card-team a.phone").first).to_have_attribute("href", re.compile(r"^tel:"))
    assert page.locator("svg.qr").count() == 1
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the card is {width}px wide on a {PHONE['width']}px phone"
    save_screenshot(page, "grid_card_phone")
    page.screenshot(path=str(SCREENSHOT_DIR / "grid_card_phone_full.png"), full_page=True)
    assert errors_of(page) == []
    page.goto(f"{live_server.url}/card/{code}?lang=en")
    expect(page.locator(".card-head .kicker")).to_have_text("Grid notice board")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SCREENSHOT_DIR / "grid_card_phone_en_full.png"), full_page=True)


def test_the_card_prints_on_one_a4_page(closed_page, live_server, sample_db: Database) -> None:  # noqa: ANN001
    code, leader = _grid_with_a_team(sample_db)
    page = _open_card(closed_page, live_server.url, code, **A4_PX)
    page.emulate_media(media="print")
    page.set_viewport_size(PRINTABLE_PX)  # what the A4 page's printable area shows, for a person to look at
    page.wait_for_function("() => { const box = document.getElementById('card-map'); "
                           "return box.dataset.fit === String(box.clientHeight); }")  # the map refitted
    page.screenshot(path=str(SCREENSHOT_DIR / "grid_card_a4_print.png"), full_page=True)
    assert page.locator("#card-print").is_hidden()  # no buttons on paper
    qr_mm = page.evaluate("() => document.querySelector('svg.qr').getBoundingClientRect().width") * 25.4 / 96
    assert qr_mm >= 40, f"the printed QR code is {qr_mm:.0f} mm wide; at least 40 mm scans from a step back"
    pdf = page.pdf(format="A4", print_background=True)
    (SCREENSHOT_DIR / "grid_card_a4.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, "the poster does not fit on one A4 page"
    assert errors_of(page) == []


def test_a_resident_reports_from_the_phone_form(closed_page, own_sample_db: Database, serve) -> None:  # noqa: ANN001
    code, _ = _grid_with_a_team(own_sample_db)
    base = serve(app_over(own_sample_db))
    page, blocked = closed_page(**PHONE)
    page.goto(f"{base}/card/{code}/report")
    page.select_option("#r-category", "exposed_rubbish")
    page.fill("#r-description", "小区门口堆放垃圾三天了")
    page.fill("#r-phone", "13655556666")
    save_screenshot(page, "grid_card_report_form")
    page.click("button.send")
    reference = page.locator("#reference")
    expect(reference).to_have_text(re.compile(r"^\d+$"))
    save_screenshot(page, "grid_card_report_sent")
    with own_sample_db.session() as session:
        grid = session.execute(text("SELECT grid_code FROM service_case WHERE id = :id"),
                               {"id": int(reference.text_content())}).scalar_one()
    assert grid == code
    assert "13655556666" not in page.content()
    assert blocked == [] and errors_of(page) == []


def test_the_wall_names_a_grids_liaison_in_its_details(closed_page, own_sample_db: Database, serve) -> None:  # noqa: ANN001
    """The wall's grid popup gains a liaison row (api/static/wall/panel.js), read from /api/grids/{code}."""
    code, _ = _grid_with_a_team(own_sample_db)
    with own_sample_db.session() as session:
        create_user(session, "wall-liaison", "command_centre", key="wall-liaison-key")
        person = session.execute(text("INSERT INTO person (name, phone, district_code) VALUES ('高联络', NULL, "
                                      ":d) RETURNING id"), {"d": code[:6]}).scalar_one()
        liaisons.assign(session, liaisons.LiaisonInput(scope="grid", codes=(code,), from_date=district_today(),
                                                       person_id=person), Actor("admin", "admin"))
        other = session.execute(text("SELECT code FROM grid WHERE valid_to IS NULL AND code <> :c ORDER BY code "
                                     "LIMIT 1"), {"c": code}).scalar_one()
    base = serve(app_over(own_sample_db))
    page, blocked = closed_page()
    page.goto(f"{base}/wall?key=wall-liaison-key&rotate=0", wait_until="load")
    page.wait_for_function("() => window.gridmapWall && gridmapWall.stats.refreshes > 0", timeout=30_000)
    for grid, expected in ((code, "高联络"), (other, "今日无联络员")):
        page.evaluate(f"() => gridmapWall.grids.getLayers().find(l => l.feature.id === '{grid}').openPopup()")
        expect(page.locator(".leaflet-popup-content tr.liaison td")).to_have_text(expected)
        expect(page.locator(".leaflet-popup-content tr.liaison th")).to_have_text("联络员")
    save_screenshot(page, "wall_popup_liaison")
    assert blocked == [] and errors_of(page) == []
