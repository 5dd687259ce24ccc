"""The wall reading from a streaming replica shows how far behind the replica is."""

from __future__ import annotations

from playwright.sync_api import Browser

from api.app import create_app
from gis.settings import Settings
from gis.store.database import Database
from tests.browser.harness import closed_network_page, errors_of, save_screenshot
from tests.conftest import LiveServer


def test_the_wall_shows_the_replica_lag(browser: Browser, replicated: tuple[Settings, Database]) -> None:
    settings, database = replicated
    with LiveServer(create_app(settings, database=database)) as server:
        page, blocked = closed_network_page(browser, width=1920, height=1080)
        try:
            page.goto(f"{server.url}/wall?key=key-centre&rotate=0", wait_until="load")
            updated = page.locator("#wall-updated")
            updated.filter(has_text="副本延迟").wait_for(timeout=30_000)
            assert "秒" in updated.inner_text()
            save_screenshot(page, "wall-replica-1920x1080")
            assert blocked == [] and errors_of(page) == []
        finally:
            page.context.close()
