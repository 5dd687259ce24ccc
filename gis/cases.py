"""What a case needs before it is stored: input shape, position conversion, photo rules. No database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from gis.coords import check_in_china, coordinate_system, to_wgs84
from gis.errors import InvalidInput, PayloadTooLarge
from gis.workflow import Source, parse_enum

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 6
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
_MAGIC = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",), "image/webp": (b"RIFF",)}


@dataclass(frozen=True)
class Photo:
    content_type: str
    data: bytes


@dataclass(frozen=True)
class CaseInput:
    """A new case as reported, in the reporter's own coordinate system."""

    source: str
    category_code: str
    lon: float | None
    lat: float | None
    crs: str = "wgs84"
    description: str = ""
    address: str = ""
    reporter_name: str | None = None
    reporter_contact: str | None = None
    idempotency_key: str | None = None
    reported_at: datetime | None = None
    photos: tuple[Photo, ...] = field(default_factory=tuple)
    extras: Mapping[str, str] = field(default_factory=dict)  # posted fields kept as they are (address_id …)
    work_day_id: int | None = None  # the session it was raised at (gis/store/rosters.py check_session_tag)
    session_date: date | None = None


@dataclass(frozen=True)
class Position:
    """A position in WGS84 plus what the reporter actually gave."""

    lon: float
    lat: float
    given_crs: str
    given_lon: float
    given_lat: float


def checked_source(value: str) -> Source:
    return parse_enum(Source, value, "source")


def position_of(data: CaseInput) -> Position:
    """Convert the given position to WGS84; missing or out-of-China positions are refused by name."""
    if data.lon is None or data.lat is None:
        raise InvalidInput("position is required: give lon and lat (and crs if not WGS84)")
    system = coordinate_system(data.crs)
    given_lon, given_lat = check_in_china(data.lon, data.lat)
    lon, lat = to_wgs84(given_lon, given_lat, system)
    return Position(lon, lat, system, given_lon, given_lat)


def check_photos(photos: tuple[Photo, ...]) -> None:
    """At most MAX_PHOTOS images of an allowed type, each at most MAX_PHOTO_BYTES, whose bytes match."""
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(f"{len(photos)} photos given; at most {MAX_PHOTOS} per case")
    for number, photo in enumerate(photos, start=1):
        check_photo(photo, number)


def check_photo(photo: Photo, number: int = 1) -> None:
    if photo.content_type not in PHOTO_TYPES:
        raise InvalidInput(
            f"photo {number}: type {photo.content_type!r} not allowed; allowed: {', '.join(PHOTO_TYPES)}"
        )
    if len(photo.data) > MAX_PHOTO_BYTES:
        raise PayloadTooLarge(
            f"photo {number} is {len(photo.data) / 1048576:.1f} MiB; the limit is {MAX_PHOTO_BYTES // 1048576} MiB"
        )
    if not photo.data.startswith(_MAGIC[photo.content_type]):
        raise InvalidInput(f"photo {number}: the bytes are not a {photo.content_type} image")
