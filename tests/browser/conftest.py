"""Browser fixtures, shared by every browser test: one headless Chromium per session, servers for apps
(`serve` for a test, `module_serve` for a module's tests, on the same `LiveServer` as the session's
`live_server` over the sample district) and closed-network pages (`closed_page`) whose contexts are
closed after the test.

`live_server` is over the shared sample district, read-only by contract (checked at the end of the
session): a test that writes (users, cases, deadlines) serves `harness.app_over` its own copy
(`own_sample_db`, or `module_sample_db` for a module's set-up) instead."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.harness import closed_network_page, launch_browser
from tests.conftest import LiveServer


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def serve() -> Iterator[Callable[[object], str]]:
    """`serve(app) -> base URL`: the app under uvicorn on a loopback port until the test ends."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(LiveServer(app)).url


@pytest.fixture(scope="module")
def module_serve() -> Iterator[Callable[[object], str]]:
    """`module_serve(app) -> base URL`: as `serve`, until the module's tests are done."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(LiveServer(app)).url


@pytest.fixture
def closed_page(browser: Browser) -> Iterator[Callable[..., tuple[Page, list[str]]]]:
    """`closed_page(width=, height=, locale=) -> (page, blocked)`: a page that may only reach loopback
    (`harness.closed_network_page`); every context it made is closed after the test."""
    pages: list[Page] = []

    def open_page(*, width: int = 1920, height: int = 1080, locale: str = "zh-CN") -> tuple[Page, list[str]]:
        page, blocked = closed_network_page(browser, width=width, height=height, locale=locale)
        pages.append(page)
        return page, blocked

    yield open_page
    for page in pages:
        page.context.close()
