"""prepare_frame on tiny hand-drawn frames: each bad feature gives one Problem at its own index."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS, Geod
from shapely import MultiPoint, MultiPolygon, Point, Polygon, affinity, box

from gis.errors import CoordinateSystemError, GeometryError, InvalidInput
from gis.geometry import Problem, area_m2, metric_crs_for, prepare_frame, to_multipolygon

# A 0.01-degree square in Yuzhong District, Chongqing, and a point inside it (lon, lat).
SQUARE = box(106.57, 29.55, 106.58, 29.56)
POINT = Point(106.575, 29.555)
# Corners visited across the diagonals: the two edges cross at the centre.
BOW_TIE = Polygon([(106.57, 29.55), (106.58, 29.56), (106.58, 29.55), (106.57, 29.56)])


def frame(*geometries: shapely.Geometry | None, crs: object = 4326) -> gpd.GeoDataFrame:
    """A frame with a code per feature, so tests can see rows keep their order."""
    codes = [f"f{i}" for i in range(len(geometries))]
    return gpd.GeoDataFrame({"code": codes}, geometry=list(geometries), crs=crs)


def only_problem(prepared_problems: list[Problem]) -> Problem:
    assert len(prepared_problems) == 1, prepared_problems
    return prepared_problems[0]


# -- feature checks -----------------------------------------------------------------------------

BAD_POLYGONS = {
    "missing": (None, "missing geometry"),
    "empty": (Polygon(), "empty geometry"),
    "point where a polygon is expected": (POINT, "expected a polygon (Polygon or MultiPolygon), got Point"),
    "line": (shapely.LineString([(106.57, 29.55), (106.58, 29.56)]), "got LineString"),
    "bow-tie": (BOW_TIE, "invalid polygon: Self-intersection[106.575 29.555]"),
    "swapped": (box(29.55, 106.57, 29.56, 106.58), "latitude and longitude appear swapped"),
    "outside China": (box(2.35, 48.85, 2.36, 48.86), "outside China"),
    "metres declared as degrees": (box(500000, 3300000, 500100, 3300100), "outside longitude −180..180"),
}


@pytest.mark.parametrize("case", sorted(BAD_POLYGONS))
def test_each_bad_polygon_is_one_problem_at_its_index(case: str) -> None:
    bad, words = BAD_POLYGONS[case]
    prepared = prepare_frame(frame(SQUARE, bad, SQUARE), geometry_kind="polygon")
    problem = only_problem(prepared.problems)
    assert problem.index == 1
    assert words in problem.reason
    assert prepared.repaired == []
    assert not prepared.ok


BAD_POINTS = {
    "missing": (None, "missing geometry"),
    "polygon where a point is expected": (SQUARE, "expected a point (one Point per feature), got Polygon"),
    "two points in one feature": (MultiPoint([(106.57, 29.55), (106.58, 29.56)]), "MultiPoint of 2 points"),
    "swapped": (Point(29.555, 106.575), "latitude and longitude appear swapped"),
    "outside China (Sydney)": (Point(151.21, -33.87), "outside China: lon 151.21, lat -33.87"),
}


@pytest.mark.parametrize("case", sorted(BAD_POINTS))
def test_each_bad_point_is_one_problem_at_its_index(case: str) -> None:
    bad, words = BAD_POINTS[case]
    prepared = prepare_frame(frame(POINT, POINT, bad), geometry_kind="point")
    problem = only_problem(prepared.problems)
    assert problem.index == 2
    assert words in problem.reason


def test_several_bad_features_are_all_reported_in_index_order() -> None:
    prepared = prepare_frame(frame(None, SQUARE, BOW_TIE, POINT), geometry_kind="polygon")
    assert [p.index for p in prepared.problems] == [0, 2, 3]


def test_one_feature_can_have_two_problems() -> None:
    far_bow_tie = affinity.translate(BOW_TIE, xoff=-104.0)  # near 2.6 E: outside China too
    reasons = [p.reason for p in prepare_frame(frame(far_bow_tie), geometry_kind="polygon").problems]
    assert len(reasons) == 2
    assert "outside China" in reasons[0]
    assert "invalid polygon" in reasons[1]


def test_clean_polygons_come_back_as_multipolygons_in_order() -> None:
    two_squares = MultiPolygon([SQUARE, box(106.59, 29.55, 106.60, 29.56)])
    source = frame(SQUARE, two_squares)
    prepared = prepare_frame(source, geometry_kind="polygon")
    assert prepared.ok
    assert prepared.frame.crs == CRS.from_epsg(4326)
    assert list(prepared.frame.geometry.geom_type) == ["MultiPolygon", "MultiPolygon"]
    assert prepared.frame.geometry.iloc[0].equals(MultiPolygon([SQUARE]))
    assert prepared.frame.geometry.iloc[1].equals(two_squares)
    assert list(prepared.frame["code"]) == ["f0", "f1"]
    assert list(prepared.frame.index) == list(source.index)


def test_a_single_point_multipoint_becomes_a_point() -> None:
    prepared = prepare_frame(frame(MultiPoint([(106.575, 29.555)])), geometry_kind="point")
    assert prepared.ok
    assert prepared.frame.geometry.iloc[0].equals(POINT)


def test_z_coordinates_are_dropped() -> None:
    square_z = Polygon([(x, y, 250.0) for x, y in SQUARE.exterior.coords])
    geometry = prepare_frame(frame(square_z), geometry_kind="polygon").frame.geometry.iloc[0]
    assert not geometry.has_z
    assert geometry.equals(MultiPolygon([SQUARE]))


def test_kind_none_leaves_the_frame_alone() -> None:
    source = frame(None)
    prepared = prepare_frame(source, geometry_kind="none")
    assert prepared.frame is source
    assert prepared.ok


def test_unknown_kind_names_the_allowed_ones() -> None:
    with pytest.raises(GeometryError, match="unknown geometry kind 'line'; allowed: polygon, point, none"):
        prepare_frame(frame(SQUARE), geometry_kind="line")  # type: ignore[arg-type]


# -- repair -------------------------------------------------------------------------------------


def test_repair_fixes_a_bow_tie_and_records_the_original_reason() -> None:
    prepared = prepare_frame(frame(SQUARE, BOW_TIE), geometry_kind="polygon", repair=True)
    assert prepared.ok
    fixed = only_problem(prepared.repaired)
    assert fixed.index == 1
    assert "Self-intersection" in fixed.reason
    assert "make_valid" in fixed.reason
    geometry = prepared.frame.geometry.iloc[1]
    assert isinstance(geometry, MultiPolygon)
    assert geometry.is_valid
    assert len(geometry.geoms) == 2  # the two triangles either side of the crossing
    assert geometry.area == pytest.approx(SQUARE.area / 2)


def test_repair_cannot_give_area_to_a_collapsed_polygon() -> None:
    spike = Polygon([(106.57, 29.55), (106.58, 29.56), (106.57, 29.55)])  # there and back: no area
    prepared = prepare_frame(frame(spike), geometry_kind="polygon", repair=True)
    problem = only_problem(prepared.problems)
    assert problem.index == 0
    assert "make_valid leaves no area" in problem.reason
    assert prepared.repaired == []


def test_without_repair_the_problem_suggests_it() -> None:
    problem = only_problem(prepare_frame(frame(BOW_TIE), geometry_kind="polygon").problems)
    assert "--repair" in problem.reason


# -- coordinate systems -------------------------------------------------------------------------


def test_missing_crs_raises() -> None:
    with pytest.raises(CoordinateSystemError) as caught:
        prepare_frame(frame(SQUARE, crs=None), geometry_kind="polygon")
    assert str(caught.value) == (
        "file has no coordinate system; declare one with --crs "
        "(e.g. EPSG:4326, EPSG:4490, EPSG:4547, EPSG:3857)"
    )


def test_declared_crs_is_used_when_the_file_has_none() -> None:
    prepared = prepare_frame(frame(SQUARE, crs=None), geometry_kind="polygon", declared_crs="EPSG:4326")
    assert prepared.ok
    assert prepared.frame.crs == CRS.from_epsg(4326)


@pytest.mark.parametrize("declared", ["EPSG:3857", 3857, "3857"])
def test_mismatched_crs_raises_naming_both(declared: str | int) -> None:
    with pytest.raises(CoordinateSystemError) as caught:
        prepare_frame(frame(SQUARE, crs=4490), geometry_kind="polygon", declared_crs=declared)
    assert "EPSG:4490" in str(caught.value)
    assert "EPSG:3857" in str(caught.value)


def test_matching_declared_crs_is_fine() -> None:
    prepared = prepare_frame(frame(SQUARE, crs="OGC:CRS84"), geometry_kind="polygon", declared_crs=4326)
    assert prepared.ok  # CRS84 is EPSG:4326 with lon/lat axis order: the same for our purpose


def test_unknown_declared_crs_raises() -> None:
    with pytest.raises(CoordinateSystemError, match="unknown coordinate system 'EPSG:999999'"):
        prepare_frame(frame(SQUARE, crs=None), geometry_kind="polygon", declared_crs="EPSG:999999")


def test_coordinate_system_errors_are_invalid_input() -> None:
    assert issubclass(CoordinateSystemError, InvalidInput)
    assert issubclass(GeometryError, InvalidInput)


@pytest.mark.parametrize("epsg", [4547, 4545, 4524, 4496, 3857, 32648])
def test_projected_frames_come_back_in_4326(epsg: int) -> None:
    # The square in Yuzhong (106.57 E) projected with PROJ; 4547 (CM 114 E) is far from its central
    # meridian on purpose, 4545 (CM 108 E) is its own zone, 4524 the same zone with the zone number in
    # its false easting, 4496 the 6-degree zone 18 (CM 105 E), 32648 is UTM 48N (WGS84, not CGCS2000).
    projected = gpd.GeoSeries([SQUARE, POINT.buffer(0.001)], crs=4326).to_crs(epsg)
    prepared = prepare_frame(gpd.GeoDataFrame(geometry=projected), geometry_kind="polygon")
    assert prepared.ok
    assert prepared.frame.crs == CRS.from_epsg(4326)
    back = shapely.get_coordinates(prepared.frame.geometry.values)
    expected = shapely.get_coordinates(np.array([SQUARE, POINT.buffer(0.001)]))
    np.testing.assert_allclose(back, expected, rtol=0, atol=1e-7)


def test_4490_is_relabelled_not_transformed() -> None:
    prepared = prepare_frame(frame(SQUARE, crs=4490), geometry_kind="polygon")
    assert prepared.frame.crs == CRS.from_epsg(4326)
    assert prepared.frame.geometry.iloc[0].equals_exact(MultiPolygon([SQUARE]), tolerance=0)


def test_swapped_file_in_4490_is_detected() -> None:
    swapped = prepare_frame(frame(Point(29.555, 106.575), crs=4490), geometry_kind="point")
    assert "swapped" in only_problem(swapped.problems).reason


def test_points_are_checked_after_reprojection() -> None:
    # A Gauss-Krüger point far east of its zone ends up outside China once unprojected.
    far = gpd.GeoSeries([Point(106.575, 29.555), Point(151.21, -33.87)], crs=4326).to_crs(4547)
    prepared = prepare_frame(gpd.GeoDataFrame(geometry=far), geometry_kind="point")
    problem = only_problem(prepared.problems)
    assert problem.index == 1
    assert "outside China" in problem.reason


# -- helpers ------------------------------------------------------------------------------------


def test_to_multipolygon() -> None:
    assert to_multipolygon(SQUARE).equals(MultiPolygon([SQUARE]))
    two = MultiPolygon([SQUARE, box(106.59, 29.55, 106.60, 29.56)])
    assert to_multipolygon(two) is two
    assert to_multipolygon(shapely.GeometryCollection([SQUARE])).equals(MultiPolygon([SQUARE]))
    with pytest.raises(GeometryError, match="cannot make a MultiPolygon from Point"):
        to_multipolygon(POINT)


@pytest.mark.parametrize(
    ("lon", "epsg", "central_meridian"),
    [(108.0, 4545, 108), (114.0, 4547, 114), (106.57, 4545, 108), (116.4, 4548, 117), (73.5, 4534, 75),
     (135.9, 4554, 135)],
)
def test_metric_crs_for(lon: float, epsg: int, central_meridian: int) -> None:
    assert metric_crs_for(lon, 30.0) == epsg
    assert CRS.from_epsg(epsg).name == f"CGCS2000 / 3-degree Gauss-Kruger CM {central_meridian}E"


def test_metric_crs_outside_china_raises() -> None:
    with pytest.raises(InvalidInput, match="outside China"):
        metric_crs_for(2.35, 48.85)


def test_area_of_a_hectare_drawn_in_metres() -> None:
    # 100 m x 100 m drawn in CGCS2000 / CM 108E, unprojected to degrees: the area must come back.
    hectare = gpd.GeoSeries([box(500000, 3300000, 500100, 3300100)], crs=4545).to_crs(4490)
    assert area_m2(hectare.set_crs(4326, allow_override=True))[0] == pytest.approx(10_000, rel=1e-6)


def test_area_matches_the_geodesic_area() -> None:
    geodesic = abs(Geod(ellps="WGS84").geometry_area_perimeter(SQUARE)[0])
    assert area_m2([SQUARE])[0] == pytest.approx(geodesic, rel=1e-3)


def test_area_of_missing_and_empty() -> None:
    areas = area_m2([None, Polygon(), SQUARE])
    assert np.isnan(areas[0])
    assert areas[1] == 0
    assert areas[2] > 1_000_000


def test_area_refuses_another_crs() -> None:
    with pytest.raises(CoordinateSystemError, match="EPSG:3857"):
        area_m2(gpd.GeoSeries([SQUARE], crs=4326).to_crs(3857))
