"""The demo's history shows one 设备离线 alarm, raised and cleared by the real silence watch."""

import datetime as dt

from django.utils import timezone

from jianguan.demo.seed import seed_offline_episode, seed_reading_history
from jianguan.ledger.models import LedgerEntry
from jianguan.projects.models import State
from jianguan.sites.models import OFFLINE_PARAMETER, Alarm, Device, Reading
from jianguan.testing import factories as f


def test_one_monitor_was_offline_for_45_minutes_six_hours_ago(lanshan):
    now = timezone.now()
    monitors = [
        Device.objects.create(
            project=f.ProjectFactory(jurisdiction=lanshan, state=State.UNDER_CONSTRUCTION, is_demo=True),
            name="扬尘噪声监测仪（大门）",
            kind="dust_noise",
            protocol="hj212",
            mn=f"DEMO{i}",
        )
        for i in range(3)
    ]
    seed_reading_history(now)
    chosen = seed_offline_episode(now)
    alarm = Alarm.objects.get(parameter=OFFLINE_PARAMETER)
    assert chosen == monitors[0] and alarm.device == chosen and alarm.state == Alarm.State.CLEARED
    assert alarm.raised_at == now - dt.timedelta(hours=6) + dt.timedelta(minutes=20)
    assert alarm.cleared_at == now - dt.timedelta(hours=6) + dt.timedelta(minutes=45)
    assert {e.kind for e in LedgerEntry.objects.filter(record_id=str(alarm.pk))} == {"alarm.raise", "alarm.clear"}
    gap = Reading.objects.filter(device=chosen, ts__gt=alarm.raised_at, ts__lt=alarm.cleared_at)
    assert not gap.exists() and Reading.objects.filter(device=monitors[1], ts__gt=alarm.raised_at).exists()
    assert not Device.objects.filter(last_seen_at__isnull=False).exists()  # the simulator's packets set it
