"""Coordinates pasted from Chinese web maps, converted to WGS-84 (what the platform stores). Pure: no Django.

Maps published in China must show GCJ-02 (国测局坐标, "Mars coordinates"): WGS-84 shifted by a published
non-linear offset of a few hundred metres. 高德 (Amap) and 腾讯 (Tencent) give GCJ-02; 百度 (Baidu) adds its
own further offset, BD-09; a GPS receiver and 天地图 give WGS-84 (CGCS2000, the same to within centimetres).
A filer who copies a point from 高德 or 百度 and stores it as WGS-84 puts the site 300-700 m off, outside the
dust monitor's geofence or in the next street, so the filing form asks which map the point came from.

The forward transforms are the widely used public formulas (the same constants as the open-source
`eviltransform` and `coordtransform` libraries); the inverses are solved by fixed-point iteration on the
forward transform, so a round trip returns to the start within 1e-9 degrees. GCJ-02 is defined inside China
only: points outside the usual bounding box are returned unchanged, as the map providers do. Why our own
~100 lines: the PyPI packages for this (`coord-convert`, `eviltransform`) are unmaintained single-author
releases with approximate (non-iterated) inverses.

Pasted text: two numbers in either order ("118.356,35.104" as 高德 and 百度 copy it, "35.104, 118.356" as GPS
apps show it). A number above 90 in absolute value can only be the longitude; when both could be latitudes the
map order (longitude first) is assumed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

WGS84 = "wgs84"
GCJ02 = "gcj02"
BD09 = "bd09"
# The systems a pasted point may be in, as the filer recognises them.
SYSTEMS: dict[str, str] = {
    WGS84: "WGS-84（GPS定位、天地图）",
    GCJ02: "GCJ-02（高德地图、腾讯地图）",
    BD09: "BD-09（百度地图）",
}
SHORT_NAMES: dict[str, str] = {WGS84: "WGS-84", GCJ02: "GCJ-02", BD09: "BD-09"}

# Krasovsky 1940 ellipsoid, as the GCJ-02 formulas use it.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

# The rough box in which GCJ-02 applies (as the providers' own SDKs test it).
CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)

_TOLERANCE = 1e-10  # degrees: the inverse iterations stop below this (≈ 0.01 mm)
_MAX_ITERATIONS = 40


class CoordinateError(ValueError):
    """Text that is not a point, or a system we do not know; the message is for the filer (Chinese)."""


@dataclass(frozen=True)
class Converted:
    """A point in WGS-84 and how it was obtained."""

    lat: float
    lon: float
    source: str  # the system it was given in (WGS84, GCJ02, BD09)
    changed: bool  # whether a conversion moved it (False for WGS-84 input and for points outside China)

    @property
    def note(self) -> str:
        """Names the conversion, for the filer."""
        name = SHORT_NAMES[self.source]
        if self.source == WGS84:
            return "坐标为 WGS-84，未换算"
        if not self.changed:
            return f"坐标位于中国境外，{name} 与 WGS-84 相同，未换算"
        return f"已将 {SYSTEMS[self.source]} 坐标换算为 WGS-84（{name} → WGS-84）"


def out_of_china(lat: float, lon: float) -> bool:
    return not (CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1])


def _offset_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _offset_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _gcj_shift(lat: float, lon: float) -> tuple[float, float]:
    """The GCJ-02 offset (dlat, dlon) in degrees at a WGS-84 point."""
    dlat = _offset_lat(lon - 105.0, lat - 35.0)
    dlon = _offset_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(radlat) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    if out_of_china(lat, lon):
        return lat, lon
    dlat, dlon = _gcj_shift(lat, lon)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """The WGS-84 point whose GCJ-02 image is (lat, lon): fixed-point iteration from the point itself."""
    if out_of_china(lat, lon):
        return lat, lon
    wlat, wlon = lat, lon
    for _ in range(_MAX_ITERATIONS):
        dlat, dlon = _gcj_shift(wlat, wlon)
        err_lat, err_lon = wlat + dlat - lat, wlon + dlon - lon
        wlat, wlon = wlat - err_lat, wlon - err_lon
        if abs(err_lat) < _TOLERANCE and abs(err_lon) < _TOLERANCE:
            break
    return wlat, wlon


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    if out_of_china(lat, lon):
        return lat, lon
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """Baidu's published closed form, then refined on the forward transform (the closed form alone is off by
    up to ~1e-6 degrees)."""
    if out_of_china(lat, lon):
        return lat, lon
    x, y = lon - 0.0065, lat - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    glat, glon = z * math.sin(theta), z * math.cos(theta)
    for _ in range(_MAX_ITERATIONS):
        blat, blon = gcj02_to_bd09(glat, glon)
        err_lat, err_lon = blat - lat, blon - lon
        glat, glon = glat - err_lat, glon - err_lon
        if abs(err_lat) < _TOLERANCE and abs(err_lon) < _TOLERANCE:
            break
    return glat, glon


def wgs84_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))


def bd09_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon))


def to_wgs84(lat: float, lon: float, system: str) -> Converted:
    """A point given in `system` (WGS84, GCJ02, BD09) as WGS-84, naming what was done."""
    _check_range(lat, lon)
    if system == WGS84:
        return Converted(lat, lon, WGS84, False)
    if system == GCJ02:
        wlat, wlon = gcj02_to_wgs84(lat, lon)
    elif system == BD09:
        wlat, wlon = bd09_to_wgs84(lat, lon)
    else:
        raise CoordinateError(f"未知坐标系：{system}")
    return Converted(wlat, wlon, system, (wlat, wlon) != (lat, lon))


_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def parse_point(text: str) -> tuple[float, float]:
    """(lat, lon) from pasted text holding two decimal numbers in either order (see the module's docstring)."""
    numbers = [float(n) for n in _NUMBER.findall(text or "")]
    if len(numbers) != 2:
        raise CoordinateError("请粘贴一对经纬度，如“118.356,35.104”（经度在前）或“35.104, 118.356”")
    first, second = numbers
    if abs(first) > 90 >= abs(second):
        lat, lon = second, first
    elif abs(second) > 90 >= abs(first):
        lat, lon = first, second
    else:  # both could be latitudes: the web maps' order, longitude first
        lat, lon = second, first
    _check_range(lat, lon)
    return lat, lon


def _check_range(lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and math.isfinite(lon)) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise CoordinateError("经纬度超出范围：纬度须在 -90 到 90 之间，经度须在 -180 到 180 之间")
