"""PostgreSQL only: a BRIN index on the readings' time column (append-ordered data: tiny and cheap)."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE INDEX IF NOT EXISTS sites_reading_ts_brin ON sites_reading USING brin (ts)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS sites_reading_ts_brin")


class Migration(migrations.Migration):
    dependencies = [("sites", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
