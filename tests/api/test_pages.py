"""The page shell and the district map: one message catalogue per language, a district page that holds no
data (built once per language, no query per view), compressed answers, and the generic sign-in."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point
from sqlalchemy import event

from api.auth import SESSION_COOKIE
from api.cli import import_file
from api.pages import district_map
from api.pages.assets import external_urls
from api.pages.i18n import LANGUAGES, MESSAGES_DIR, catalogue, pick_language
from gis.settings import Settings
from gis.store.database import Database
from tests import drawn
from tests.api.conftest import PASSWORD
from tests.api.test_warmth import warmth_when_settled

PAGES_DIR = Path(district_map.__file__).resolve().parent
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")


# -- catalogues ---------------------------------------------------------------------------------------


def _keys(tree: dict, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in tree.items():
        out |= _keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
    return out


def test_every_language_has_the_same_messages_with_the_same_slots() -> None:
    assert sorted(p.stem for p in MESSAGES_DIR.glob("*.json")) == sorted(LANGUAGES)
    zh, en = catalogue("zh-CN"), catalogue("en")
    assert _keys(zh) == _keys(en)
    for section, table in zh.items():
        for key, text in table.items():
            slots = set(re.findall(r"\{(\w+)\}", text))
            assert slots == set(re.findall(r"\{(\w+)\}", en[section][key])), f"{section}.{key}"


def test_no_page_module_keeps_ui_strings_of_its_own() -> None:
    for module in PAGES_DIR.glob("*.py"):
        assert not CJK.search(module.read_text(encoding="utf-8")), f"{module.name} holds UI text"
    for template in (PAGES_DIR / "templates").glob("*.html"):
        assert not CJK.search(template.read_text(encoding="utf-8")), f"{template.name} holds UI text"


@pytest.mark.parametrize(("tag", "language"), [(None, "zh-CN"), ("", "zh-CN"), ("zh", "zh-CN"), ("fr", "zh-CN"),
                                               ("en", "en"), ("en-GB", "en"), ("en_US", "en"), (" EN ", "en")])
def test_one_rule_picks_the_page_language(tag: str | None, language: str) -> None:
    assert pick_language(tag) == language


def test_the_walls_figures_say_what_they_count() -> None:
    """Open now, overdue in the period including closed late, and the dots (open and late now) differ."""
    wall = catalogue("zh-CN")["wall"]
    labels = [wall["fig_open"], wall["fig_overdue"], wall["overdue_layer"]]
    assert len(set(labels)) == 3 and "超期案件" not in labels
    assert "当前" in wall["fig_open"] and "含已结" in wall["fig_overdue"] and "在办超期" in wall["overdue_layer"]
    assert "应结" in wall["fig_closure"], "the wall's closure rate is closed / due, and says so"
    english = catalogue("en")["wall"]
    assert "closed late" in english["fig_overdue"] and "Open" in english["overdue_layer"]


# -- the district map ---------------------------------------------------------------------------------


@pytest.fixture
def statements(db: Database) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the test runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def _more_buildings(settings: Settings, folder: Path, count: int) -> None:
    points = [Point(106.5005 + (i % 40) * 0.0005, 29.5505 + (i // 40) * 0.0002) for i in range(count)]
    frame = gpd.GeoDataFrame({"code": [f"B-MORE-{i:05d}" for i in range(count)],
                              "address": [f"加测路{i}号" for i in range(count)], "households": [3] * count},
                             geometry=points, crs="EPSG:4326")
    import_file(settings, "buildings", drawn.write(frame, folder / "more.geojson"))


def test_the_district_page_holds_no_data_and_is_built_once_per_language(
    client: TestClient, db_settings: Settings, statements: list[str], tmp_path: Path
) -> None:
    warmth_when_settled(client)  # the warmer's first pass counts the grids (api/warmer.py): not the page's doing
    statements.clear()
    district_map.district_html.cache_clear()
    first = client.get("/")
    assert first.status_code == 200 and "text/html" in first.headers["content-type"]
    assert "B-WEST" not in first.text and "测试路1号" not in first.text and "106.5" not in first.text
    assert len(first.content) < 8_000
    again = client.get("/")
    assert again.text == first.text
    # (The sweeper works beside it on cases; no statement reads the places a map would draw.)
    assert [s for s in statements if re.search(r"\b(building|grid|community)\b", s)] == [], "built without the places"
    assert district_map.district_html.cache_info().misses == 1
    # Two thousand more buildings change nothing in the page, even built anew.
    _more_buildings(db_settings, tmp_path, 2000)
    district_map.district_html.cache_clear()
    assert client.get("/").content == first.content


def test_the_district_page_names_its_sources_and_needs_nothing_from_outside(client: TestClient) -> None:
    for lang, title in ((None, "网格化管理地图"), ("en", "Grid management map")):
        html = client.get("/", params={"lang": lang} if lang else {}).text
        assert f"<title>{title}</title>" in html and external_urls(html) == []
        config = json.loads(re.search(r'id="page-config" type="application/json">(.*?)</script>', html, re.S)[1])
        assert config["buildings_from_zoom"] >= 15 and config["buildings_per_view"] <= 5000
        for asset in re.findall(r'(?:src|href)="(/(?:vendor|static)/[^"]+)"', html):
            assert client.get(asset).status_code == 200, asset


def test_pages_and_json_are_compressed_and_prebuilt_gzip_is_left_alone(
    client: TestClient, users: dict
) -> None:
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip" and "网格化管理地图" in page.text
    spec = client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert spec.headers["content-encoding"] == "gzip" and "/api/grids" in spec.json()["paths"]
    small = client.get("/api/grids", headers={"Accept-Encoding": "gzip"})  # under 1 KB: not worth it
    assert "content-encoding" not in small.headers and small.json()["numberMatched"] == 2
    layer = client.get("/api/layers/grids", params={"measure": "open_cases"},
                       headers={**users["centre"], "Accept-Encoding": "gzip"})
    assert layer.headers["content-encoding"] == "gzip"
    assert len(layer.json()["features"]) == 2, "compressed once: decodes to the GeoJSON"
    workbook = client.get("/api/ledger.xlsx", headers={**users["centre"], "Accept-Encoding": "gzip"},
                          params={"grid": drawn.WEST_CODE, "from": "2026-01-01", "to": "2026-02-01"})
    assert workbook.status_code == 200 and len(workbook.content) > 1024
    assert "content-encoding" not in workbook.headers, "a workbook is a zip already"
    raw = client.get("/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert len(gzip.compress(raw.content)) < len(raw.content)


# -- the generic sign-in --------------------------------------------------------------------------


def test_a_person_signs_in_with_a_password_and_returns_to_the_page(client: TestClient, people: dict) -> None:
    form = client.get("/signin", params={"next": "/?lang=en", "lang": "en"})
    assert form.status_code == 200 and 'action="/session"' in form.text and 'value="/?lang=en"' in form.text
    assert 'name="username"' in form.text and 'name="password"' in form.text and 'name="key"' not in form.text
    refused = client.post("/session", data={"username": "p-centre", "password": "wrong-wrong", "next": "/"},
                          follow_redirects=False)
    assert refused.status_code == 401 and "用户名或密码错误" in refused.text and 'value="p-centre"' in refused.text
    signed = client.post("/session", data={"username": "p-worker-west", "password": PASSWORD, "next": "/?lang=en"},
                         follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/?lang=en"
    cookies = signed.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}=")).lower()
    assert "httponly" in session_cookie and "samesite=strict" in session_cookie and "secure" not in session_cookie
    assert PASSWORD not in "; ".join(cookies)
    assert client.get("/api/buildings", params={"bbox": "106.5,29.55,106.52,29.56"}).status_code == 200
    out = client.get("/signout", params={"next": "/"}, follow_redirects=False)
    assert out.status_code == 303 and "Max-Age=0" in "; ".join(out.headers.get_list("set-cookie"))
    assert client.get("/api/buildings", params={"bbox": "106.5,29.55,106.52,29.56"}).status_code == 401


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "wall"])
def test_sign_in_never_sends_the_reader_to_another_site(client: TestClient, people: dict, target: str) -> None:
    signed = client.post("/session", data={"username": "p-centre", "password": PASSWORD, "next": target},
                         follow_redirects=False)
    assert signed.headers["location"] == "/"


def test_over_https_the_session_cookie_is_secure(client: TestClient, users: dict) -> None:
    secure = TestClient(client.app, base_url="https://testserver")
    signed = secure.post("/wall/session", data={"key": "key-centre"}, follow_redirects=False)
    assert signed.status_code == 303
    assert "secure" in "; ".join(signed.headers.get_list("set-cookie")).lower()
    assert SESSION_COOKIE in signed.headers["set-cookie"] and "key-centre" not in signed.headers["set-cookie"]
