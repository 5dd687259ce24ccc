"""The basemap rules with no server: which archive or service is chosen, what is refused and why, and that
both archive readers give back the tiles written at each XYZ address (MBTiles' south-counted rows flipped)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pmtiles.tile import Compression

from gis.basemap import BasemapError, check_tile_address, configured, from_url, open_archive, tile_format
from gis.errors import InvalidInput
from gis.settings import Settings
from tests import basemap_archives as town

# Distinct bytes per address: a reader that flips rows wrongly or swaps x and y returns another tile's bytes.
TILES = {(z, x, y): f"tile {z}/{x}/{y}".encode() for z in (0, 1, 2) for x in range(2**z) for y in range(2**z)}
PNG_TILES = {k: b"\x89PNG" + v for k, v in TILES.items()}


def _settings(tmp_path: Path, **changes: object) -> Settings:
    return Settings(data_dir=tmp_path, **changes)  # type: ignore[arg-type]


def test_with_nothing_configured_there_is_no_basemap(tmp_path: Path) -> None:
    assert configured(_settings(tmp_path)) is None
    (tmp_path / "basemap").mkdir()
    (tmp_path / "basemap" / "README.txt").write_text("not an archive")
    assert configured(_settings(tmp_path)) is None


def test_the_one_archive_in_the_data_folder_is_found_and_described(tmp_path: Path) -> None:
    (tmp_path / "basemap").mkdir()
    town.write_pmtiles(tmp_path / "basemap" / "district.pmtiles", town.make_tiles("raster", range(12, 13)),
                       kind="raster")
    basemap = configured(_settings(tmp_path))
    assert basemap is not None
    described = basemap.describe()
    assert described["tiles"].startswith("/basemap/{z}/{x}/{y}.png?v=")
    assert {k: described[k] for k in ("source", "kind", "format", "min_zoom", "max_zoom", "bounds", "crs",
                                      "attribution", "name")} == {
        "source": "pmtiles", "kind": "raster", "format": "png", "min_zoom": 12, "max_zoom": 12,
        "bounds": list(town.BOUNDS), "crs": "wgs84", "attribution": "test town © gridmap tests",
        "name": "test town"}


def test_two_archives_in_the_data_folder_are_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "basemap").mkdir()
    town.write_mbtiles(tmp_path / "basemap" / "a.mbtiles", PNG_TILES, fmt="png")
    town.write_mbtiles(tmp_path / "basemap" / "b.mbtiles", PNG_TILES, fmt="png")
    with pytest.raises(BasemapError, match=r"a\.mbtiles, b\.mbtiles.*GRIDMAP_BASEMAP"):
        configured(_settings(tmp_path))
    chosen = configured(_settings(tmp_path, basemap=tmp_path / "basemap" / "b.mbtiles"))
    assert chosen is not None and chosen.source == "mbtiles"


def test_a_named_archive_that_is_missing_or_not_an_archive_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BasemapError, match="does not exist"):
        configured(_settings(tmp_path, basemap=tmp_path / "nowhere.pmtiles"))
    (tmp_path / "bad.pmtiles").write_bytes(b"not a pmtiles file at all" * 10)
    with pytest.raises(BasemapError, match="not a PMTiles v3 file"):
        open_archive(tmp_path / "bad.pmtiles")
    (tmp_path / "bad.mbtiles").write_bytes(b"not sqlite" * 200)
    with pytest.raises(BasemapError, match="not an MBTiles file"):
        open_archive(tmp_path / "bad.mbtiles")
    (tmp_path / "map.tif").write_bytes(b"II*")
    with pytest.raises(BasemapError, match="allowed: .pmtiles, .mbtiles"):
        open_archive(tmp_path / "map.tif")


@pytest.mark.parametrize("suffix", ["pmtiles", "mbtiles"])
def test_each_reader_returns_the_tile_written_at_each_xyz_address(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"t.{suffix}"
    if suffix == "pmtiles":
        town.write_pmtiles(path, PNG_TILES, kind="raster")
    else:
        town.write_mbtiles(path, PNG_TILES, fmt="png")
    basemap = open_archive(path)
    assert basemap.archive is not None
    assert {address: basemap.archive.tile(*address) for address in PNG_TILES} == PNG_TILES
    assert basemap.archive.tile(3, 0, 0) is None
    assert (basemap.min_zoom, basemap.max_zoom) == (0, 2)


def test_mbtiles_rows_count_from_the_south(tmp_path: Path) -> None:
    """At zoom 1, XYZ row 0 (north) is MBTiles row 1: read the file with sqlite3 as an independent check."""
    import sqlite3

    path = town.write_mbtiles(tmp_path / "t.mbtiles", PNG_TILES, fmt="png")
    with sqlite3.connect(path) as connection:
        stored = connection.execute("SELECT tile_data FROM tiles WHERE zoom_level = 1 AND tile_column = 0 "
                                    "AND tile_row = 1").fetchone()[0]
    connection.close()
    assert stored == PNG_TILES[(1, 0, 0)]
    archive = open_archive(path).archive
    assert archive is not None and archive.tile(1, 0, 0) == stored


def test_an_mbtiles_without_format_is_sniffed_and_without_bounds_covers_the_world(tmp_path: Path) -> None:
    import sqlite3

    path = town.write_mbtiles(tmp_path / "t.mbtiles", PNG_TILES, fmt="png", bounds=False)
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM metadata WHERE name IN ('format', 'minzoom', 'maxzoom')")
    connection.close()
    basemap = open_archive(path)
    assert (basemap.format, basemap.kind, basemap.bounds, basemap.min_zoom, basemap.max_zoom) == (
        "png", "raster", None, 0, 2)


def test_a_vector_archive_names_its_layers(tmp_path: Path) -> None:
    tiles = town.make_tiles("vector", range(12, 13))
    basemap = open_archive(town.write_pmtiles(tmp_path / "v.pmtiles", tiles, kind="vector"))
    assert (basemap.kind, basemap.format, basemap.layers) == ("vector", "pbf", ("water", "transportation", "place"))
    assert basemap.tiles.startswith("/basemap/{z}/{x}/{y}.pbf?v=")


def test_tiles_compressed_otherwise_than_gzip_are_refused(tmp_path: Path) -> None:
    path = town.write_pmtiles(tmp_path / "b.pmtiles", town.make_tiles("vector", range(12, 13)), kind="vector")
    data = bytearray(path.read_bytes())
    data[98] = Compression.BROTLI.value  # the header's tile-compression byte (PMTiles v3 spec)
    path.write_bytes(bytes(data))
    with pytest.raises(BasemapError, match="BROTLI.*re-pack it with gzip"):
        open_archive(path)


@pytest.mark.parametrize("crs", ["gcj02", "GCJ-02", "bd09"])
def test_a_shifted_basemap_is_refused_with_the_reason(tmp_path: Path, crs: str) -> None:
    settings = _settings(tmp_path, basemap_url="http://10.1.2.3/tiles/{z}/{x}/{y}.png", basemap_crs=crs)
    with pytest.raises(BasemapError) as raised:
        configured(settings)
    message = str(raised.value)
    assert f"GRIDMAP_BASEMAP_CRS={crs}" in message
    for words in ("refuses", "WGS84", "CGCS2000", "cannot be shifted back"):
        assert words in message
    # An archive declared GCJ-02 is refused the same way.
    town.write_mbtiles(tmp_path / "t.mbtiles", PNG_TILES, fmt="png")
    with pytest.raises(BasemapError, match="refuses"):
        configured(_settings(tmp_path, basemap=tmp_path / "t.mbtiles", basemap_crs=crs))


def test_a_service_needs_its_coordinate_system_declared(tmp_path: Path) -> None:
    url = "http://10.1.2.3/tiles/{z}/{x}/{y}.png"
    with pytest.raises(BasemapError, match="GRIDMAP_BASEMAP_CRS is not"):
        configured(_settings(tmp_path, basemap_url=url))
    with pytest.raises(BasemapError, match="unknown coordinate system"):
        configured(_settings(tmp_path, basemap_url=url, basemap_crs="mars"))
    basemap = configured(_settings(tmp_path, basemap_url=url, basemap_crs="CGCS2000", basemap_attribution="天地图"))
    assert basemap is not None
    assert basemap.describe() == {
        "source": "xyz", "kind": "raster", "format": "png", "tiles": url, "min_zoom": 0, "max_zoom": 18,
        "bounds": None, "attribution": "天地图", "crs": "cgcs2000", "name": "http://10.1.2.3/tiles/{z}/{x}/{y}.png",
        "layers": []}


def test_a_wmts_template_becomes_xyz_and_a_bad_template_is_refused() -> None:
    wmts = ("http://tdt.gov.example/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&LAYER=vec&TILEMATRIXSET=w"
            "&TILEMATRIX={TileMatrix}&TILEROW={TileRow}&TILECOL={TileCol}&FORMAT=tiles")
    basemap = from_url(wmts, crs="cgcs2000")
    assert basemap.source == "wmts"
    assert basemap.tiles.endswith("TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&FORMAT=tiles")
    assert from_url("http://h/{z}/{x}/{y}.pbf", crs="wgs84").kind == "vector"
    with pytest.raises(BasemapError, match="not a tile template"):
        from_url("http://h/tiles/{z}/{x}.png", crs="wgs84")


def test_archive_and_service_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BasemapError, match="keep one"):
        configured(_settings(tmp_path, basemap=tmp_path / "a.pmtiles", basemap_url="http://h/{z}/{x}/{y}.png",
                             basemap_crs="wgs84"))


def test_settings_read_the_basemap_variables(tmp_path: Path) -> None:
    settings = Settings.from_env({"GRIDMAP_BASEMAP": str(tmp_path / "a.pmtiles"), "GRIDMAP_BASEMAP_CRS": "wgs84",
                                  "GRIDMAP_BASEMAP_URL": "http://h/{z}/{x}/{y}.png",
                                  "GRIDMAP_BASEMAP_ATTRIBUTION": "© district"})
    assert (settings.basemap, settings.basemap_crs, settings.basemap_url, settings.basemap_attribution) == (
        tmp_path / "a.pmtiles", "wgs84", "http://h/{z}/{x}/{y}.png", "© district")


def test_tile_addresses_and_extensions() -> None:
    check_tile_address(0, 0, 0)
    check_tile_address(3, 7, 7)
    for z, x, y, name in [(-1, 0, 0, "zoom"), (25, 0, 0, "zoom"), (3, 8, 0, "x 8"), (3, 0, -1, "y -1")]:
        with pytest.raises(InvalidInput, match=name):
            check_tile_address(z, x, y)
    assert [tile_format(e) for e in ("png", "JPEG", "jpg", "webp", "mvt", "pbf")] == [
        "png", "jpg", "jpg", "webp", "pbf", "pbf"]
    with pytest.raises(InvalidInput, match="allowed"):
        tile_format("tif")
