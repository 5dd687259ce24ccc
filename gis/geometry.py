"""Checking imported frames before anything is written: coordinate system, geometry type, position,
validity, and an optional repair.

`prepare_frame` is the one entry point the importer uses. It never drops or reorders features: the
returned frame has the same rows in the same order, and every problem names the 0-based feature index
in the file, so a planner can find it in QGIS. A file is either clean or rejected as a whole.

Coordinate systems. Everything is stored in WGS84 (EPSG:4326). A file's own CRS wins; `declared_crs`
(`--crs`) is only for files that carry none. If both are present and differ, that is an error: the
service never guesses which one is right and never reprojects silently. China's CGCS2000 (EPSG:4490)
and WGS84 agree to within centimetres, far below the accuracy of any grid boundary, and PROJ has no
better than a "ballpark" (null) transformation between them anyway; so CGCS2000 coordinates — and the
Gauss-Krüger projections built on CGCS2000 (EPSG:4491–4554) after unprojecting to EPSG:4490 — are
relabelled as EPSG:4326 rather than transformed. Every other CRS is reprojected with PROJ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from gis.coords import CHINA_LAT, CHINA_LON, check_in_china, position_problem
from gis.errors import CoordinateSystemError, GeometryError

GeometryKind = Literal["polygon", "point", "none"]
GEOMETRY_KINDS: tuple[GeometryKind, ...] = get_args(GeometryKind)
Geometries = gpd.GeoSeries | Sequence[shapely.Geometry] | NDArray[np.object_]

WGS84 = CRS.from_epsg(4326)
CGCS2000 = CRS.from_epsg(4490)
NO_CRS_MESSAGE = (
    "file has no coordinate system; declare one with --crs (e.g. EPSG:4326, EPSG:4490, EPSG:4547, EPSG:3857)"
)

# shapely type ids
_POINT, _POLYGON, _MULTIPOINT, _MULTIPOLYGON = 0, 3, 4, 6
_TYPE_NAMES = ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
               "MultiPolygon", "GeometryCollection")

# CGCS2000 / 3-degree Gauss-Krüger CM 75E … CM 135E are EPSG:4534 … EPSG:4554, one per 3 degrees.
_GK3_FIRST_EPSG, _GK3_FIRST_CM, _GK3_LAST_CM = 4534, 75, 135


@dataclass(frozen=True)
class Problem:
    """One thing wrong with (or fixed in) one feature; `index` is the 0-based feature index in the file."""

    index: int
    reason: str


@dataclass
class PreparedFrame:
    """The frame in EPSG:4326 (same rows, same order), what is wrong, and what `repair` fixed."""

    frame: gpd.GeoDataFrame
    problems: list[Problem] = field(default_factory=list)
    repaired: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# -- public -------------------------------------------------------------------------------------


def prepare_frame(
    frame: gpd.GeoDataFrame,
    *,
    geometry_kind: GeometryKind,
    declared_crs: str | int | None = None,
    repair: bool = False,
) -> PreparedFrame:
    """Check an imported frame and bring it to EPSG:4326: polygons as MultiPolygon, points as Point.

    Raises CoordinateSystemError when the CRS is missing, unknown or contradicts `declared_crs`;
    everything wrong with single features is returned as `problems`, never raised, so a planner sees
    every problem of a file at once.
    """
    kind = _checked_kind(geometry_kind)
    if kind == "none":
        return PreparedFrame(frame)
    source = _geometry_of(frame)
    crs = _source_crs(source.crs, declared_crs)
    lonlat = _to_wgs84(source, crs)
    problems, usable = _presence_and_type(lonlat, kind)
    problems += _position_problems(source if crs.is_geographic else lonlat, lonlat, usable)
    geometries, invalid, repaired = _validity(lonlat, usable, kind, repair)
    problems += invalid
    problems.sort(key=lambda p: p.index)  # stable: per feature, checks stay in the order above
    return PreparedFrame(_with_geometry(frame, geometries), problems, repaired)


def to_multipolygon(geom: shapely.Geometry) -> shapely.MultiPolygon:
    """Polygon, MultiPolygon or a collection of polygons → MultiPolygon (the stored type of every area)."""
    if isinstance(geom, shapely.MultiPolygon):
        return geom
    if isinstance(geom, shapely.Polygon):
        return shapely.MultiPolygon([geom]) if not geom.is_empty else shapely.MultiPolygon()
    if isinstance(geom, shapely.GeometryCollection) and all(
        isinstance(part, shapely.Polygon | shapely.MultiPolygon) for part in geom.geoms
    ):
        return shapely.MultiPolygon(_polygon_parts(geom))
    shown = "nothing" if geom is None else geom.geom_type
    raise GeometryError(
        f"cannot make a MultiPolygon from {shown}; allowed: Polygon, MultiPolygon, or a collection of them",
        details={"type": shown},
    )


def metric_crs_for(lon: float, lat: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone (central-meridian variant, EPSG:4534–4554)
    whose central meridian is nearest `lon`; e.g. 108 E → EPSG:4545, 114 E → EPSG:4547.

    Why this family rather than UTM: it is what Chinese survey and planning files are delivered in, so
    our areas match theirs; and a 3-degree zone keeps the scale error within 1.5 degrees of the central
    meridian, under 0.1 % in area. Only defined for China's range; anything else raises InvalidInput.
    """
    lon, lat = check_in_china(lon, lat)
    central = min(max(3 * round(lon / 3), _GK3_FIRST_CM), _GK3_LAST_CM)
    return _GK3_FIRST_EPSG + (central - _GK3_FIRST_CM) // 3


