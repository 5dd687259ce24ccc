"""OGC API – Features, the pure part: the collections gridmap serves, the conformance classes it declares,
and the parsing of the items' query parameters (`bbox`, `datetime`, `limit`, `offset`, property filters).

Served by `api/routers/features.py` (HTTP) over `gis/store/features.py` (queries). Each parameter error
is an `InvalidParameter` naming the parameter, the value and what was allowed; the router answers it 400
as an OGC exception.

What each collection shows is chosen here, and nothing personal is among it: no team member's name or
phone, no party secretary, no reporter. Communities and grids (outlines, codes, names, validity dates) are
public like `/api/grids`; buildings (addresses, households, residents) need a signed-in caller, like
`/api/buildings` (see the router's docstring for why).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from gis.errors import InvalidInput
from gis.periods import district_today

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
)
"""Exactly the classes implemented: Part 1's core, GeoJSON, HTML and OpenAPI 3.0. Not Part 2 (CRS: every
geometry is CRS84) nor Part 3 (CQL2 filters: only equality on the properties each collection names)."""

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
MAX_OFFSET = 2**63 - 1

COMMON_PARAMETERS = ("f", "bbox", "limit", "offset", "datetime")
"""Query parameters every items request may carry; the collection's property filters come on top."""


class InvalidParameter(InvalidInput):
    """A query parameter an OGC client sent that cannot be used (answered 400, naming the parameter)."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}", details={"parameter": parameter})
        self.parameter = parameter


@dataclass(frozen=True)
class Collection:
    """One feature collection: its words, who may read it, its properties (name → JSON type) and which
    of them may be filtered on by equality (`?code=...`)."""

    id: str
    title: str
    description: str
    public: bool
    properties: dict[str, str]
    filters: tuple[str, ...]
    temporal: bool = False
    geometry: str = "MultiPolygon"

    def parameters(self) -> tuple[str, ...]:
        return COMMON_PARAMETERS + self.filters


COLLECTIONS: dict[str, Collection] = {c.id: c for c in (
    Collection(
        "communities", "Communities (社区)",
        "Community boundaries with their street (街道); public.",
        public=True,
        properties={"code": "string", "name": "string", "street_code": "string", "street_name": "string",
                    "district_code": "string"},
        filters=("code", "street_code"),
    ),
    Collection(
        "grids", "Grids (网格)",
        "Grid outlines, one feature per boundary version with its validity dates (valid_to is exclusive). "
        "Without datetime: the versions current today; with datetime: the versions valid at that moment or "
        "during that interval. Public.",
        public=True,
        properties={"code": "string", "name": "string", "community_code": "string", "community_name": "string",
                    "street_code": "string", "street_name": "string", "valid_from": "string",
                    "valid_to": "string"},
        filters=("code", "community_code", "street_code"),
        temporal=True,
    ),
    Collection(
        "buildings", "Buildings (楼栋)",
        "Building points with address, households, residents, floors and the current grid. Needs a signed-in "
        "caller: an API key header (Authorization: Bearer or X-API-Key) or a session.",
        public=False,
        properties={"code": "string", "address": "string", "households": "integer", "residents": "integer",
                    "floors": "integer", "grid_code": "string", "street_code": "string"},
        filters=("code", "grid_code", "street_code"),
        geometry="Point",
    ),
)}


# -- parameters ---------------------------------------------------------------------------------------


BBox = tuple[float, float, float, float]


def parse_bbox(value: str | None) -> BBox | None:
    """`minLon,minLat,maxLon,maxLat` (or six numbers with heights, which are ignored) in CRS84."""
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise InvalidParameter("bbox", f"{value!r} must be four numbers minLon,minLat,maxLon,maxLat "
                                       "(or six with heights) in CRS84")
    try:
        numbers = [float(p) for p in parts]
    except ValueError as exc:
        raise InvalidParameter("bbox", f"{value!r} must be numbers: minLon,minLat,maxLon,maxLat") from exc
    minx, miny, maxx, maxy = numbers if len(numbers) == 4 else (numbers[0], numbers[1], numbers[3], numbers[4])
    if not all(-180 <= x <= 180 for x in (minx, maxx)) or not all(-90 <= y <= 90 for y in (miny, maxy)):
        raise InvalidParameter("bbox", f"{value!r} is outside CRS84 longitude -180..180 / latitude -90..90")
    if miny > maxy:
        raise InvalidParameter("bbox", f"{value!r}: minLat is above maxLat")
    if minx > maxx:
        raise InvalidParameter("bbox", f"{value!r}: minLon is east of maxLon (boxes across the antimeridian "
                                       "are not served)")
    return (minx, miny, maxx, maxy)


def parse_limit(value: str | None) -> int:
    """The page size: DEFAULT_LIMIT when absent; above MAX_LIMIT it is MAX_LIMIT (the standard: no error)."""
    if value is None:
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError as exc:
        raise InvalidParameter("limit", f"{value!r} is not a whole number (1..{MAX_LIMIT})") from exc
    if limit < 1:
        raise InvalidParameter("limit", f"{value!r} must be at least 1 (maximum {MAX_LIMIT})")
    return min(limit, MAX_LIMIT)


def parse_offset(value: str | None) -> int:
    if value is None:
        return 0
    try:
        offset = int(value)
    except ValueError as exc:
        raise InvalidParameter("offset", f"{value!r} is not a whole number (0 or more)") from exc
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidParameter("offset", f"{value!r} must be between 0 and {MAX_OFFSET}")
    return offset


@dataclass(frozen=True)
class DayRange:
    """The district days a `datetime` parameter covers, both included; None is an open end."""

    first: date | None
    last: date | None

    @property
    def instant(self) -> bool:
        return self.first is not None and self.first == self.last


def _moment(text: str) -> date:
    """One RFC 3339 date or date-time, as the district's day (Asia/Shanghai) it falls on."""
    try:
        if "T" not in text.upper().rstrip("T"):  # GDAL 3.6 sends a date filter as `2024-05-01T`
            return date.fromisoformat(text.rstrip("Tt"))
        moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidParameter("datetime", f"{text!r} is not an RFC 3339 date (2024-05-01) or date-time "
                                           "(2024-05-01T08:00:00Z)") from exc
    if moment.tzinfo is None:
        raise InvalidParameter("datetime", f"{text!r} has no time zone: add Z or an offset such as +08:00")
    return district_today(moment.astimezone(UTC))


