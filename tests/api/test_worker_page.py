"""The worker page `/m` as served: sign-in first, the page in two languages, its service worker (scope
/m, so `Service-Worker-Allowed`) and manifest with their content types, every file the service worker keeps
served, and nothing from the internet."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from api.pages.assets import external_urls
from api.pages.shell import STATIC_DIR
from api.pages.worker import LATER_MODULES, USER_SLOT, module_imports, shell_files, worker_html
from gis.store.database import Database
from gis.store.users import create_user
from tests import drawn

PASSWORD = "a-long-worker-password"


@pytest.fixture
def worker(client: TestClient, db: Database) -> TestClient:
    """The client signed in as a grid worker of the west grid (by password, as the page's form does)."""
    with db.session() as session:
        create_user(session, "m-worker", "grid_worker", password=PASSWORD, grid_code=drawn.WEST_CODE)
    answer = client.post("/api/session", json={"username": "m-worker", "password": PASSWORD},
                         headers={"Origin": str(client.base_url)})
    assert answer.status_code == 200, answer.text
    return client


def _user(html: str) -> dict:
    found = re.search(r'<!--user--><script id="page-user" type="application/json">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def _preloads(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'<link rel="preload" as="fetch" crossorigin href="([^"]+)">', html)]


def _config(html: str) -> dict:
    found = re.search(r'<script id="page-config" type="application/json">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def test_not_signed_in_goes_to_the_sign_in(client: TestClient) -> None:
    answer = client.get("/m", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?lang=zh-CN&next=%2Fm"
    english = client.get("/m?lang=en", follow_redirects=False)
    assert english.headers["location"] == "/signin?lang=en&next=%2Fm%3Flang%3Den"
    form = client.get(answer.headers["location"])
    assert form.status_code == 200 and 'name="next" value="/m"' in form.text


def test_the_page_for_a_signed_in_worker(worker: TestClient) -> None:
    answer = worker.get("/m")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert '<html lang="zh-CN">' in html and "网格员" in html
    assert '<link rel="manifest" href="/m/manifest.webmanifest?lang=zh-CN">' in html
    assert 'capture="environment"' in html and 'accept="image/*"' in html
    config = _config(html)
    assert config["sw_url"] == "/m/sw.js" and config["scope"] == "/m"
    assert config["action_labels"]["accept"] == "签收处置"
    assert config["role_actions"]["grid_worker"] == ["accept", "explain", "handle"]
    assert config["date_required"] == ["explain"] and "expected_by" in config["repeat_strings"]
    assert set(config["task_statuses"]) == {"dispatched", "in_handling", "handled", "rework"}
    english = worker.get("/m?lang=en").text
    assert '<html lang="en">' in english and _config(english)["strings"]["tab_tasks"] == "Tasks"


def test_service_worker_and_manifest(client: TestClient) -> None:
    """Public (they carry no data); the service worker may control /m although it lives under /m/."""
    sw = client.get("/m/sw.js")
    assert sw.status_code == 200
    assert sw.headers["content-type"].startswith("text/javascript")
    assert sw.headers["service-worker-allowed"] == "/m"
    assert sw.headers["cache-control"] == "no-cache"
    kept = json.loads(re.match(r"const SHELL_FILES = (\[.*?\]);\n", sw.text).group(1))
    assert kept == shell_files() and "/m" in kept and "/m?lang=en" in kept
    assert any(url.startswith("/vendor/leaflet@") and url.endswith("leaflet.js") for url in kept)
    manifest = client.get("/m/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.headers["content-type"] == "application/manifest+json"
    body = manifest.json()
    assert (body["scope"], body["start_url"], body["display"]) == ("/m", "/m", "standalone")
    for icon in body["icons"]:
        assert client.get(icon["src"]).status_code == 200
    assert client.get("/m/manifest.webmanifest?lang=en").json()["start_url"] == "/m?lang=en"


def test_every_kept_file_is_served(worker: TestClient) -> None:
    for url in shell_files():
        answer = worker.get(url, follow_redirects=False)
        assert answer.status_code == 200, url


def test_nothing_from_the_internet(worker: TestClient) -> None:
    pages = [worker.get("/m").text, worker.get("/m?lang=en").text, worker.get("/m/sw.js").text,
             worker.get("/m/manifest.webmanifest").text]
    files = [path.read_text(encoding="utf-8") for path in sorted((STATIC_DIR / "m").iterdir())]
    found = [url for text in pages + files for url in external_urls(text)]
    assert found == []


def test_the_page_carries_its_reader_and_preloads_their_first_reads(worker: TestClient, client: TestClient,
                                                                      db: Database) -> None:
    """Who reads the page (role and area, no CSRF token) and a preload of each read the first screen waits
    for, at the addresses the page's configuration gives it; sent no-store, so no cache keeps one person's
    page for another; the page built once per language holds only the empty slot."""
    answer = worker.get("/m")
    assert answer.headers["cache-control"] == "no-store"
    html = answer.text
    user = _user(html)
    assert user == {"username": "m-worker", "role": "grid_worker",
                    "area": {"level": "grid", "codes": [drawn.WEST_CODE]}}
    assert "csrf" not in html.split("<!--/user-->")[0].lower()
    assert worker.cookies.get("gridmap_csrf") not in html
    config = _config(html)
    assert config["task_url"].startswith("/api/cases?status=")
    assert _preloads(html) == [config["task_url"], config["grid_url"].replace("{code}", drawn.WEST_CODE),
                               config["buildings_url"].replace("{code}", drawn.WEST_CODE),
                               config["focus_url"]]  # focus households overdue or unpaired (issue 12.2)
    for url in _preloads(html):
        assert worker.get(url).status_code == 200, url
    for language in ("zh-CN", "en"):
        shared = worker_html(language)
        assert USER_SLOT in shared and "page-user" not in shared and drawn.WEST_CODE not in shared
    # Another worker, another browser: their own grid, nothing of the first worker's.
    with db.session() as session:
        create_user(session, "m-east", "grid_worker", password=PASSWORD, grid_code=drawn.EAST_CODE)
    with TestClient(client.app, base_url=str(client.base_url)) as other:
        signed = other.post("/api/session", json={"username": "m-east", "password": PASSWORD},
                            headers={"Origin": str(client.base_url)})
        assert signed.status_code == 200, signed.text
        theirs = other.get("/m").text
    assert _user(theirs)["area"]["codes"] == [drawn.EAST_CODE] and _user(theirs)["username"] == "m-east"
    assert drawn.WEST_CODE not in theirs and "m-worker" not in theirs
    assert _preloads(theirs)[1:] == [config["grid_url"].replace("{code}", drawn.EAST_CODE),
                                     config["buildings_url"].replace("{code}", drawn.EAST_CODE), config["focus_url"]]


def test_the_page_preloads_the_first_screens_modules_and_the_service_worker_keeps_all(worker: TestClient) -> None:
    """Modules the first screen does not need (photos, the outbox, the basemap) are not in its bytes on a weak
    link: not preloaded, imported later; the service worker still keeps every module for opening offline."""
    html = worker.get("/m").text
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)
    later = [f"/static/{name}" for name in LATER_MODULES]
    assert preloaded and set(preloaded) == set(module_imports()) - set(later)
    assert set(later) <= set(shell_files())
    main = (STATIC_DIR / "m" / "main.js").read_text(encoding="utf-8")
    assert "import('./photo.js')" in main and "import('./outbox.js')" in main
    assert not re.search(r"^import .* from '\./(photo|outbox)\.js';", main, re.M)