def area_m2(geoms: Geometries) -> NDArray[np.float64]:
    """Area in square metres of each EPSG:4326 geometry, each projected into its own 3-degree zone.

    Missing geometries give NaN, empty ones 0. A GeoSeries in another CRS is refused, not reprojected.
    """
    array = _lonlat_array(geoms)
    areas = shapely.area(array).astype(np.float64)  # NaN for missing, 0 for empty and points
    present = ~(shapely.is_missing(array) | shapely.is_empty(array))
    zones = _zones_of(array, present)
    for epsg in np.unique(zones[present]):
        members = present & (zones == epsg)
        transformer = Transformer.from_crs(CGCS2000, CRS.from_epsg(int(epsg)), always_xy=True)
        areas[members] = shapely.area(shapely.transform(array[members], _projector(transformer)))
    return areas


# -- private steps: coordinate system -----------------------------------------------------------


def _checked_kind(geometry_kind: str) -> GeometryKind:
    if geometry_kind not in GEOMETRY_KINDS:
        raise GeometryError(
            f"unknown geometry kind {geometry_kind!r}; allowed: {', '.join(GEOMETRY_KINDS)}",
            details={"value": str(geometry_kind), "allowed": list(GEOMETRY_KINDS)},
        )
    return geometry_kind  # type: ignore[return-value]