def parse_datetime(value: str | None) -> DayRange | None:
    """`2024-05-01`, `2024-05-01T08:00:00Z`, or an interval `a/b`, `../b`, `a/..` (an empty end is open
    too): the district days it covers. None when absent."""
    if value is None:
        return None
    text = value.strip()
    if "/" not in text:
        day = _moment(text)
        return DayRange(day, day)
    parts = text.split("/")
    if len(parts) != 2:
        raise InvalidParameter("datetime", f"{value!r}: an interval is two moments separated by one '/'")
    first, last = (None if p in ("", "..") else _moment(p) for p in parts)
    if first is None and last is None:
        raise InvalidParameter("datetime", f"{value!r}: at least one end of the interval must be a moment")
    if first is not None and last is not None and first > last:
        raise InvalidParameter("datetime", f"{value!r}: the interval ends before it starts")
    return DayRange(first, last)


def parse_filters(collection: Collection, query: list[tuple[str, str]]) -> dict[str, str]:
    """The property filters of `query` (name → value); a parameter the collection does not know, or one
    given twice, is refused by name with the list of those it knows."""
    allowed = collection.parameters()
    seen: set[str] = set()
    filters: dict[str, str] = {}
    for name, value in query:
        if name not in allowed:
            raise InvalidParameter(name, f"unknown parameter for collection {collection.id!r}; known: "
                                         + ", ".join(allowed))
        if name in seen:
            raise InvalidParameter(name, "given more than once")
        seen.add(name)
        if name in collection.filters:
            filters[name] = value
    return filters


def check_parameters(query: list[tuple[str, str]], allowed: tuple[str, ...] = ("f",)) -> None:
    """Resources other than items take only `f`: anything else is refused by name."""
    for name, _ in query:
        if name not in allowed:
            raise InvalidParameter(name, "unknown parameter; known: " + ", ".join(allowed))
