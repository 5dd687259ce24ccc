"""GDAL's ogrinfo (OAPIF driver, Debian's gdal-bin) and OWSLib read gridmap's OGC API – Features over a
live server on loopback: the drawn places with the west grid's past, current and future versions
(`versions` in test_features.py). The commands and what they printed are shown with `pytest -s`."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from owslib import ogcapi as owslib_ogcapi
from owslib.ogcapi.features import Features

from api.app import create_app
from gis.settings import Settings
from gis.store.database import Database
from gis.store.users import create_user
from tests.api.test_features import CURRENT_ID, EAST, FUTURE, FUTURE_ID, PAST_ID, WEST, versions  # noqa: F401
from tests.conftest import LiveServer

OGRINFO = shutil.which("ogrinfo")
EAST_ID = f"{EAST}@2024-01-01"
EAST_HALF = ("106.512", "29.552", "106.518", "29.558")
NORTH_STRIP = ("106.501", "29.561", "106.502", "29.564")  # only the future west grid reaches it


@pytest.fixture
def live(client: TestClient, versions: None, db: Database, db_settings: Settings) -> Iterator[str]:  # noqa: F811
    with db.session() as session:
        create_user(session, "qgis", "planner", key="key-qgis")
    with LiveServer(create_app(db_settings, database=db)) as server:
        yield server.url


def ogrinfo(*args: str, headers: str | None = None) -> str:
    """Run ogrinfo read-only; its HTTP requests are printed by GDAL's debug output (kept in the answer)."""
    if OGRINFO is None:
        pytest.fail("ogrinfo is missing: scripts/install-system.sh installs Debian's gdal-bin")
    command = [OGRINFO, "-ro", "--debug", "on", *args]
    if headers:
        command += ["--config", "GDAL_HTTP_HEADERS", headers]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "GDAL_HTTP_TIMEOUT": "60"})
    print("$", " ".join(command[:1] + [a if " " not in a else repr(a) for a in command[1:]]))
    print(done.stdout)
    assert done.returncode == 0, done.stderr
    return done.stdout + "\n" + done.stderr


def fetched(output: str) -> list[str]:
    return re.findall(r"HTTP: Fetch\((\S+)\)", output)


def feature_ids(output: str) -> list[str]:
    return re.findall(r"^\s+id \(String\) = (\S+)$", output, re.MULTILINE)


def test_ogrinfo_lists_the_public_layers_and_with_a_key_buildings_too(live: str) -> None:
    listed = ogrinfo("-q", f"OAPIF:{live}/ogc")
    assert re.findall(r"^\d+: (\w+) ", listed, re.MULTILINE) == ["communities", "grids"]
    assert "(Multi Polygon)" in listed
    signed = ogrinfo("-q", f"OAPIF:{live}/ogc", headers="Authorization: Bearer key-qgis")
    assert re.findall(r"^\d+: (\w+) ", signed, re.MULTILINE) == ["communities", "grids", "buildings"]
    assert "buildings (title: Buildings (楼栋)) (Point)" in signed


def test_ogrinfo_reads_grids_in_a_bbox_on_the_server(live: str) -> None:
    output = ogrinfo(f"OAPIF:{live}/ogc", "grids", "-spat", *EAST_HALF)
    assert feature_ids(output) == [EAST_ID]
    assert any("bbox=106.512" in url for url in fetched(output))  # the box went to the server
    assert "name (String) = 东网格" in output and "valid_from (Date) = 2024/01/01" in output
    assert "MULTIPOLYGON (((106.52 29.55,106.52 29.56,106.51 29.56,106.51 29.55,106.52 29.55)))" in output
    assert feature_ids(ogrinfo(f"OAPIF:{live}/ogc", "grids", "-spat", *NORTH_STRIP)) == []