def _geometry_of(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    try:
        return frame.geometry
    except AttributeError:
        raise GeometryError("the file has no geometry column; this kind needs a spatial layer") from None


def _source_crs(own: CRS | None, declared: str | int | None) -> CRS:
    """The file's CRS, or the declared one when the file has none; both and different → error."""
    declared_crs = _parse_crs(declared) if declared is not None and str(declared).strip() else None
    if own is None and declared_crs is None:
        raise CoordinateSystemError(NO_CRS_MESSAGE)
    if own is not None and declared_crs is not None and not own.equals(declared_crs, ignore_axis_order=True):
        raise CoordinateSystemError(
            f"the file says its coordinate system is {_crs_name(own)} but {_crs_name(declared_crs)} was "
            "declared; nothing is reprojected on a guess: drop --crs, or correct the file",
            details={"file_crs": own.to_string(), "declared_crs": declared_crs.to_string()},
        )
    crs = own if own is not None else declared_crs
    assert crs is not None
    if not (crs.is_geographic or crs.is_projected):
        raise CoordinateSystemError(
            f"coordinate system {_crs_name(crs)} is neither geographic nor projected; "
            "use a 2D one such as EPSG:4326, EPSG:4490, EPSG:4547 or EPSG:3857",
            details={"crs": crs.to_string()},
        )
    return crs


def _parse_crs(declared: str | int) -> CRS:
    text = str(declared).strip()
    try:
        return CRS.from_user_input(int(text) if text.isdigit() else text)
    except CRSError as exc:
        raise CoordinateSystemError(
            f"unknown coordinate system {text!r} ({exc}); use an EPSG code such as EPSG:4326, EPSG:4490, "
            "EPSG:4547 or EPSG:3857",
            details={"value": text},
        ) from None


def _crs_name(crs: CRS) -> str:
    code = crs.to_string()
    return code if code == crs.name else f"{code} ({crs.name})"


def _to_wgs84(source: gpd.GeoSeries, crs: CRS) -> gpd.GeoSeries:
    """Source geometries (2D) in EPSG:4326; CGCS2000-based systems are relabelled, see the module doc."""
    values = np.asarray(source.values, dtype=object)
    flat = shapely.force_2d(values) if shapely.has_z(values).any() else values  # new objects only if needed
    located = gpd.GeoSeries(flat, index=source.index, crs=crs)
    if crs.equals(CGCS2000, ignore_axis_order=True):
        return located.set_crs(WGS84, allow_override=True)
    geodetic = crs.geodetic_crs
    if crs.is_projected and geodetic is not None and geodetic.equals(CGCS2000, ignore_axis_order=True):
        return located.to_crs(CGCS2000).set_crs(WGS84, allow_override=True)
    if crs.equals(WGS84, ignore_axis_order=True):  # includes OGC:CRS84 (lon/lat axis order)
        return located.set_crs(WGS84, allow_override=True)
    return located.to_crs(WGS84)


# -- private steps: per-feature checks ----------------------------------------------------------


def _presence_and_type(lonlat: gpd.GeoSeries, kind: GeometryKind) -> tuple[list[Problem], NDArray[np.bool_]]:
    """Problems for missing, empty and wrong-type geometries, and the mask of features worth checking."""
    values = lonlat.values
    missing = shapely.is_missing(values)
    empty = ~missing & shapely.is_empty(values)
    type_ids = shapely.get_type_id(values)
    parts = shapely.get_num_geometries(values)
    if kind == "polygon":
        right_type = np.isin(type_ids, (_POLYGON, _MULTIPOLYGON))
    else:
        right_type = (type_ids == _POINT) | ((type_ids == _MULTIPOINT) & (parts == 1))
    problems = [Problem(int(i), "missing geometry") for i in np.flatnonzero(missing)]
    problems += [Problem(int(i), "empty geometry (no coordinates)") for i in np.flatnonzero(empty)]
    wrong = ~missing & ~empty & ~right_type
    problems += [Problem(int(i), _wrong_type_reason(kind, values[i])) for i in np.flatnonzero(wrong)]
    return problems, ~missing & ~empty & right_type


def _wrong_type_reason(kind: GeometryKind, geom: shapely.Geometry) -> str:
    got = geom.geom_type
    if got == "MultiPoint":
        got = f"MultiPoint of {shapely.get_num_geometries(geom)} points"
    if kind == "polygon":
        return f"wrong geometry type: expected a polygon (Polygon or MultiPolygon), got {got}"
    return f"wrong geometry type: expected a point (one Point per feature), got {got}"


def _position_problems(
    judged: gpd.GeoSeries, lonlat: gpd.GeoSeries, usable: NDArray[np.bool_]
) -> list[Problem]:
    """Swapped axes, off the globe, outside China. Geographic files are judged in their own degrees
    (so swapped axes are seen even if PROJ cannot transform them); projected ones after reprojection."""
    judged_bounds = shapely.bounds(np.asarray(judged.values, dtype=object))  # x and y only, whatever the Z
    final_bounds = shapely.bounds(lonlat.values)
    suspect = usable & ~(_inside_china(judged_bounds) & _inside_china(final_bounds))
    problems = []
    for i in np.flatnonzero(suspect):  # words only for the few that fail the vectorised test
        reason = position_problem(*judged_bounds[i]) or position_problem(*final_bounds[i])
        if reason:
            problems.append(Problem(int(i), reason))
    return problems


def _inside_china(bounds: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Rows of (minx, miny, maxx, maxy) wholly inside China's box (NaN compares False: not inside)."""
    with np.errstate(invalid="ignore"):
        return (
            (bounds[:, 0] >= CHINA_LON[0]) & (bounds[:, 2] <= CHINA_LON[1])
            & (bounds[:, 1] >= CHINA_LAT[0]) & (bounds[:, 3] <= CHINA_LAT[1])
        )


def _validity(
    lonlat: gpd.GeoSeries, usable: NDArray[np.bool_], kind: GeometryKind, repair: bool
) -> tuple[NDArray[np.object_], list[Problem], list[Problem]]:
    """Final geometries (MultiPolygon or Point where usable), invalid-polygon problems, repairs made."""
    geometries = lonlat.values.to_numpy().copy()
    if kind == "point":
        multi = usable & (shapely.get_type_id(geometries) == shapely.GeometryType.MULTIPOINT)
        geometries[multi] = shapely.get_geometry(geometries[multi], 0)  # one-point MultiPoint → Point
        return geometries, [], []
    problems: list[Problem] = []
    repaired: list[Problem] = []
    invalid = usable & ~shapely.is_valid(geometries)
    reasons = {int(i): shapely.is_valid_reason(geometries[i]) for i in np.flatnonzero(invalid)}
    for i in np.flatnonzero(usable & ~invalid):
        geometries[i] = to_multipolygon(geometries[i])
    for i, reason in reasons.items():
        fixed = _repair(geometries[i]) if repair else None
        if fixed is not None:
            geometries[i] = fixed
            repaired.append(Problem(i, f"invalid polygon ({reason}) repaired with make_valid into "
                                       f"{len(fixed.geoms)} polygon part(s)"))
        elif repair:
            problems.append(Problem(i, f"invalid polygon: {reason}; make_valid leaves no area "
                                       "(it collapses to a line or point): redraw it"))
        else:
            hint = "fix it in the editor or import with --repair"
            problems.append(Problem(i, f"invalid polygon: {reason}; {hint}"))
    return geometries, problems, repaired


def _repair(geom: shapely.Geometry) -> shapely.MultiPolygon | None:
    """make_valid, keeping only the polygonal parts; None when nothing polygonal remains."""
    parts = _polygon_parts(shapely.make_valid(geom))
    if not parts:
        return None
    fixed = shapely.MultiPolygon(parts)
    return fixed if fixed.is_valid else to_multipolygon(shapely.union_all(parts))


def _polygon_parts(geom: shapely.Geometry) -> list[shapely.Polygon]:
    if isinstance(geom, shapely.Polygon):
        return [] if geom.is_empty else [geom]
    if isinstance(geom, shapely.MultiPolygon | shapely.GeometryCollection):
        return [part for member in geom.geoms for part in _polygon_parts(member)]
    return []


def _with_geometry(frame: gpd.GeoDataFrame, geometries: NDArray[np.object_]) -> gpd.GeoDataFrame:
    name = frame.geometry.name
    series = gpd.GeoSeries(geometries, index=frame.index, crs=WGS84, name=name)
    return frame.set_geometry(series)


# -- private steps: areas -----------------------------------------------------------------------


def _lonlat_array(geoms: Geometries) -> NDArray[np.object_]:
    if isinstance(geoms, gpd.GeoSeries):
        if geoms.crs is not None and not geoms.crs.equals(WGS84, ignore_axis_order=True):
            raise CoordinateSystemError(
                f"area_m2 needs EPSG:4326 geometries, got {_crs_name(geoms.crs)}; reproject explicitly first",
                details={"crs": geoms.crs.to_string()},
            )
        return np.asarray(geoms.values, dtype=object)
    if isinstance(geoms, pd.Series):
        return np.asarray(geoms.to_numpy(), dtype=object)
    return np.asarray(geoms, dtype=object)


def _projector(transformer: Transformer) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    """An (n, 2) lon/lat array → projected (n, 2), in the shape shapely.transform expects."""

    def project(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))

    return project


def _zones_of(array: NDArray[np.object_], present: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Zone EPSG of each present geometry from the centre of its bounds; outside China → error by index."""
    zones = np.zeros(len(array), dtype=np.int64)
    bounds = shapely.bounds(array)
    for i in np.flatnonzero(present):
        lon, lat = (bounds[i, 0] + bounds[i, 2]) / 2, (bounds[i, 1] + bounds[i, 3]) / 2
        if not (CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1]):
            raise GeometryError(
                f"geometry {i} is centred at lon {lon:.6f}, lat {lat:.6f}, outside China "
                "(longitude 73–136 E, latitude 3–54 N); areas are computed in CGCS2000 zones",
                details={"index": int(i)},
            )
        zones[i] = metric_crs_for(lon, lat)
    return zones
