"""Linyi's divisions (../shared/domain/linyi.md) and rough demo boundaries around their centres."""

from __future__ import annotations

import math

CITY = ("371300", "临沂市", "city", 35.05, 118.35)
DIVISIONS = [
    ("371302", "兰山区", "district", 35.05, 118.35),
    ("371311", "罗庄区", "district", 34.99, 118.28),
    ("371312", "河东区", "district", 35.09, 118.40),
    ("371321", "沂南县", "county", 35.55, 118.47),
    ("371322", "郯城县", "county", 34.61, 118.37),
    ("371323", "沂水县", "county", 35.79, 118.63),
    ("371324", "兰陵县", "county", 34.86, 118.07),
    ("371325", "费县", "county", 35.27, 117.98),
    ("371326", "平邑县", "county", 35.51, 117.64),
    ("371327", "莒南县", "county", 35.18, 118.84),
    ("371328", "蒙阴县", "county", 35.71, 117.95),
    ("371329", "临沭县", "county", 34.92, 118.65),
]
# Development zones supervised like districts. Codes and centres are NOT confirmed by ../shared/domain:
# they are configurable placeholders (code_confirmed=False), to be replaced by the bureau's own data.
ZONES = [
    ("371371", "临沂高新技术产业开发区", "zone", 35.01, 118.25),
    ("371372", "临沂经济技术开发区", "zone", 35.02, 118.45),
    ("371373", "临沂临港经济开发区", "zone", 35.10, 118.95),
]


def approximate_boundary(lat: float, lon: float, kind: str) -> dict:
    """A rough octagon (GeoJSON Polygon, lon/lat order) for the demo map; real boundaries are imported."""
    radius = {"district": 0.06, "zone": 0.03, "county": 0.18, "city": 0.9}[kind]
    ring = []
    for i in range(8):
        angle = math.pi / 8 + i * math.pi / 4
        ring.append([round(lon + radius * 1.2 * math.cos(angle), 5), round(lat + radius * math.sin(angle), 5)])
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}
