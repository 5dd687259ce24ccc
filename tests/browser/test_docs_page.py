"""The OpenAPI page renders on a closed network (Swagger UI served locally)."""

from __future__ import annotations

import pytest

from tests.browser.harness import errors_of, save_screenshot

pytestmark = pytest.mark.browser


def test_docs_page_lists_the_api_offline(closed_page, live_server) -> None:  # noqa: ANN001
    page, blocked = closed_page(width=1920, height=1080)
    page.goto(live_server.url + "/docs", wait_until="load")
    page.get_by_text("/api/grids/{code}", exact=True).first.wait_for()
    assert page.locator(".opblock").count() >= 10
    save_screenshot(page, "docs")
    assert blocked == [] and errors_of(page) == []
