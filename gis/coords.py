"""Point coordinates from phones and hotlines: convert a declared system to WGS84, check the range.

Phone apps report positions in one of four systems. WGS84 (GPS) and CGCS2000 (China's national datum)
agree to within centimetres, far below a phone's accuracy, so both pass through unchanged. GCJ-02
(Gaode/AMap, Tencent, Apple in China) and BD-09 (Baidu) are deliberately shifted by hundreds of metres;
they are undone with the maintained `prcoords` package (public domain), using its iterative "bored"
inverses, which recover WGS84 to well under a millimetre of the forward formula — not a hand-written
copy of the formulas.

The same range rule serves points here and features in `gis.geometry`: `position_problem` says in words
what is wrong with a position or an extent (not finite, latitude/longitude swapped, off the globe,
outside China), or returns None.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal, get_args

import numpy as np
import prcoords
from numpy.typing import ArrayLike, NDArray

from gis.errors import CoordinateSystemError, InvalidInput

CoordinateSystem = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]
COORDINATE_SYSTEMS: tuple[CoordinateSystem, ...] = get_args(CoordinateSystem)

# China's extent, generous enough for every county including islands in the South China Sea
# down to 3 N; the same box the brief and DOMAIN.md use.
CHINA_LON: tuple[float, float] = (73.0, 136.0)
CHINA_LAT: tuple[float, float] = (3.0, 54.0)
_CHINA_SHOWN = "longitude 73–136 E, latitude 3–54 N"

_INVERSES: dict[str, Callable[[prcoords.Coords], prcoords.Coords]] = {
    "gcj02": prcoords.gcj_wgs_bored,
    "bd09": prcoords.bd_wgs_bored,
}


# -- public -------------------------------------------------------------------------------------


def coordinate_system(name: str) -> CoordinateSystem:
    """Normalise a declared system name ("GCJ-02", "bd09", "WGS 84"…); unknown → CoordinateSystemError."""
    key = str(name).strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    for system in COORDINATE_SYSTEMS:
        if key == system:
            return system
    raise CoordinateSystemError(
        f"unknown coordinate system {name!r}; allowed: {', '.join(COORDINATE_SYSTEMS)}",
        details={"value": str(name), "allowed": list(COORDINATE_SYSTEMS)},
    )


def to_wgs84(lon: float, lat: float, system: str) -> tuple[float, float]:
    """One point in a declared system → (lon, lat) in WGS84.

    GCJ-02 and BD-09 are only defined inside China, so such points must be in China's range; WGS84 and
    CGCS2000 points need only be on the globe.
    """
    kind = coordinate_system(system)
    lon, lat = _as_floats(lon, lat)
    _check_position(lon, lat, china=kind in _INVERSES)
    return _convert(lon, lat, kind)


def to_wgs84_arrays(
    lons: ArrayLike, lats: ArrayLike, system: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Many points → WGS84 arrays. A plain loop over prcoords (about 10 µs a point): correctness from the
    maintained package matters more than speed for batches of phone reports."""
    kind = coordinate_system(system)
    lon_array, lat_array = _as_arrays(lons, lats)
    for i, (lon, lat) in enumerate(zip(lon_array, lat_array, strict=True)):
        reason = position_problem(lon, lat, lon, lat, china=kind in _INVERSES)
        if reason:
            details = {"index": i, "lon": repr(lon), "lat": repr(lat)}
            raise InvalidInput(f"point {i}: {reason}", details=details)
    if kind not in _INVERSES:
        return lon_array, lat_array
    out = [_convert(lon, lat, kind) for lon, lat in zip(lon_array, lat_array, strict=True)]
    converted = np.array(out, dtype=np.float64).reshape(-1, 2)
    return converted[:, 0], converted[:, 1]


def in_china_range(lon: float, lat: float) -> bool:
    """Whether (lon, lat) lies in China's box, 73–136 E, 3–54 N."""
    return CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1]


