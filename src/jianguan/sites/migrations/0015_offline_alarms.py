"""设备离线 alarms (sites/alarms/offline.py): one open silence episode per device, and the rule row they name."""

from django.db import migrations, models

from jianguan.sites.limits.defaults import ensure_offline_rule


def create_rule(apps, schema_editor):
    ensure_offline_rule(apps.get_model("sites", "LimitRule"))


class Migration(migrations.Migration):

    dependencies = [
        ('sites', '0014_device_change_requests'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='alarm',
            constraint=models.UniqueConstraint(condition=models.Q(('cleared_at__isnull', True), ('parameter', 'offline')), fields=('device',), name='sites_alarm_one_open_offline_episode'),
        ),
        migrations.RunPython(create_rule, migrations.RunPython.noop),
    ]
