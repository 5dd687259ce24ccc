"""Point conversion to WGS84 and China's range, measured in metres on the WGS84 ellipsoid."""

from __future__ import annotations

import numpy as np
import prcoords
import pytest
from pyproj import Geod

from gis.coords import (
    COORDINATE_SYSTEMS,
    check_in_china,
    coordinate_system,
    in_china_range,
    looks_swapped,
    position_problem,
    to_wgs84,
    to_wgs84_arrays,
)
from gis.errors import CoordinateSystemError, InvalidInput

GEOD = Geod(ellps="WGS84")


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance between two (lon, lat) points."""
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


# Published WGS84 → GCJ-02 pairs (lon, lat), from the test suite of googollee/eviltransform (MIT),
# go/transform_test.go and python/test.py: Shanghai, Shenzhen, Beijing. They were produced by that
# project's own implementation of the same leaked GCJ-02 formula, not by independent survey, so they
# check that we undo the standard formula, not that the formula matches Gaode's servers to the metre.
# (That suite's BD-09 pairs are not used: its Python bd2gcj uses sin(y·π) where the widespread formula,
# and prcoords, use sin(y·π·3000/180); the two differ by 10–40 m.)
PUBLISHED_GCJ = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]

# Places spread over China (WGS84 lon, lat), to test the inverse where the offsets differ most.
PLACES = {
    "yuzhong": (106.5700, 29.5550),
    "lüyuan": (125.2430, 43.8800),
    "urumqi": (87.6170, 43.8250),
    "lhasa": (91.1170, 29.6470),
    "harbin": (126.6500, 45.7600),
    "sanya": (109.5100, 18.2500),
    "mohe": (122.5400, 52.9700),
}


def forward(system: str, lon: float, lat: float) -> tuple[float, float]:
    """The standard forward formula as prcoords implements it (prcoords works in (lat, lon) order)."""
    shifted = prcoords.wgs_gcj((lat, lon)) if system == "gcj02" else prcoords.wgs_bd((lat, lon))
    return shifted.lon, shifted.lat


@pytest.mark.parametrize(("wgs", "gcj"), PUBLISHED_GCJ)
def test_gcj02_published_pairs(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    assert metres(forward("gcj02", *wgs), gcj) < 0.01  # the formula we undo is the published one
    assert metres(to_wgs84(*gcj, "gcj02"), wgs) < 0.5


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
@pytest.mark.parametrize("place", sorted(PLACES))
def test_inverse_recovers_the_original_within_half_a_metre(system: str, place: str) -> None:
    wgs = PLACES[place]
    shifted = forward(system, *wgs)
    assert 100 < metres(shifted, wgs) < 1500  # the shift is real: hundreds of metres
    assert metres(to_wgs84(*shifted, system), wgs) < 0.5


@pytest.mark.parametrize("system", ["wgs84", "cgcs2000"])
def test_wgs84_and_cgcs2000_pass_through(system: str) -> None:
    assert to_wgs84(106.57, 29.555, system) == (106.57, 29.555)


def test_wgs84_outside_china_is_allowed() -> None:
    assert to_wgs84(2.35, 48.85, "wgs84") == (2.35, 48.85)
    assert to_wgs84(30.0, 80.0, "wgs84") == (30.0, 80.0)  # Barents Sea: swapped-looking, but real


def test_wgs84_swapped_off_the_globe_is_called_swapped() -> None:
    with pytest.raises(InvalidInput, match="swapped"):
        to_wgs84(39.9, 116.4, "wgs84")


@pytest.mark.parametrize(("name", "expected"), [("GCJ-02", "gcj02"), (" bd09 ", "bd09"), ("WGS 84", "wgs84"),
                                                ("CGCS_2000", "cgcs2000")])
def test_system_names_are_normalised(name: str, expected: str) -> None:
    assert coordinate_system(name) == expected


def test_unknown_system_names_the_allowed_ones() -> None:
    with pytest.raises(CoordinateSystemError) as caught:
        to_wgs84(106.57, 29.555, "mars")
    message = str(caught.value)
    assert "'mars'" in message
    assert all(system in message for system in COORDINATE_SYSTEMS)


def test_gcj02_outside_china_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"outside China: lon 2\.35, lat 48\.85"):
        to_wgs84(2.35, 48.85, "gcj02")


def test_swapped_point_gets_a_specific_message() -> None:
    with pytest.raises(InvalidInput, match="latitude and longitude appear swapped: lon 29.555, lat 106.57"):
        to_wgs84(29.555, 106.57, "bd09")


def test_not_a_number() -> None:
    with pytest.raises(InvalidInput, match="must be numbers; got lon 'east'"):
        to_wgs84("east", 29.5, "wgs84")  # type: ignore[arg-type]


def test_nan_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not finite"):
        to_wgs84(float("nan"), 29.5, "wgs84")


def test_arrays_match_the_scalar_conversion() -> None:
    shifted = [forward("gcj02", *PLACES[p]) for p in sorted(PLACES)]
    lons, lats = to_wgs84_arrays([s[0] for s in shifted], [s[1] for s in shifted], "gcj02")
    expected = np.array([to_wgs84(*s, "gcj02") for s in shifted])
    np.testing.assert_array_equal(lons, expected[:, 0])
    np.testing.assert_array_equal(lats, expected[:, 1])


def test_arrays_name_the_bad_point() -> None:
    with pytest.raises(InvalidInput, match=r"point 1: outside China"):
        to_wgs84_arrays([106.57, 2.35], [29.555, 48.85], "gcj02")
    with pytest.raises(InvalidInput, match="2 longitudes but 1 latitudes"):
        to_wgs84_arrays([106.57, 106.58], [29.555], "wgs84")


@pytest.mark.parametrize(
    ("lon", "lat", "inside"),
    [(116.4, 39.9, True), (73.0, 3.0, True), (136.0, 54.0, True), (72.9, 39.9, False), (116.4, 54.1, False),
     (39.9, 116.4, False), (2.35, 48.85, False)],
)
def test_in_china_range(lon: float, lat: float, inside: bool) -> None:
    assert in_china_range(lon, lat) is inside


def test_looks_swapped() -> None:
    assert looks_swapped(39.9, 116.4)
    assert not looks_swapped(116.4, 39.9)
    assert not looks_swapped(2.35, 48.85)


def test_check_in_china() -> None:
    assert check_in_china("116.4", 39.9) == (116.4, 39.9)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"outside China: lon 151\.2, lat -33\.86"):
        check_in_china(151.2, -33.86)
    with pytest.raises(InvalidInput, match="swapped"):
        check_in_china(39.9, 116.4)


def test_position_problem_for_an_extent() -> None:
    assert position_problem(116.4, 39.9, 116.5, 40.0) is None
    assert "outside China: lon 70..75" in str(position_problem(70.0, 30.0, 75.0, 31.0))
    assert "outside longitude −180..180" in str(position_problem(500000.0, 3300000.0, 500100.0, 3300100.0))
    assert position_problem(2.35, 48.85, 2.35, 48.85, china=False) is None
