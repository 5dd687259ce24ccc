"""The basemap a district provides: find it, check it, describe it, and read its tiles.

Three cases, decided once at start-up (`configured(settings)`):

- a local archive — `GRIDMAP_BASEMAP=/path/to/file.pmtiles|.mbtiles`, or the one archive found in
  `<data_dir>/basemap/` — of raster (png, jpg, webp) or vector (Mapbox vector tiles) tiles in the Web
  Mercator tiling; gridmap serves its tiles itself (`api/routers/basemap.py`);
- a tile service on the government network (`GRIDMAP_BASEMAP_URL`, an XYZ template with `{z}/{x}/{y}` or a
  WMTS GetTile template with `{TileMatrix}/{TileRow}/{TileCol}` on a Web Mercator matrix set such as
  Tianditu's `w`), with its coordinate system declared in `GRIDMAP_BASEMAP_CRS`; the browser loads its
  tiles from there;
- neither: None, and the pages draw the grids alone.

Coordinate systems. Grids are stored in WGS84. WGS84 and CGCS2000 agree to centimetres (`gis.coords`), so a
basemap in either is drawn as it is. A GCJ-02 (or BD-09) basemap is refused at start-up with a message that
says why: its streets are shifted by hundreds of metres by a non-linear formula, a shifted raster tile
cannot be un-shifted, and shifting every layer of every page (grids, buildings, cases, vector tiles,
the phone's position) on the client instead would put a second coordinate system into each of them.

Anything wrong (a missing file, two archives to choose from, a tile compression browsers cannot read, an
undeclared coordinate system) is a `BasemapError` naming the setting and the fix, raised while the app is
built, so a misconfigured basemap stops the start rather than leaving blank maps.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

from pmtiles.reader import MmapSource
from pmtiles.tile import (
    Compression,
    MagicNumberNotFound,
    SpecVersionUnsupported,
    TileType,
    deserialize_directory,
    deserialize_header,
    find_tile,
    zxy_to_tileid,
)

from gis import tilegrid
from gis.coords import coordinate_system
from gis.errors import CoordinateSystemError, GridmapError, InvalidInput
from gis.settings import Settings

Kind = Literal["raster", "vector"]
TileFormat = Literal["png", "jpg", "webp", "pbf"]

BASEMAP_FOLDER = "basemap"  # under Settings.data_dir
ARCHIVE_SUFFIXES = (".pmtiles", ".mbtiles")
MAX_ZOOM = 24  # deepest zoom a tile address may ask for
DRAWN_AS_IS = ("wgs84", "cgcs2000")  # agree with the grids' WGS84 to centimetres
CONTENT_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "pbf": "application/vnd.mapbox-vector-tile",
}
_FORMAT_ALIASES = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "webp": "webp", "pbf": "pbf", "mvt": "pbf"}
_PMTILES_TYPES = {TileType.PNG: "png", TileType.JPEG: "jpg", TileType.WEBP: "webp", TileType.MVT: "pbf"}
_MAGIC: tuple[tuple[bytes, TileFormat], ...] = (
    (b"\x89PNG", "png"), (b"\xff\xd8\xff", "jpg"), (b"RIFF", "webp"), (b"\x1f\x8b", "pbf"), (b"\x1a", "pbf"),
)
_URL_RASTER_DEFAULT_MAX_ZOOM = 18
_WMTS_NAMES = {"{TileMatrix}": "{z}", "{TileRow}": "{y}", "{TileCol}": "{x}"}
GZIP_MAGIC = b"\x1f\x8b"


class BasemapError(GridmapError):
    """The configured basemap cannot be served; the message names the setting and what to do."""


class TileArchive(Protocol):
    """Tiles of one archive by z/x/y (XYZ rows, y = 0 at the north)."""

    def tile(self, z: int, x: int, y: int) -> bytes | None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Basemap:
    """What the pages draw beneath the grids. `archive` is None for a tile service (`source` "xyz"/"wmts")."""

    source: Literal["pmtiles", "mbtiles", "xyz", "wmts"]
    kind: Kind
    format: TileFormat
    min_zoom: int
    max_zoom: int
    bounds: tuple[float, float, float, float] | None  # west, south, east, north (WGS84)
    attribution: str
    crs: str
    name: str
    tiles: str  # the URL template the pages use ({z}/{x}/{y})
    layers: tuple[str, ...] = ()  # a vector archive's layer names, for styling
    archive: TileArchive | None = field(default=None, compare=False, repr=False)

    def describe(self) -> dict[str, Any]:
        """The JSON the pages read from `GET /api/basemap`."""
        return {
            "source": self.source, "kind": self.kind, "format": self.format, "tiles": self.tiles,
            "min_zoom": self.min_zoom, "max_zoom": self.max_zoom,
            "bounds": list(self.bounds) if self.bounds else None, "attribution": self.attribution,
            "crs": self.crs, "name": self.name, "layers": list(self.layers),
        }


# -- public -------------------------------------------------------------------------------------------


def configured(settings: Settings) -> Basemap | None:
    """The basemap the settings name (or the one archive in `<data_dir>/basemap/`), checked; None if none."""
    crs = _drawable_crs(settings.basemap_crs, required=bool(settings.basemap_url))
    if settings.basemap and settings.basemap_url:
        raise BasemapError("both GRIDMAP_BASEMAP (an archive) and GRIDMAP_BASEMAP_URL (a service) are set: "
                           "keep one")
    if settings.basemap_url:
        return from_url(settings.basemap_url, crs=crs, attribution=settings.basemap_attribution or "")
    path = Path(settings.basemap) if settings.basemap else _discover(Path(settings.data_dir) / BASEMAP_FOLDER)
    if path is None:
        return None
    basemap = open_archive(path)
    return replace(basemap, crs=crs, attribution=settings.basemap_attribution or basemap.attribution)


def open_archive(path: Path) -> Basemap:
    """A PMTiles or MBTiles file, described from its header or metadata, with its tiles open for reading."""
    if not path.is_file():
        raise BasemapError(f"basemap archive {str(path)!r} does not exist (GRIDMAP_BASEMAP or "
                           f"<data_dir>/{BASEMAP_FOLDER}/)")
    suffix = path.suffix.lower()
    if suffix == ".pmtiles":
        return _pmtiles(path)
    if suffix == ".mbtiles":
        return _mbtiles(path)
    raise BasemapError(f"basemap archive {path.name!r}: unknown kind; allowed: {', '.join(ARCHIVE_SUFFIXES)}")


def from_url(template: str, *, crs: str, attribution: str = "") -> Basemap:
    """A tile service: an XYZ template, or a WMTS GetTile template on a Web Mercator matrix set."""
    source: Literal["xyz", "wmts"] = "wmts" if "{TileMatrix}" in template else "xyz"
    tiles = template
    for wmts, xyz in _WMTS_NAMES.items():
        tiles = tiles.replace(wmts, xyz)
    missing = [name for name in ("{z}", "{x}", "{y}") if name not in tiles]
    if missing or not tiles.startswith(("http://", "https://", "/")):
        raise BasemapError(
            f"GRIDMAP_BASEMAP_URL {template!r} is not a tile template: it needs {{z}}, {{x}} and {{y}} (XYZ) or "
            "{TileMatrix}, {TileRow} and {TileCol} (WMTS GetTile on a Web Mercator matrix set)")
    path = tiles.split("?", 1)[0].lower()
    fmt: TileFormat = "pbf" if path.endswith((".pbf", ".mvt")) else "jpg" if path.endswith((".jpg", ".jpeg")) \
        else "webp" if path.endswith(".webp") else "png"
    return Basemap(source=source, kind="vector" if fmt == "pbf" else "raster", format=fmt, min_zoom=0,
                   max_zoom=_URL_RASTER_DEFAULT_MAX_ZOOM, bounds=None, attribution=attribution, crs=crs,
                   name=template.split("?", 1)[0], tiles=tiles)


def tile_format(extension: str) -> TileFormat:
    """A tile address's extension ("png", "jpeg", "mvt"…) → the format it names; InvalidInput otherwise."""
    fmt = _FORMAT_ALIASES.get(extension.lower())
    if fmt is None:
        raise InvalidInput(f"tile extension {extension!r} is unknown; allowed: {', '.join(_FORMAT_ALIASES)}",
                           details={"ext": extension, "allowed": list(_FORMAT_ALIASES)})
    return fmt  # type: ignore[return-value]


