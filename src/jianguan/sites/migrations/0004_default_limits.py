"""Default limits from ../shared/domain (see jianguan.sites.limits.defaults)."""

from django.db import migrations

from jianguan.sites.limits.defaults import ensure_defaults


def create(apps, schema_editor):
    ensure_defaults(apps.get_model("sites", "LimitRule"))


class Migration(migrations.Migration):
    dependencies = [("sites", "0003_limits_alarms")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
