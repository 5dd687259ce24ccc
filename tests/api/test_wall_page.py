"""The wall page at `/wall`: signing in (form, kiosk URL, sign-out), the cookie's flags, and a page that
needs nothing from outside, in both languages. The map itself is driven in tests/browser/test_wall.py."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from api.auth import SESSION_COOKIE
from api.pages.assets import external_urls
from tests.api.conftest import PASSWORD

FORM = 'action="/wall/session"'


def _set_cookie(response) -> str:  # noqa: ANN001
    return "; ".join(response.headers.get_list("set-cookie"))


def _config(html: str) -> dict:
    match = re.search(r'<script id="page-config" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the wall page carries its configuration"
    return json.loads(match.group(1))


def _sign_in(client: TestClient, key: str, **form: str):  # noqa: ANN202
    return client.post("/wall/session", data={"key": key, **form}, follow_redirects=False)


def test_without_a_key_the_wall_shows_a_large_sign_in_form(client: TestClient) -> None:
    response = client.get("/wall")
    assert response.status_code == 200
    assert FORM in response.text and 'name="username"' in response.text and 'name="password"' in response.text
    assert 'name="key"' in response.text  # a wall screen may sign in with its kiosk key
    assert "网格化管理指挥中心" in response.text and "page-config" not in response.text
    assert response.headers["cache-control"] == "no-store"
    assert external_urls(response.text) == []


@pytest.mark.parametrize(
    ("key", "status", "message"),
    [
        ("not-a-key", 401, "密钥无效"),
        ("", 401, "请输入用户名和密码"),
        ("key-worker-west", 403, "该账号属于“网格员”"),
        ("key-street-1", 403, "街道工作人员"),
        ("key-hotline-app", 403, "外部接入应用"),
    ],
)
def test_a_key_that_may_not_open_the_wall_gets_the_form_again_with_the_reason(
    client: TestClient, users: dict, key: str, status: int, message: str
) -> None:
    response = _sign_in(client, key)
    assert response.status_code == status
    assert FORM in response.text and message in response.text
    assert SESSION_COOKIE not in _set_cookie(response)
    assert SESSION_COOKIE not in client.cookies


def test_the_reason_is_given_in_english_too(client: TestClient, users: dict) -> None:
    response = _sign_in(client, "key-worker-west", lang="en")
    assert response.status_code == 403
    assert "belongs to a grid worker" in response.text and '<html lang="en">' in response.text


@pytest.mark.parametrize("username", ["centre", "admin", "planner"])
def test_a_wall_key_sets_a_strict_http_only_cookie_and_redirects(
    client: TestClient, users: dict, username: str
) -> None:
    response = _sign_in(client, f"key-{username}")
    assert response.status_code == 303
    assert response.headers["location"] == "/wall"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    assert f"key-{username}" not in _set_cookie(response)  # the cookie holds a session id, never the key
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower() and "Path=/" in cookie
    page = client.get("/wall")
    assert page.status_code == 200
    assert "page-config" in page.text and FORM not in page.text


def test_the_form_keeps_the_walls_options(client: TestClient, users: dict) -> None:
    response = _sign_in(client, "key-centre", lang="en", rotate="30", poll="1", period="7d")
    assert response.status_code == 303
    assert response.headers["location"] == "/wall?lang=en&rotate=30&poll=1&period=7d"


def test_kiosk_url_signs_in_and_drops_the_key_from_the_address(client: TestClient, users: dict) -> None:
    response = client.get("/wall", params={"key": "key-centre", "lang": "en", "rotate": "0"},
                          follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/wall?lang=en&rotate=0"
    assert "key-centre" not in response.headers["location"]
    assert "samesite=strict" in _set_cookie(response).lower()
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and _config(page.text)["rotate_ms"] == 0


def test_kiosk_url_with_a_bad_key_shows_the_form(client: TestClient, users: dict) -> None:
    response = client.get("/wall", params={"key": "key-worker-east"}, follow_redirects=False)
    assert response.status_code == 403 and FORM in response.text
    assert SESSION_COOKIE not in _set_cookie(response)


def test_a_person_signs_the_wall_in_with_a_password(client: TestClient, people: dict) -> None:
    refused = client.post("/wall/session", data={"username": "p-worker-west", "password": PASSWORD},
                          follow_redirects=False)
    assert refused.status_code == 403 and "该账号属于“网格员”" in refused.text
    signed = client.post("/wall/session", data={"username": "p-centre", "password": PASSWORD, "lang": "en"},
                         follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/wall?lang=en"
    assert "page-config" in client.get("/wall?lang=en").text


def test_an_ended_session_shows_the_form_and_clears_the_cookie(client: TestClient, users: dict) -> None:
    client.cookies.set(SESSION_COOKIE, "ended-or-unknown")
    response = client.get("/wall")
    assert response.status_code == 200 and FORM in response.text and "page-config" not in response.text
    assert "Max-Age=0" in _set_cookie(response)


def test_sign_out_clears_the_cookie(client: TestClient, users: dict) -> None:
    _sign_in(client, "key-centre")
    response = client.get("/wall/signout", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/wall"
    assert "Max-Age=0" in _set_cookie(response)
    assert client.get("/wall").text.count(FORM) == 1


@pytest.mark.parametrize(
    ("lang", "title", "html_lang", "other"),
    [(None, "网格化管理指挥中心", "zh-CN", "English"), ("en", "Grid command centre", "en", "中文")],
)
def test_wall_page_in_both_languages_needs_nothing_from_outside(
    client: TestClient, users: dict, lang: str | None, title: str, html_lang: str, other: str
) -> None:
    _sign_in(client, "key-centre")
    response = client.get("/wall", params={"lang": lang} if lang else {})
    assert response.status_code == 200
    html = response.text
    assert external_urls(html) == []
    assert f'<html lang="{html_lang}">' in html and f"<title>{title}</title>" in html
    assert f'id="wall-lang" href="/wall{"" if lang else "?lang=en"}">{other}</a>' in html
    config = _config(html)
    assert config["strings"]["title"] == title
    assert config["lang"] == html_lang and config["rotate_ms"] == 60_000 and config["poll_ms"] == 2000
    assert 'id="wall-map"' in html  # the map the script drives
    # Every script and stylesheet is local and served.
    assets = re.findall(r'(?:src|href)="(/(?:vendor|static)/[^"]+)"', html)
    assert any(a.startswith("/static/wall/main.js?v=") for a in assets)
    assert any(a.startswith("/vendor/leaflet@") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_options_reach_the_script_and_bad_ones_are_refused(client: TestClient, users: dict) -> None:
    _sign_in(client, "key-centre")
    config = _config(client.get("/wall", params={"rotate": "5", "poll": "0.5", "period": "7d",
                                                 "measure": "overdue"}).text)
    got = (config["rotate_ms"], config["poll_ms"], config["period"], config["measure"])
    assert got == (5000, 500, "7d", "overdue")
    assert client.get("/wall", params={"rotate": "-1"}).status_code == 422
    assert client.get("/wall", params={"poll": "0"}).status_code == 422
    assert client.get("/wall", params={"measure": "x</script>"}).status_code == 422


def test_static_files_are_served_for_revalidation(client: TestClient) -> None:
    for name, kind in (("main.js", "javascript"), ("poll.js", "javascript"), ("wall.css", "text/css")):
        response = client.get(f"/static/wall/{name}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
        assert response.headers["cache-control"] == "no-cache" and response.headers.get("etag")
    assert client.get("/static/wall/missing.js").status_code == 404


def test_the_walls_measures_come_from_gis_metrics_not_from_a_page_or_script(client: TestClient, users: dict) -> None:
    """gis/metrics.py places measures on the wall (`wall`, `short_zh`/`short_en`); the API passes it on and
    no script or catalogue names a measure, so a new wall measure is one entry in gis/metrics.py."""
    from pathlib import Path

    from api.pages.i18n import catalogue
    from gis.metrics import MEASURES

    on_wall = sorted((s.wall, key) for key, s in MEASURES.items() if s.wall is not None)
    assert [w for w, _ in on_wall] == list(range(1, len(on_wall) + 1))  # a place each, no gaps
    assert all(MEASURES[k].short_zh and MEASURES[k].short_en for _, k in on_wall)
    listed = client.get("/api/layers/measures", params={"lang": "en"}, headers=users["admin"]).json()
    assert [m["key"] for m in sorted((m for m in listed if m["wall"]), key=lambda m: m["wall"])] == [
        k for _, k in on_wall]
    assert next(m for m in listed if m["key"] == "open_cases")["short_label"] == "Open"
    assert all("wall_measures" not in catalogue(lang) for lang in ("zh-CN", "en"))
    district_figures = {"open_cases", "overdue", "closure_rate", "on_time_rate", "satisfaction", "grade"}
    folder = Path(__file__).resolve().parents[2] / "api" / "static" / "wall"
    scripts = "".join(p.read_text(encoding="utf-8") for p in folder.glob("*.js"))
    assert scripts
    assert [key for key in set(MEASURES) - district_figures if key in scripts] == []