def check_tile_address(z: int, x: int, y: int) -> None:
    """InvalidInput naming the range for a z, x or y that is no basemap tile."""
    tilegrid.check_tile_address(z, x, y, MAX_ZOOM)


def is_gzipped(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC


# -- choosing and checking ----------------------------------------------------------------------------


def _drawable_crs(declared: str | None, *, required: bool) -> str:
    """The declared coordinate system if the grids can be drawn on it as they are; BasemapError otherwise."""
    if not declared:
        if required:
            raise BasemapError("GRIDMAP_BASEMAP_URL is set but GRIDMAP_BASEMAP_CRS is not: declare the service's "
                               f"coordinate system ({', '.join(DRAWN_AS_IS)}; gcj02 and bd09 are refused)")
        return "wgs84"
    try:
        crs = coordinate_system(declared)
    except CoordinateSystemError as error:
        raise BasemapError(f"GRIDMAP_BASEMAP_CRS: {error}") from error
    if crs not in DRAWN_AS_IS:
        raise BasemapError(
            f"GRIDMAP_BASEMAP_CRS={declared}: gridmap refuses a {crs.upper()} basemap. Its streets are shifted "
            "from true (WGS84) positions by 100-700 m with a non-linear formula, and the grids are stored in "
            "WGS84, so every grid would sit on the wrong streets; shifted tiles cannot be shifted back. Use a "
            "WGS84 or CGCS2000 basemap (Tianditu is CGCS2000), or unset the basemap to draw the grids alone.",
            details={"crs": crs, "allowed": list(DRAWN_AS_IS)})
    return crs


def _discover(folder: Path) -> Path | None:
    """The one archive in `folder`; None if the folder or the archive is absent; two or more: BasemapError."""
    if not folder.is_dir():
        return None
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in ARCHIVE_SUFFIXES)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise BasemapError(f"{folder} holds several basemap archives ({names}): keep one, or name it in "
                           "GRIDMAP_BASEMAP")
    return found[0] if found else None


