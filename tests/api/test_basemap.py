"""The basemap over HTTP: tiles served from small archives the tests write (raster PNG and gzipped vector
tiles, as PMTiles and MBTiles), with their content type, encoding and cache headers; a missing tile, a bad
address, no basemap at all, a tile service, and a GCJ-02 basemap refused at start-up."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from api.routers.basemap import TILE_CACHE
from gis.basemap import BasemapError
from gis.settings import Settings
from gis.store.database import Database
from tests import basemap_archives as town

ZOOMS = range(12, 14)
INSIDE = (13, *next(town.tiles_covering(town.BOUNDS, 13)))  # a tile the archives hold
OUTSIDE = (13, 0, 0)  # a good address with no tile in the archives


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("basemaps")
    raster = town.make_tiles("raster", ZOOMS)
    vector = town.make_tiles("vector", ZOOMS)
    return {
        "raster.pmtiles": town.write_pmtiles(folder / "raster.pmtiles", raster, kind="raster"),
        "raster.mbtiles": town.write_mbtiles(folder / "raster.mbtiles", raster, fmt="png"),
        "vector.pmtiles": town.write_pmtiles(folder / "vector.pmtiles", vector, kind="vector"),
        "vector.mbtiles": town.write_mbtiles(folder / "vector.mbtiles", vector, fmt="pbf"),
    }


def _client(db: Database, tmp_path: Path, **basemap: object) -> TestClient:
    settings = Settings(database_url=db.engine.url.render_as_string(hide_password=False), data_dir=tmp_path,
                        **basemap)  # type: ignore[arg-type]
    return TestClient(create_app(settings, database=db))


@pytest.fixture
def make_client(db: Database, tmp_path: Path) -> Iterator[object]:
    clients: list[TestClient] = []

    def make(**basemap: object) -> TestClient:
        client = _client(db, tmp_path, **basemap)
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _url(template: str, z: int, x: int, y: int) -> str:
    return template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


@pytest.mark.parametrize("name", ["raster.pmtiles", "raster.mbtiles"])
def test_raster_tiles_are_served_with_their_type_and_cache_headers(make_client, archives, name: str) -> None:  # noqa: ANN001
    client = make_client(basemap=archives[name])
    described = client.get("/api/basemap").json()  # no key: public
    assert (described["kind"], described["format"], described["min_zoom"], described["max_zoom"]) == (
        "raster", "png", 12, 13)
    response = client.get(_url(described["tiles"], *INSIDE))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == TILE_CACHE
    assert "content-encoding" not in response.headers  # a PNG is compressed already
    assert response.content == town.png_tile(*INSIDE)
    assert Image.open(io.BytesIO(response.content)).size == (256, 256)


@pytest.mark.parametrize("name", ["vector.pmtiles", "vector.mbtiles"])
def test_gzipped_vector_tiles_are_sent_as_gzip_or_unpacked_for_a_client_without_it(make_client, archives,  # noqa: ANN001
                                                                                    name: str) -> None:
    client = make_client(basemap=archives[name])
    described = client.get("/api/basemap").json()
    assert (described["kind"], described["format"]) == ("vector", "pbf")
    assert {"water", "transportation"} <= set(described["layers"])
    url = _url(described["tiles"], *INSIDE)
    packed = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert packed.status_code == 200
    assert packed.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["cache-control"] == TILE_CACHE
    expected = gzip.decompress(town.mvt_tile(*INSIDE))
    assert packed.content == expected  # httpx undid the gzip: the archive's tile, byte for byte
    layers = mapbox_vector_tile.decode(packed.content)
    assert {"water", "transportation"} <= set(layers)
    assert layers["transportation"]["features"]
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == expected


@pytest.mark.parametrize("name", ["raster.pmtiles", "vector.mbtiles"])
def test_a_missing_tile_is_no_content_and_a_bad_address_is_refused(make_client, archives, name: str) -> None:  # noqa: ANN001
    client = make_client(basemap=archives[name])
    ext = "png" if name.startswith("raster") else "pbf"
    missing = client.get(f"/basemap/{OUTSIDE[0]}/{OUTSIDE[1]}/{OUTSIDE[2]}.{ext}")
    assert (missing.status_code, missing.content, missing.headers["cache-control"]) == (204, b"", TILE_CACHE)
    z, x, y = INSIDE
    assert client.get(f"/basemap/{z + 4}/{x * 16}/{y * 16}.{ext}").status_code == 204  # beyond its zooms
    for address, word in [(f"{z}/{2**z}/{y}", "tile x"), (f"{z}/{x}/-1", "tile y"), ("25/0/0", "zoom")]:
        refused = client.get(f"/basemap/{address}.{ext}")
        assert refused.status_code == 422 and word in refused.json()["detail"], refused.text
    assert client.get(f"/basemap/{z}/{x}/{y}.tif").status_code == 422
    assert client.get(f"/basemap/{z}/x/{y}.{ext}").status_code == 422
    other = "pbf" if ext == "png" else "png"
    wrong = client.get(f"/basemap/{z}/{x}/{y}.{other}")
    assert wrong.status_code == 404 and f"not .{other}" in wrong.json()["detail"]


def test_with_no_basemap_the_description_is_null_and_there_are_no_tiles(make_client) -> None:  # noqa: ANN001
    client = make_client()
    response = client.get("/api/basemap")
    assert response.status_code == 200 and response.json() is None
    assert client.get("/basemap/0/0/0.png").status_code == 404


def test_a_tile_service_is_described_for_the_browser_and_not_served(make_client) -> None:  # noqa: ANN001
    url = "http://10.0.0.9/DataServer?T=vec_w&x={x}&y={y}&l={z}"
    client = make_client(basemap_url=url, basemap_crs="cgcs2000", basemap_attribution="天地图")
    described = client.get("/api/basemap").json()
    assert (described["source"], described["tiles"], described["crs"], described["attribution"]) == (
        "xyz", url, "cgcs2000", "天地图")
    assert client.get("/basemap/0/0/0.png").status_code == 404


def test_a_gcj02_basemap_stops_the_start_with_the_reason(db: Database, tmp_path: Path, archives) -> None:  # noqa: ANN001
    with pytest.raises(BasemapError, match="GRIDMAP_BASEMAP_CRS=gcj02: gridmap refuses a GCJ02 basemap"):
        _client(db, tmp_path, basemap=archives["raster.pmtiles"], basemap_crs="gcj02")
