"""Import of real jurisdiction boundaries from GeoJSON (e.g. the official division boundaries).

Features are matched by a 6-digit division code in one of the usual properties (`code`, `adcode`,
`gb`, `GB`); their geometry (Polygon / MultiPolygon, WGS-84) replaces the approximate demo boundary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from .models import Jurisdiction

CODE_PROPERTIES = ("code", "adcode", "gb", "GB", "ADCODE")


class BoundaryImportError(ValueError):
    pass


@dataclass
class ImportReport:
    updated: list[str] = field(default_factory=list)
    unknown_codes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _code(props: dict) -> str | None:
    for key in CODE_PROPERTIES:
        value = props.get(key)
        if value is not None:
            text = str(value).strip()
            # Some sources use 9- or 12-digit codes (156 country prefix / trailing zeros): take the division part.
            if text.startswith("156") and len(text) == 9:
                text = text[3:]
            return text[:6]
    return None


def _check_geometry(geometry: dict) -> None:
    kind = geometry.get("type")
    if kind not in {"Polygon", "MultiPolygon"}:
        raise BoundaryImportError(f"geometry type {kind!r} is not a (Multi)Polygon")
    polygons = geometry["coordinates"] if kind == "MultiPolygon" else [geometry["coordinates"]]
    for polygon in polygons:
        for ring in polygon:
            if len(ring) < 4:
                raise BoundaryImportError("a ring has fewer than 4 positions")
            for lon, lat, *_ in ring:
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise BoundaryImportError(f"position ({lon}, {lat}) is not WGS-84 longitude/latitude")


@transaction.atomic
def import_geojson(path: Path) -> ImportReport:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BoundaryImportError(f"cannot read GeoJSON: {exc}") from exc
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise BoundaryImportError("not a GeoJSON FeatureCollection")
    report = ImportReport()
    known = {j.code: j for j in Jurisdiction.objects.all()}
    for index, feature in enumerate(features):
        props = feature.get("properties") or {}
        code = _code(props)
        if code is None:
            report.skipped.append(f"feature {index}: no division code property")
            continue
        if code not in known:
            report.unknown_codes.append(code)
            continue
        geometry = feature.get("geometry") or {}
        try:
            _check_geometry(geometry)
        except (BoundaryImportError, KeyError, TypeError, ValueError) as exc:
            report.skipped.append(f"{code}: {exc}")
            continue
        jur = known[code]
        jur.boundary = geometry
        jur.boundary_approximate = False
        jur.save(update_fields=["boundary", "boundary_approximate"])
        report.updated.append(code)
    return report
