"""Coordinates from 高德 / 百度 converted to WGS-84 (core/geo.py): the published forward values, round trips
within tolerance, points outside China unchanged, pasted text in either order."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jianguan.core import geo

# Inside China, away from the bounding box's edges (a conversion near an edge may cross it).
lat_in = st.floats(min_value=18.0, max_value=53.0)
lon_in = st.floats(min_value=74.0, max_value=134.0)
TOLERANCE = 1e-7  # degrees, about 1 cm


def close(a: tuple[float, float], b: tuple[float, float], tol: float = TOLERANCE) -> bool:
    return abs(a[0] - b[0]) < tol and abs(a[1] - b[1]) < tol


def test_the_forward_transforms_give_the_published_reference_values():
    # The values the open-source coordtransform library documents for (116.404, 39.915).
    assert close(geo.wgs84_to_gcj02(39.915, 116.404), (39.91640428150164, 116.41024449916938), 1e-12)
    assert close(geo.gcj02_to_bd09(39.915, 116.404), (39.92133699351021, 116.41036949371029), 1e-12)


def test_a_gcj02_point_in_linyi_moves_a_few_hundred_metres():
    converted = geo.to_wgs84(35.104, 118.356, geo.GCJ02)
    metres = math.dist((converted.lat * 111_000, converted.lon * 91_000), (35.104 * 111_000, 118.356 * 91_000))
    assert 300 < metres < 800
    assert converted.changed and "GCJ-02 → WGS-84" in converted.note


@given(lat_in, lon_in)
def test_wgs84_to_gcj02_and_back_returns_to_the_start(lat, lon):
    assert close(geo.gcj02_to_wgs84(*geo.wgs84_to_gcj02(lat, lon)), (lat, lon))


@given(lat_in, lon_in)
def test_wgs84_to_bd09_and_back_returns_to_the_start(lat, lon):
    assert close(geo.bd09_to_wgs84(*geo.wgs84_to_bd09(lat, lon)), (lat, lon))


@given(lat_in, lon_in)
def test_a_pasted_bd09_point_converts_to_the_wgs84_point_it_came_from(lat, lon):
    converted = geo.to_wgs84(*geo.wgs84_to_bd09(lat, lon), geo.BD09)
    assert close((converted.lat, converted.lon), (lat, lon)) and converted.changed
    assert "BD-09 → WGS-84" in converted.note


@given(lat_in, lon_in)
def test_the_offset_is_never_more_than_a_kilometre_or_two(lat, lon):
    glat, glon = geo.wgs84_to_gcj02(lat, lon)
    assert 0 < abs(glat - lat) + abs(glon - lon) < 0.03


outside = st.one_of(
    st.tuples(st.floats(min_value=-90, max_value=90), st.floats(min_value=-180, max_value=71.9)),
    st.tuples(st.floats(min_value=-90, max_value=90), st.floats(min_value=137.9, max_value=180)),
    st.tuples(st.floats(min_value=55.9, max_value=90), st.floats(min_value=-180, max_value=180)),
    st.tuples(st.floats(min_value=-90, max_value=0.8), st.floats(min_value=-180, max_value=180)),
)


@given(outside)
def test_points_outside_china_are_unchanged(point):
    lat, lon = point
    assert geo.wgs84_to_gcj02(lat, lon) == (lat, lon)
    assert geo.gcj02_to_wgs84(lat, lon) == (lat, lon)
    converted = geo.to_wgs84(lat, lon, geo.GCJ02)
    assert (converted.lat, converted.lon, converted.changed) == (lat, lon, False)
    assert "境外" in converted.note


def test_a_wgs84_point_is_taken_as_it_is():
    converted = geo.to_wgs84(35.06, 118.34, geo.WGS84)
    assert (converted.lat, converted.lon, converted.changed) == (35.06, 118.34, False)
    assert "未换算" in converted.note


@pytest.mark.parametrize(
    "text",
    ["118.356,35.104", "35.104, 118.356", "118.356 35.104", "经度118.356，纬度35.104", "35.104,118.356\n"],
)
def test_pasted_text_gives_latitude_and_longitude_in_either_order(text):
    assert geo.parse_point(text) == (35.104, 118.356)


def test_two_small_numbers_are_read_in_the_web_maps_order():
    assert geo.parse_point("80.5,40.25") == (40.25, 80.5)


@pytest.mark.parametrize("text", ["", "118.356", "1,2,3", "abc", "200.1,35", "35,-200.5"])
def test_what_is_not_a_point_is_refused_with_an_explanation(text):
    with pytest.raises(geo.CoordinateError) as refused:
        geo.parse_point(text)
    assert "经" in str(refused.value)


def test_an_unknown_system_is_refused():
    with pytest.raises(geo.CoordinateError):
        geo.to_wgs84(35.0, 118.0, "mercator")


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True))
def test_any_numbers_either_convert_or_are_refused_never_crash(lat, lon):
    for system in geo.SYSTEMS:
        try:
            converted = geo.to_wgs84(lat, lon, system)
        except geo.CoordinateError:
            continue
        assert math.isfinite(converted.lat) and math.isfinite(converted.lon)
