"""Small basemap archives that tests make themselves: a made-up town of streets and two rivers, drawn as
raster PNG tiles (Pillow) or as gzipped Mapbox vector tiles (mapbox-vector-tile), packed as PMTiles (the
`pmtiles` package's writer) or MBTiles (sqlite3, rows counted from the south as MBTiles wants).

The same features are drawn at every zoom from their longitude/latitude, so a tile that lands in the wrong
place (a TMS row not flipped, x and y swapped) shows as streets that do not join across tile edges.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import sqlite3
import warnings
from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
from PIL import Image, ImageDraw
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer
from shapely.geometry import LineString, Polygon, box, mapping

# Around the sample district (Yuzhong, Chongqing), a little wider.
BOUNDS = (106.42, 29.50, 106.62, 29.61)
WATER = [  # two rivers, as bands of longitude/latitude
    [(106.40, 29.50), (106.64, 29.50), (106.64, 29.535), (106.56, 29.542), (106.48, 29.538), (106.40, 29.53)],
    [(106.40, 29.585), (106.50, 29.576), (106.58, 29.580), (106.64, 29.588), (106.64, 29.61), (106.40, 29.61)],
]
STREET_STEP = 0.006  # degrees between the made-up streets
MAIN_ROAD = [(106.43, 29.545), (106.50, 29.556), (106.56, 29.560), (106.60, 29.566)]
LAND = (242, 239, 233)
WATER_RGB = (170, 211, 223)
STREET_RGB = (255, 255, 255)
CASING_RGB = (190, 185, 175)
MAIN_RGB = (252, 214, 164)
TILE = 256


def mercator(lon: float, lat: float) -> tuple[float, float]:
    """Web Mercator x, y in units of the world (0..1, y down from the north)."""
    x = (lon + 180.0) / 360.0
    s = math.sin(math.radians(lat))
    y = 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)
    return x, y


def tiles_covering(bounds: tuple[float, float, float, float], z: int) -> Iterator[tuple[int, int]]:
    west, south, east, north = bounds
    x0, y0 = mercator(west, north)
    x1, y1 = mercator(east, south)
    n = 2**z
    for x in range(int(x0 * n), int(x1 * n) + 1):
        for y in range(int(y0 * n), int(y1 * n) + 1):
            yield x, y


def streets() -> list[list[tuple[float, float]]]:
    west, south, east, north = BOUNDS
    lines = []
    lon = west
    while lon <= east:
        lines.append([(lon, south), (lon, north)])
        lon += STREET_STEP
    lat = south
    while lat <= north:
        lines.append([(west, lat), (east, lat)])
        lat += STREET_STEP
    return lines


# -- raster -------------------------------------------------------------------------------------------


def png_tile(z: int, x: int, y: int) -> bytes:
    """The town drawn on one 256-pixel tile."""
    image = Image.new("RGB", (TILE, TILE), LAND)
    draw = ImageDraw.Draw(image)

    def pixels(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        n = 2**z
        return [((mx * n - x) * TILE, (my * n - y) * TILE) for mx, my in (mercator(*p) for p in points)]

    width = max(1, z - 11)
    for line in streets():
        draw.line(pixels(line), fill=CASING_RGB, width=width + 2)
    for line in streets():
        draw.line(pixels(line), fill=STREET_RGB, width=width)
    draw.line(pixels(MAIN_ROAD), fill=MAIN_RGB, width=width + 3)
    for water in WATER:
        draw.polygon(pixels(water), fill=WATER_RGB)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# -- vector -------------------------------------------------------------------------------------------


def mvt_tile(z: int, x: int, y: int) -> bytes:
    """The town as a gzipped vector tile: layers `water` (polygons), `transportation` (lines), `place`
    (a point). Coordinates in world units with y up (mapbox-vector-tile's default), clipped a little
    beyond the tile."""
    n = 2**z
    tile = box(x / n, 1 - (y + 1) / n, (x + 1) / n, 1 - y / n)
    margin = tile.buffer(1 / n / 16, join_style="mitre")

    def world(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(mx, 1 - my) for mx, my in (mercator(*p) for p in points)]

    def features(shapes: list[Polygon | LineString], classes: list[str]) -> list[dict[str, object]]:
        clipped = [(shape.intersection(margin), cls) for shape, cls in zip(shapes, classes, strict=True)]
        return [{"geometry": mapping(g), "properties": {"class": cls}} for g, cls in clipped if not g.is_empty]

    roads = [LineString(world(line)) for line in streets()] + [LineString(world(MAIN_ROAD))]
    layers = [
        {"name": "water", "features": features([Polygon(world(p)) for p in WATER], ["river"] * len(WATER))},
        {"name": "transportation", "features": features(roads, ["minor"] * (len(roads) - 1) + ["primary"])},
        {"name": "place", "features": [{"geometry": {"type": "Point", "coordinates": world([(106.55, 29.56)])[0]},
                                        "properties": {"name": "town"}}]},
    ]
    with warnings.catch_warnings():  # mapbox-vector-tile 2.2 calls shapely.ops.transform, deprecated in 2.1
        warnings.filterwarnings("ignore", "The 'shapely.ops.transform", DeprecationWarning)
        body = mapbox_vector_tile.encode([layer for layer in layers if layer["features"]],
                                         default_options={"quantize_bounds": tile.bounds, "extents": 4096})
    return gzip.compress(body, mtime=0)


# -- archives -----------------------------------------------------------------------------------------


def make_tiles(kind: str, zooms: range) -> dict[tuple[int, int, int], bytes]:
    draw = png_tile if kind == "raster" else mvt_tile
    return {(z, x, y): draw(z, x, y) for z in zooms for x, y in tiles_covering(BOUNDS, z)}


def write_pmtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], *, kind: str, name: str = "test town",
                  attribution: str = "test town © gridmap tests") -> Path:
    vector = kind == "vector"
    with path.open("wb") as f:
        writer = Writer(f)
        for (z, x, y), data in sorted(tiles.items(), key=lambda item: zxy_to_tileid(*item[0])):
            writer.write_tile(zxy_to_tileid(z, x, y), data)
        west, south, east, north = BOUNDS
        header = {
            "tile_type": TileType.MVT if vector else TileType.PNG,
            "tile_compression": Compression.GZIP if vector else Compression.NONE,
            "min_lon_e7": int(west * 1e7), "min_lat_e7": int(south * 1e7),
            "max_lon_e7": int(east * 1e7), "max_lat_e7": int(north * 1e7),
            "center_zoom": min(z for z, _, _ in tiles), "center_lon_e7": int((west + east) / 2 * 1e7),
            "center_lat_e7": int((south + north) / 2 * 1e7),
        }
        metadata: dict[str, object] = {"name": name, "attribution": attribution}
        if vector:
            metadata["vector_layers"] = [{"id": layer, "fields": {}} for layer in ("water", "transportation", "place")]
        writer.finalize(header, metadata)
    return path


def write_mbtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], *, fmt: str, name: str = "test town",
                  attribution: str = "test town © gridmap tests", bounds: bool = True) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        connection.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
                           "tile_data BLOB)")
        rows = [("name", name), ("format", fmt), ("attribution", attribution),
                ("minzoom", str(min(z for z, _, _ in tiles))), ("maxzoom", str(max(z for z, _, _ in tiles)))]
        if bounds:
            rows.append(("bounds", ",".join(str(v) for v in BOUNDS)))
        if fmt == "pbf":
            rows.append(("json", json.dumps({"vector_layers": [{"id": "water"}, {"id": "transportation"}]})))
        connection.executemany("INSERT INTO metadata VALUES (?, ?)", rows)
        connection.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                               [(z, x, 2**z - 1 - y, data) for (z, x, y), data in tiles.items()])
    connection.close()
    return path