def test_ogrinfo_turns_a_date_filter_into_datetime(live: str) -> None:
    """GDAL 3.6 sends a filter on the layer's first date field (valid_from) as `datetime` (a date with a
    trailing T, which gridmap reads as that date): the versions valid then."""
    before = ogrinfo(f"OAPIF:{live}/ogc", "grids", "-q", "-where", "valid_from <= '2023-06-01'")
    assert any("datetime=..%2F2023-06-01T" in url for url in fetched(before))
    assert feature_ids(before) == [PAST_ID]
    span = ogrinfo(f"OAPIF:{live}/ogc", "grids", "-q", "-where",
                   f"valid_from >= '2023-06-01' AND valid_from <= '{FUTURE.isoformat()}'")
    assert sorted(feature_ids(span)) == sorted([PAST_ID, CURRENT_ID, FUTURE_ID, EAST_ID])
    future_north = ogrinfo(f"OAPIF:{live}/ogc", "grids", "-q", "-spat", *NORTH_STRIP,
                           "-where", f"valid_from = '{FUTURE.isoformat()}'")
    assert feature_ids(future_north) == [FUTURE_ID]


def test_ogrinfo_sends_property_filters_and_follows_next_links(live: str) -> None:
    output = ogrinfo(f"OAPIF:{live}/ogc", "grids", "-q", "-where", f"code = '{EAST}'")
    assert any(f"code={EAST}" in url for url in fetched(output))
    assert feature_ids(output) == [EAST_ID]
    paged = ogrinfo("-oo", "PAGE_SIZE=1", f"OAPIF:{live}/ogc", "buildings", "-q",
                    headers="X-API-Key: key-qgis")
    assert re.findall(r"^\s+code \(String\) = (\S+)$", paged, re.MULTILINE) == [
        "B-CORNER", "B-EAST", "B-EDGE", "B-OUT", "B-WEST"]
    assert sum("/ogc/collections/buildings/items?" in url and "offset=" in url for url in fetched(paged)) == 4


def test_owslib_lists_the_collections_and_reads_grids_by_bbox_and_datetime(
        live: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # OWSLib adds a client's headers to its module-wide defaults: keep the key out of other clients.
    monkeypatch.setattr(owslib_ogcapi, "REQUEST_HEADERS", dict(owslib_ogcapi.REQUEST_HEADERS))
    api = Features(f"{live}/ogc")
    assert api.conformance()["conformsTo"][0].endswith("/conf/core")
    assert api.api()["openapi"].startswith("3.0")
    assert api.feature_collections() == ["communities", "grids"]
    bbox = [float(v) for v in EAST_HALF]
    east = api.collection_items("grids", bbox=bbox)
    print("owslib grids bbox", bbox, "→", [f["id"] for f in east["features"]], east["numberMatched"])
    assert [f["id"] for f in east["features"]] == [EAST_ID] and east["numberMatched"] == 1
    past = api.collection_items("grids", bbox=[106.501, 29.551, 106.502, 29.552], datetime_="2023-06-01")
    print("owslib grids datetime=2023-06-01 →", [f["id"] for f in past["features"]])
    assert [f["id"] for f in past["features"]] == [PAST_ID]
    future = api.collection_items("grids", bbox=[float(v) for v in NORTH_STRIP],
                                  datetime_=f"{FUTURE.isoformat()}T12:00:00+08:00")
    assert [f["id"] for f in future["features"]] == [FUTURE_ID]
    interval = api.collection_items("grids", datetime_="2023-06-01/2024-06-01", code=WEST)
    assert [f["id"] for f in interval["features"]] == [PAST_ID, CURRENT_ID]
    with pytest.raises(RuntimeError, match="Unauthenticated"):
        api.collection_items("buildings")
    signed = Features(f"{live}/ogc", headers={"Authorization": "Bearer key-qgis"})
    assert signed.feature_collections() == ["communities", "grids", "buildings"]
    assert signed.collection_items("buildings", grid_code=EAST)["numberMatched"] == 1
    assert signed.collection_item("grids", PAST_ID)["properties"]["valid_to"] == "2024-01-01"
