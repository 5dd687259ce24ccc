"""Helpers for browser tests: Debian's Chromium, pages on a closed network (loopback only), screenshots,
the app over a database of a test's own.

Not a conftest: fixtures are wired elsewhere. Errors of a page from `closed_network_page` are in
`page.errors` (also `errors_of(page)`, typed).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, Response, Route

from gis.settings import Settings
from gis.store.database import Database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # the suite runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


def launch_browser(playwright: Playwright) -> Browser:
    """Headless Debian Chromium (Playwright's own browser builds cannot be downloaded here)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname in LOOPBACK_HOSTS


def closed_network_page(
    browser: Browser, *, width: int, height: int, locale: str = "zh-CN"
) -> tuple[Page, list[str]]:
    """A page in a fresh context that may only reach loopback; returns it with the list of blocked URLs.

    Every other request is aborted and its URL recorded (tests assert the list stays empty). Console
    errors, uncaught page errors, failed requests and HTTP errors (>= 400) are collected in
    `page.errors`."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale=locale, service_workers="block"
    )
    blocked: list[str] = []
    errors: list[str] = []

    def guard(route: Route) -> None:
        url = route.request.url
        if _is_loopback(url):
            route.continue_()
        else:
            blocked.append(url)
            route.abort("blockedbyclient")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    def on_request_failed(request: Request) -> None:
        if _is_loopback(request.url):  # blocked ones are already in `blocked`
            errors.append(f"request failed: {request.url} ({request.failure})")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            errors.append(f"HTTP {response.status}: {response.url}")

    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("requestfailed", on_request_failed)
    page.on("response", on_response)
    page.errors = errors  # type: ignore[attr-defined]
    return page, blocked


def errors_of(page: Page) -> list[str]:
    """The errors collected for a page made by `closed_network_page`."""
    return page.errors  # type: ignore[attr-defined,no-any-return]


def save_screenshot(page: Page, name: str) -> Path:
    """Screenshot of the viewport to `test-output/screenshots/<name>.png` at the repo root."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / (name if name.endswith(".png") else f"{name}.png")
    page.screenshot(path=str(path))
    return path


def app_over(database: Database) -> object:
    """The gridmap app over `database` (as `sample_app` is over the shared sample district): for a test
    that writes, over its own copy (`own_sample_db`, `module_sample_db`), served with `serve`."""
    from api.app import create_app

    settings = Settings(database_url=database.engine.url.render_as_string(hide_password=False))
    return create_app(settings, database=database)
