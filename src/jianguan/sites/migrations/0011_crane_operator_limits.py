"""The crane defaults added later (塔机起重量, 塔机司机资格): ensure_defaults again (get_or_create: idempotent)."""

from django.db import migrations

from jianguan.sites.limits.defaults import ensure_defaults


def create(apps, schema_editor):
    ensure_defaults(apps.get_model("sites", "LimitRule"))


class Migration(migrations.Migration):
    dependencies = [("sites", "0010_crane_operator_check")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
