"""The wall reading from a streaming replica shows how far behind the replica is."""

from __future__ import annotations

from api.app import create_app
from gis.settings import Settings
from gis.store.database import Database
from tests.browser.harness import errors_of, save_screenshot


def test_the_wall_shows_the_replica_lag(
    closed_page, serve, replicated: tuple[Settings, Database]  # noqa: ANN001
) -> None:
    settings, database = replicated
    url = serve(create_app(settings, database=database))
    page, blocked = closed_page(width=1920, height=1080)
    page.goto(f"{url}/wall?key=key-centre&rotate=0", wait_until="load")
    updated = page.locator("#wall-updated")
    updated.filter(has_text="副本延迟").wait_for(timeout=30_000)
    assert "秒" in updated.inner_text()
    save_screenshot(page, "wall-replica-1920x1080")
    assert blocked == [] and errors_of(page) == []
