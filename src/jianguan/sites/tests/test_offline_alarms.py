"""A monitor that goes silent raises an alarm (issue 8, finding 4): the scheduled job raises 设备离线 for an
active dust/noise monitor of a site under construction whose last data is older than max(3 × its interval,
15 minutes), shows it where alarms show (list, live feed, project page, notifications, evidence log) and clears
it when data resumes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from jianguan.ledger.models import LedgerEntry
from jianguan.notify.models import Notification
from jianguan.projects.models import State
from jianguan.sites import tasks
from jianguan.sites.alarms import live, offline
from jianguan.sites.alarms.rules import rules_in_period
from jianguan.sites.ingest import store
from jianguan.sites.models import OFFLINE_PARAMETER, Alarm, Device, LimitRule, Reading
from jianguan.sites.protocols import telemetry
from jianguan.testing import factories as f

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def receiving_for_a_day(db):
    """The platform has heard its monitors for a day (the watch counts silence from then at the earliest)."""
    cache.set(offline.RECEIVING_KEY, (timezone.now() - dt.timedelta(days=1)).isoformat(), None)


@pytest.fixture
def project(lanshan):
    return f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=lanshan, name="沂河湾安置房")


def monitor(project, key: str, silent_for: dt.timedelta | None, now: dt.datetime, **extra) -> Device:
    fields = {"name": f"监测{key}", "kind": "dust_noise", "protocol": "hj212", "mn": key, "rtd_interval_s": 60}
    device = Device.objects.create(project=project, **(fields | extra))
    last_seen = None if silent_for is None else now - silent_for
    Device.objects.filter(pk=device.pk).update(last_seen_at=last_seen, created_at=now - dt.timedelta(days=30))
    device.refresh_from_db()
    return device


def offline_alarms():
    return Alarm.objects.filter(parameter=OFFLINE_PARAMETER)


def test_a_silent_monitor_raises_an_offline_alarm_that_clears_when_its_data_resumes(project, lanshan_regulator):
    now = timezone.now()
    silent = monitor(project, "OFF01", 20 * MINUTE, now)
    monitor(project, "OFF02", MINUTE, now)  # the platform still hears the others
    watcher = live.AlarmWatch(lanshan_regulator)
    watcher.poll()  # the live feed's baseline

    assert offline.check(now) == (1, 0)
    alarm = offline_alarms().get()
    assert (alarm.device, alarm.rule.name, alarm.state, alarm.first_value) == (silent, "设备离线", "active", 20.0)
    # Where alarms show: the live feed, the alarm list, the project page, the notices, the evidence log.
    sent, _ = watcher.poll()
    assert [a.pk for a in sent] == [alarm.pk] and "已 20 分钟无数据" in watcher.render(alarm)
    web = Client()
    web.force_login(lanshan_regulator)
    listed = web.get("/sites/alarms/").content.decode()
    assert "设备离线" in listed and "已 20 分钟无数据" in listed
    assert "已 20 分钟无数据" in web.get(f"/projects/{project.pk}/").content.decode()
    assert web.get("/api/alarms?parameter=offline").json()["items"][0]["rule"] == "设备离线"
    note = Notification.objects.get(recipient=lanshan_regulator, topic="alarm.raise")
    assert note.title == "【设备离线】沂河湾安置房 监测OFF01" and "20 分钟未收到数据" in note.body
    raised = LedgerEntry.objects.get(kind="alarm.raise", record_id=str(alarm.pk))
    assert '"parameter":"offline"' in raised.leaf_data

    # Still silent a minute later: the same alarm, its minutes counted on; no second notice.
    assert offline.check(now + MINUTE) == (0, 0)
    alarm.refresh_from_db()
    assert (offline_alarms().count(), alarm.last_value) == (1, 21.0)
    assert Notification.objects.filter(recipient=lanshan_regulator).count() == 1

    # Data comes in again through the ingest path: the next run clears the alarm.
    sample = store.Sample("a34004", Reading.Series.REALTIME, now, 40.0, None, None, "N")
    store.store_batch([(silent.pk, [sample])])
    assert offline.check(now + 2 * MINUTE) == (0, 1)
    alarm.refresh_from_db()
    assert alarm.state == Alarm.State.CLEARED and alarm.cleared_at is not None
    assert LedgerEntry.objects.filter(kind="alarm.clear", record_id=str(alarm.pk)).exists()
    cleared = Notification.objects.get(recipient=lanshan_regulator, topic="alarm.clear")
    assert "设备恢复上报" in cleared.title and "数据已恢复" in cleared.body


def test_the_allowed_silence_is_a_multiple_of_the_interval_with_a_floor(settings):
    every_minute, every_ten = Device(rtd_interval_s=60), Device(rtd_interval_s=600)
    # max(3 × interval, 15 minutes), plus the 30 s a gateway may wait before it writes last_seen_at
    assert offline.allowed_silence(every_minute) == dt.timedelta(minutes=15, seconds=30)
    assert offline.allowed_silence(every_ten) == dt.timedelta(minutes=30, seconds=30)
    settings.DEVICE_OFFLINE_MIN_MINUTES, settings.DEVICE_OFFLINE_INTERVALS = 5, 2
    assert offline.allowed_silence(every_minute) == dt.timedelta(minutes=5, seconds=30)
    assert offline.allowed_silence(every_ten) == dt.timedelta(minutes=20, seconds=30)


def test_quick_and_slow_monitors_each_get_their_own_allowance(project):
    now = timezone.now()
    monitor(project, "LIVE", MINUTE, now)
    slow = monitor(project, "SLOW", 20 * MINUTE, now, rtd_interval_s=600)
    quick = monitor(project, "QUICK", 16 * MINUTE, now)
    assert offline.check(now) == (1, 0)
    assert offline_alarms().get().device == quick  # slow may stay silent 30.5 minutes
    assert offline.check(now + 11 * MINUTE) == (1, 0)
    assert set(offline_alarms().values_list("device", flat=True)) == {quick.pk, slow.pk}


def test_only_active_monitors_of_sites_under_construction_are_watched(project, lanshan):
    now = timezone.now()
    monitor(project, "LIVE", MINUTE, now)
    monitor(project, "GONE", 2 * 60 * MINUTE, now, retired_at=now - 60 * MINUTE)
    monitor(project, "CRANE", 2 * 60 * MINUTE, now, kind="crane", protocol="mqtt", mn=None, mqtt_client_id="c1")
    monitor(project, "GATE", 2 * 60 * MINUTE, now, kind="gate", protocol="http", mn=None)
    stopped = f.staffed_project(state=State.SUSPENDED, jurisdiction=lanshan)
    monitor(stopped, "STOP", 2 * 60 * MINUTE, now)
    never = monitor(project, "NEVER", None, now)  # registered a month ago, never reported: silent since then
    assert offline.check(now) == (1, 0)
    assert offline_alarms().get().device == never


def test_after_an_outage_of_the_platform_the_monitors_get_their_allowance_to_reconnect(project):
    now = timezone.now()
    first = monitor(project, "A", 40 * MINUTE, now)
    late = monitor(project, "B", 50 * MINUTE, now)
    assert offline.check(now) == (0, 0)  # nobody reports: the platform's ingest is down, not every site at once
    Device.objects.filter(pk=first.pk).update(last_seen_at=now + MINUTE)  # the ingest is back
    assert offline.check(now + 2 * MINUTE) == (0, 0)  # B may still be reconnecting
    Device.objects.filter(pk=first.pk).update(last_seen_at=now + 16 * MINUTE)
    assert offline.check(now + 17 * MINUTE) == (0, 0)
    assert offline.check(now + 18 * MINUTE) == (1, 0)  # 16 minutes since the platform hears its monitors again
    alarm = offline_alarms().get()
    assert alarm.device == late and alarm.first_value == 68.0  # minutes since B's own last data


def test_a_resolved_episode_is_not_raised_again_until_data_resumed(project, lanshan_regulator):
    from jianguan.sites.alarms import handling

    now = timezone.now()
    others = monitor(project, "LIVE", MINUTE, now)
    silent = monitor(project, "OFF", 20 * MINUTE, now)
    offline.check(now)
    alarm = offline_alarms().get()
    handling.resolve(lanshan_regulator, alarm, "已电话通知项目部")
    assert offline.check(now + 5 * MINUTE) == (0, 0)
    Device.objects.filter(pk=silent.pk).update(last_seen_at=now + 6 * MINUTE)
    assert offline.check(now + 7 * MINUTE) == (0, 1)
    alarm.refresh_from_db()
    assert alarm.state == Alarm.State.RESOLVED and alarm.cleared_at == now + 6 * MINUTE
    Device.objects.filter(pk=others.pk).update(last_seen_at=now + 29 * MINUTE)
    assert offline.check(now + 30 * MINUTE) == (1, 0)  # silent again: a new episode
    assert offline_alarms().count() == 2


def test_the_scheduled_job_runs_the_watch_and_the_rule_switches_it_off(project):
    now = timezone.now()
    monitor(project, "LIVE", MINUTE, now)
    monitor(project, "OFF", 30 * MINUTE, now)
    LimitRule.objects.filter(parameter=OFFLINE_PARAMETER).update(active=False)
    tasks.watch_silent_devices.call_local()
    assert not offline_alarms().exists()
    LimitRule.objects.filter(parameter=OFFLINE_PARAMETER).update(active=True)
    tasks.watch_silent_devices.call_local()
    assert offline_alarms().count() == 1


def test_a_reading_named_offline_raises_nothing_and_the_limit_pages_leave_the_rule_out(project, bureau_admin):
    assert rules_in_period(project.jurisdiction_id, "dust_noise", OFFLINE_PARAMETER, "day") == []
    with pytest.raises(telemetry.TelemetryError, match="derived by the platform"):
        telemetry.parse_payload({"values": {"offline": 1}}, timezone.now())  # MQTT/HTTP devices may not send it
    web = Client()
    web.force_login(bureau_admin)
    assert "设备离线" not in web.get("/sites/limits/").content.decode()
    refused = web.post(
        "/sites/limits/new/",
        {"name": "离线", "parameter": "offline", "unit": "", "device_kind": "", "period": "all", "warning": 1,
         "sustain": 1, "clear_ratio": 0.9, "clear_count": 1, "source": "x"},
    )  # fmt: skip
    assert refused.status_code == 200 and "设备离线" in refused.content.decode()
    assert not LimitRule.objects.filter(parameter=OFFLINE_PARAMETER, jurisdiction__isnull=False).exists()
