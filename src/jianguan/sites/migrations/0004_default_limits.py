"""Default limits from ../shared/domain (each names its source; unconfirmed ones are marked so)."""

from django.db import migrations

DEFAULTS = [
    # name, parameter, unit, device_kind, period, warning, critical, source, confirmed
    ("PM2.5", "a34004", "µg/m³", "", "all", 75, 150,
     "GB 3095-2012 二级24小时浓度限值（参考值，山东施工扬尘地方限值待确认）", False),
    ("PM10", "a34002", "µg/m³", "", "all", 150, 300, "山东省施工扬尘PM10小时均值预警（默认值，待确认）", False),
    ("施工噪声（昼间）", "LA", "dB(A)", "", "day", 70, None, "GB 12523-2011 昼间70 dB(A)", True),
    ("施工噪声（夜间）", "LA", "dB(A)", "", "night", 55, 70, "GB 12523-2011 夜间55 dB(A)", True),
    ("风速（塔机停止吊装）", "a01007", "m/s", "crane", "all", 10.8, None, "JGJ 33 / GB 5144：六级风及以上停止吊装", True),
]


def create(apps, schema_editor):
    LimitRule = apps.get_model("sites", "LimitRule")
    for name, parameter, unit, kind, period, warning, critical, source, confirmed in DEFAULTS:
        LimitRule.objects.get_or_create(
            parameter=parameter,
            jurisdiction=None,
            device_kind=kind,
            period=period,
            defaults=dict(name=name, unit=unit, warning=warning, critical=critical, source=source, confirmed=confirmed),
        )


class Migration(migrations.Migration):
    dependencies = [("sites", "0003_limits_alarms")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