def looks_swapped(lon: float, lat: float) -> bool:
    """Whether the pair lands in China only when read the other way round (a latitude in the longitude
    field). The two ranges do not overlap, so a real position in China never looks swapped."""
    return not in_china_range(lon, lat) and in_china_range(lat, lon)


def check_in_china(lon: float, lat: float) -> tuple[float, float]:
    """(lon, lat) as floats, or InvalidInput naming the value (and saying so if it looks swapped)."""
    lon, lat = _as_floats(lon, lat)
    _check_position(lon, lat, china=True)
    return lon, lat


def position_problem(
    min_lon: float, min_lat: float, max_lon: float, max_lat: float, *, china: bool = True
) -> str | None:
    """What is wrong with an extent (a point is an extent with min == max), in words, or None.

    Checked in this order, first hit wins: not finite, swapped, off the globe, outside China (when
    `china`). Swapped means every coordinate fits China only when x and y are exchanged.
    With `china=False` (plain WGS84 input), only positions off the globe are refused.
    """
    values = (min_lon, min_lat, max_lon, max_lat)
    where = _describe(*values)
    if not all(math.isfinite(v) for v in values):
        return f"coordinates are not finite numbers ({where})"
    # Without the China rule a swapped-looking pair may be a real place (30 E, 80 N is the Barents Sea);
    # it is only called swapped when it is also off the globe.
    swapped = _extent_in_china(min_lat, min_lon, max_lat, max_lon) and not _extent_in_china(*values)
    if swapped and (china or max_lat > 90):
        return (
            f"latitude and longitude appear swapped: {where} fits China ({_CHINA_SHOWN}) only if the two "
            "are exchanged; write longitude first"
        )
    if min_lon < -180 or max_lon > 180 or min_lat < -90 or max_lat > 90:
        return (
            f"coordinates {where} are outside longitude −180..180 / latitude −90..90 "
            "(projected metres in a file declared as geographic?)"
        )
    if china and not _extent_in_china(*values):
        return f"outside China: {where} is not within {_CHINA_SHOWN}"
    return None


# -- private steps ------------------------------------------------------------------------------


def _as_floats(lon: object, lat: object) -> tuple[float, float]:
    try:
        return float(lon), float(lat)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(
            f"coordinates must be numbers; got lon {lon!r}, lat {lat!r}",
            details={"lon": repr(lon), "lat": repr(lat)},
        ) from None


def _as_arrays(lons: ArrayLike, lats: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    try:
        lon_array = np.asarray(lons, dtype=np.float64).ravel()
        lat_array = np.asarray(lats, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InvalidInput("coordinates must be numbers") from None
    if lon_array.shape != lat_array.shape:
        raise InvalidInput(f"{len(lon_array)} longitudes but {len(lat_array)} latitudes; they must pair up")
    return lon_array, lat_array


def _check_position(lon: float, lat: float, *, china: bool) -> None:
    reason = position_problem(lon, lat, lon, lat, china=china)
    if reason:
        raise InvalidInput(reason, details={"lon": repr(lon), "lat": repr(lat)})


def _convert(lon: float, lat: float, kind: CoordinateSystem) -> tuple[float, float]:
    inverse = _INVERSES.get(kind)
    if inverse is None:  # wgs84, cgcs2000: identical at phone accuracy
        return lon, lat
    wgs = inverse(prcoords.Coords(lat, lon))  # prcoords works in (lat, lon) order
    return float(wgs.lon), float(wgs.lat)


def _extent_in_china(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> bool:
    return in_china_range(min_lon, min_lat) and in_china_range(max_lon, max_lat)


def _describe(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> str:
    if (min_lon, min_lat) == (max_lon, max_lat):
        return f"lon {_fmt(min_lon)}, lat {_fmt(min_lat)}"
    return f"lon {_fmt(min_lon)}..{_fmt(max_lon)}, lat {_fmt(min_lat)}..{_fmt(max_lat)}"


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1000:  # projected metres: decimals would only add noise
        return f"{value:.1f}"
    return f"{value:.6f}".rstrip("0").rstrip(".")
