import json

import pytest
from django.core.management import CommandError, call_command

from jianguan.core.models import Jurisdiction
from jianguan.testing import factories as f

SQUARE = [[[118.3, 35.0], [118.4, 35.0], [118.4, 35.1], [118.3, 35.1], [118.3, 35.0]]]


def write(tmp_path, features):
    path = tmp_path / "b.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def test_import_replaces_approximate_boundary(db, tmp_path, capsys):
    f.division("371302", "兰山区")
    path = write(
        tmp_path,
        [
            {
                "type": "Feature",
                "properties": {"adcode": 371302},
                "geometry": {"type": "Polygon", "coordinates": SQUARE},
            },
            {
                "type": "Feature",
                "properties": {"adcode": 999999},
                "geometry": {"type": "Polygon", "coordinates": SQUARE},
            },
            {"type": "Feature", "properties": {"name": "x"}, "geometry": {"type": "Polygon", "coordinates": SQUARE}},
        ],
    )
    call_command("import_boundaries", str(path))
    jur = Jurisdiction.objects.get(code="371302")
    assert jur.boundary_approximate is False and jur.boundary["coordinates"] == SQUARE
    out = capsys.readouterr().out
    assert "999999" in out and "跳过" in out


def test_bad_geometry_skipped_not_stored(db, tmp_path):
    f.division("371302", "兰山区")
    bad = [[[1000, 35.0], [118.4, 35.0], [118.4, 35.1], [1000, 35.0]]]
    path = write(
        tmp_path,
        [{"type": "Feature", "properties": {"code": "371302"}, "geometry": {"type": "Polygon", "coordinates": bad}}],
    )
    call_command("import_boundaries", str(path))
    assert Jurisdiction.objects.get(code="371302").boundary_approximate is True


def test_not_geojson(db, tmp_path):
    path = tmp_path / "x.json"
    path.write_text("[1, 2]")
    with pytest.raises(CommandError, match="FeatureCollection"):
        call_command("import_boundaries", str(path))