def _stamp(path: Path) -> str:
    """A short version of the archive (size and modification time) for the tile URLs, so caches can keep
    tiles for long and a replaced archive is fetched anew."""
    stat = path.stat()
    return hashlib.sha256(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]


def _template(fmt: TileFormat, path: Path) -> str:
    return f"/basemap/{{z}}/{{x}}/{{y}}.{fmt}?v={_stamp(path)}"


def _kind(fmt: TileFormat) -> Kind:
    return "vector" if fmt == "pbf" else "raster"


def _sniff(data: bytes | None) -> TileFormat | None:
    if not data:
        return None
    return next((fmt for magic, fmt in _MAGIC if data.startswith(magic)), None)


# -- PMTiles ------------------------------------------------------------------------------------------


class _PMTilesArchive:
    """Tiles of a PMTiles v3 file: the header read once, directories cached, the file memory-mapped."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")
        self._get = MmapSource(self._file)
        self.header = deserialize_header(self._get(0, 127))
        self._directory = lru_cache(maxsize=256)(self._read_directory)

    def _read_directory(self, offset: int, length: int) -> list[Any]:
        return deserialize_directory(self._get(offset, length))

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        tile_id = zxy_to_tileid(z, x, y)
        offset, length = self.header["root_offset"], self.header["root_length"]
        for _depth in range(4):
            entry = find_tile(self._directory(offset, length), tile_id)
            if entry is None:
                return None
            if entry.run_length > 0:
                return bytes(self._get(self.header["tile_data_offset"] + entry.offset, entry.length))
            offset, length = self.header["leaf_directory_offset"] + entry.offset, entry.length
        return None

    def metadata(self) -> dict[str, Any]:
        raw = self._get(self.header["metadata_offset"], self.header["metadata_length"])
        if self.header["internal_compression"] == Compression.GZIP:
            raw = gzip.decompress(raw)
        return _json_object(raw)

    def close(self) -> None:
        self._file.close()


def _pmtiles(path: Path) -> Basemap:
    try:
        archive = _PMTilesArchive(path)
    except (MagicNumberNotFound, SpecVersionUnsupported, ValueError) as error:
        raise BasemapError(f"basemap archive {path.name!r} is not a PMTiles v3 file ({type(error).__name__})") \
            from error
    header = archive.header
    fmt = _PMTILES_TYPES.get(header["tile_type"])
    if fmt is None:
        archive.close()
        raise BasemapError(f"basemap archive {path.name!r} holds {header['tile_type'].name} tiles; allowed: "
                           "PNG, JPEG, WEBP, MVT")
    if header["tile_compression"] not in (Compression.NONE, Compression.GZIP, Compression.UNKNOWN):
        archive.close()
        raise BasemapError(f"basemap archive {path.name!r}: tiles compressed with "
                           f"{header['tile_compression'].name} are not served; re-pack it with gzip "
                           "(`pmtiles convert` or tippecanoe's defaults)")
    metadata = archive.metadata()
    bounds = tuple(header[k] / 1e7 for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7"))
    return Basemap(source="pmtiles", kind=_kind(fmt), format=fmt, min_zoom=header["min_zoom"],
                   max_zoom=header["max_zoom"], bounds=_plausible(bounds),  # type: ignore[arg-type]
                   attribution=str(metadata.get("attribution") or ""), crs="wgs84",
                   name=str(metadata.get("name") or path.stem), tiles=_template(fmt, path),
                   layers=_layer_names(metadata), archive=archive)


# -- MBTiles ------------------------------------------------------------------------------------------


class _MBTilesArchive:
    """Tiles of an MBTiles (SQLite) file, opened read-only, one connection per thread. MBTiles rows count
    from the south (TMS): row = 2^z - 1 - y."""

    def __init__(self, path: Path) -> None:
        self._uri = f"{path.resolve().as_uri()}?mode=ro"
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        row = self.connection().execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (z, x, 2**z - 1 - y)).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def metadata(self) -> dict[str, str]:
        return {str(name): str(value) for name, value in
                self.connection().execute("SELECT name, value FROM metadata").fetchall()}

    def zooms(self) -> tuple[int | None, int | None]:
        low, high = self.connection().execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
        return low, high

    def any_tile(self) -> bytes | None:
        row = self.connection().execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
        return bytes(row[0]) if row else None

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()


def _mbtiles(path: Path) -> Basemap:
    archive = _MBTilesArchive(path)
    try:
        metadata = archive.metadata()
        low, high = archive.zooms()
        sample = archive.any_tile()
    except sqlite3.DatabaseError as error:
        archive.close()
        raise BasemapError(f"basemap archive {path.name!r} is not an MBTiles file: {error}") from error
    declared = metadata.get("format", "").strip().lower()
    fmt = _FORMAT_ALIASES.get(declared) or _sniff(sample)
    if fmt is None:
        archive.close()
        raise BasemapError(f"basemap archive {path.name!r}: tile format {declared or 'unknown'!r}; allowed: "
                           "png, jpg, webp, pbf")
    return Basemap(
        source="mbtiles", kind=_kind(fmt), format=fmt,  # type: ignore[arg-type]
        min_zoom=_int(metadata.get("minzoom"), low, 0), max_zoom=_int(metadata.get("maxzoom"), high, 0),
        bounds=_bounds(metadata.get("bounds")), attribution=metadata.get("attribution", ""), crs="wgs84",
        name=metadata.get("name") or path.stem, tiles=_template(fmt, path),  # type: ignore[arg-type]
        layers=_layer_names(_json_object(metadata.get("json", "{}").encode())), archive=archive)


# -- small readers ------------------------------------------------------------------------------------


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _layer_names(metadata: dict[str, Any]) -> tuple[str, ...]:
    layers = metadata.get("vector_layers")
    if not isinstance(layers, list):
        return ()
    return tuple(str(layer["id"]) for layer in layers if isinstance(layer, dict) and "id" in layer)


def _int(value: str | None, fallback: int | None, default: int) -> int:
    try:
        return int(float(value)) if value not in (None, "") else (fallback if fallback is not None else default)
    except ValueError:
        return fallback if fallback is not None else default


def _bounds(value: str | None) -> tuple[float, float, float, float] | None:
    if not value:
        return None
    try:
        west, south, east, north = (float(part) for part in value.split(","))
    except ValueError:
        return None
    return _plausible((west, south, east, north))


def _plausible(bounds: tuple[float, ...]) -> tuple[float, float, float, float] | None:
    """Bounds in longitude/latitude order that make a box on the globe; None (the whole world) otherwise."""
    west, south, east, north = bounds
    if -180 <= west < east <= 180 and -90 <= south < north <= 90:
        return (west, south, east, north)
    return None
