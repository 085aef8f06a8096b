"""Readings at volume: hourly/daily roll-ups (across a Beijing midnight), idempotent re-runs and late data,
retention that deletes only aggregated raw rows, the daily digest in the evidence log, the aggregates API."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from jianguan.accounts.models import ApiToken, User
from jianguan.ledger.models import LedgerEntry
from jianguan.projects.models import State
from jianguan.sites import tasks
from jianguan.sites.models import (
    Alarm,
    Device,
    LimitRule,
    Reading,
    ReadingAggregate,
    ReadingDigest,
    ReadingPurge,
)
from jianguan.sites.readings import aggregates
from jianguan.testing import factories as f

BJ = dt.timezone(dt.timedelta(hours=8))
# Relative to today, so the days stay inside the retention horizon whenever the suite runs.
DAY = timezone.localdate() - dt.timedelta(days=10)
NEXT = DAY + dt.timedelta(days=1)
RT = Reading.Series.REALTIME


def bj(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=BJ)


def add(device, at, value, parameter="a34004", flag="N", series=RT):
    Reading.objects.create(device=device, parameter=parameter, series=series, ts=at, value=value, flag=flag)


def agg(device, bucket, start, parameter="a34004", series=RT) -> ReadingAggregate:
    return ReadingAggregate.objects.get(device=device, parameter=parameter, series=series, bucket=bucket, start=start)


@pytest.fixture
def site(db):
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION)
    device = Device.objects.create(project=project, name="东门监测", kind="dust_noise", protocol="hj212", mn="AGG1")
    return device


def fill_midnight(device):
    """Day: 10:00 and 10:20; 23:30, 23:45 and a faulty 23:50. Next day: 00:30 and 00:40 and a row without value."""
    add(device, bj(DAY, 10, 0), 40.0)
    add(device, bj(DAY, 10, 20), 20.0)
    add(device, bj(DAY, 23, 30), 60.0)
    add(device, bj(DAY, 23, 45), 80.0)
    add(device, bj(DAY, 23, 50), 999.0, flag="D")  # device fault: counted as flagged, not in the figures
    add(device, bj(NEXT, 0, 30), 90.0)
    add(device, bj(NEXT, 0, 40), 70.0)
    add(device, bj(NEXT, 0, 50), None)
    add(device, bj(DAY, 23, 30), 55.0, parameter="LA")  # another parameter: its own buckets


def test_rollup_across_an_hour_and_a_beijing_midnight(site):
    fill_midnight(site)
    result = aggregates.rollup(aggregates.day_start(DAY), aggregates.day_end(NEXT))
    assert result.hours == 48 and result.days == 2

    late = agg(site, "hour", bj(DAY, 23))
    assert late.start == dt.datetime.combine(DAY, dt.time(15), tzinfo=dt.UTC)  # UTC-aligned, = 23:00 Beijing
    assert (late.count, late.min_value, late.max_value, late.mean, late.flagged) == (2, 60.0, 80.0, 70.0, 1)
    assert late.last_value == 80.0 and late.last_ts == bj(DAY, 23, 45)  # the faulty 23:50 is not "last"
    early = agg(site, "hour", bj(NEXT, 0))
    assert (early.count, early.min_value, early.max_value, early.mean, early.flagged) == (2, 70.0, 90.0, 80.0, 1)
    assert early.last_value == 70.0

    day = agg(site, "day", aggregates.day_start(DAY))
    assert day.start == bj(DAY, 0)  # the bureau's day: local midnight
    assert (day.count, day.min_value, day.max_value, day.total, day.flagged) == (4, 20.0, 80.0, 200.0, 1)
    assert day.mean == 50.0 and day.last_value == 80.0
    next_day = agg(site, "day", bj(NEXT, 0))
    assert (next_day.count, next_day.mean, next_day.max_value, next_day.flagged) == (2, 80.0, 90.0, 1)
    assert agg(site, "day", bj(DAY, 0), parameter="LA").count == 1
    # Over PM2.5's 75: 80 at 23:45 and 90 at 00:30 (the faulty 999 is no value); noise 55 at night is not over 55.
    assert (late.over, early.over, day.over, next_day.over) == (1, 1, 1, 1)
    assert agg(site, "hour", bj(DAY, 23), parameter="LA").over == 0
    assert ReadingAggregate.objects.filter(bucket="hour").count() == 4  # 10:00, 23:00 (×2 parameters), 00:00
    assert ReadingAggregate.objects.filter(bucket="day").count() == 3


def test_exceedances_count_by_the_limit_of_their_hour_and_district(site):
    from jianguan.sites.models import LimitRule

    for minute, (hour, value) in enumerate(((21, 60.0), (21, 72.0), (22, 60.0), (22, 50.0))):
        add(site, bj(DAY, hour, minute), value, parameter="LA")  # noise: day until 22:00, then night
    add(site, bj(DAY, 9, 0), 65.0)  # PM2.5 65: under the city's 75 ...
    LimitRule.objects.create(
        name="PM2.5（本区）",
        parameter="a34004",
        unit="µg/m³",
        jurisdiction=site.project.jurisdiction,
        period="all",
        warning=60,
        source="区通知",
    )  # fmt: skip  ... over the district's own 60
    aggregates.rollup(aggregates.day_start(DAY), aggregates.day_end(DAY))
    assert agg(site, "hour", bj(DAY, 21), parameter="LA").over == 1  # 72 > 70 by day; 60 is not
    assert agg(site, "hour", bj(DAY, 22), parameter="LA").over == 1  # 60 > 55 at night; 50 is not
    assert agg(site, "day", bj(DAY, 0), parameter="LA").over == 2
    assert agg(site, "hour", bj(DAY, 9)).over == 1
    add(site, bj(DAY, 9, 0), 70.0, parameter="a01001")  # temperature: no limit, nothing is over
    aggregates.rollup(aggregates.day_start(DAY), aggregates.day_end(DAY))
    assert agg(site, "hour", bj(DAY, 9), parameter="a01001").over == 0


def test_rerun_is_idempotent_and_late_data_is_taken_in(site):
    fill_midnight(site)
    since, until = aggregates.day_start(DAY), aggregates.day_end(NEXT)
    aggregates.rollup(since, until)
    before = list(ReadingAggregate.objects.order_by("pk").values_list("pk", "count", "total", "max_value"))
    aggregates.rollup(since, until)
    assert list(ReadingAggregate.objects.order_by("pk").values_list("pk", "count", "total", "max_value")) == before

    # A device spooled through an outage and replays 23:10 the next morning; the next re-roll takes it in.
    add(site, bj(DAY, 23, 10), 120.0)
    aggregates.rollup(bj(DAY, 23), bj(DAY, 23, 59))
    late = agg(site, "hour", bj(DAY, 23))
    assert (late.count, late.max_value, late.last_value) == (3, 120.0, 80.0)
    day = agg(site, "day", bj(DAY, 0))
    assert (day.count, day.max_value, day.total) == (5, 120.0, 320.0)
    assert ReadingAggregate.objects.count() == len(before)


def test_periodic_job_rolls_the_lookback_and_finishes_the_previous_day(site, settings):
    settings.READINGS_ROLLUP_LOOKBACK_HOURS = 6
    fill_midnight(site)
    result = aggregates.rollup_recent(now=bj(NEXT, 1, 5))
    assert result.hours == 7 and result.days == 2  # 19:00 … 01:00
    assert agg(site, "day", bj(DAY, 0)).count == 2  # 10:00 is outside the look-back and was never rolled
    assert agg(site, "day", bj(NEXT, 0)).count == 2
    tasks.rollup_readings()  # the scheduled task itself (immediate mode in tests) runs without error


def test_retention_deletes_only_old_aggregated_raw_rows(site, settings):
    settings.READINGS_RETENTION_DAYS = 180
    settings.READINGS_HOURLY_RETENTION_DAYS = 190
    today = timezone.localdate()
    old, older, recent = (today - dt.timedelta(days=n) for n in (181, 200, 179))
    for day in (old, older, recent):
        add(site, bj(day, 9), 30.0)
        add(site, bj(day, 21), 50.0)
    add(site, bj(old, 9), 60.0, parameter="LA")

    out = StringIO()
    call_command("readings_retention", "--dry-run", stdout=out)
    assert f"{older}：将删除原始数据 2 条" in out.getvalue() and f"{old}：将删除原始数据 3 条" in out.getvalue()
    assert "将删除：2 天的原始数据 5 条" in out.getvalue()
    assert Reading.objects.count() == 7 and not ReadingAggregate.objects.exists()  # a dry run changes nothing

    result = aggregates.apply_retention()
    assert (result.days, result.readings) == (2, 5)
    assert set(Reading.objects.values_list("ts", flat=True)) == {bj(recent, 9), bj(recent, 21)}
    # The deleted days live on in their daily aggregates; hourly ones past 190 days are pruned.
    assert agg(site, "day", bj(old, 0)).count == 2 and agg(site, "day", bj(old, 0), parameter="LA").count == 1
    assert agg(site, "day", bj(older, 0)).mean == 40.0
    assert ReadingAggregate.objects.filter(bucket="hour", start__lt=bj(old, 0)).count() == 0
    assert ReadingAggregate.objects.filter(bucket="hour", start__gte=bj(old, 0)).count() == 3
    assert result.hourly == 2

    assert ReadingPurge.objects.get(day=old).rows == 3

    # Stragglers replayed months late for a purged day do not re-roll it, even with the horizon moved back …
    add(site, bj(old, 10), 500.0)
    add(site, bj(old, 11), 1.0, parameter="a34002")
    settings.READINGS_RETENTION_DAYS = 400
    aggregates.rollup(bj(old, 0), bj(old + dt.timedelta(days=1), 0))
    assert agg(site, "day", bj(old, 0)).max_value == 50.0
    assert not ReadingAggregate.objects.filter(parameter="a34002").exists()
    # … and the next retention run deletes them uncounted, and says so.
    settings.READINGS_RETENTION_DAYS = 180
    out = StringIO()
    call_command("readings_retention", "--dry-run", stdout=out)
    assert f"{old}：已清理过；迟到数据 2 条将删除" in out.getvalue()
    again = aggregates.apply_retention()
    assert (again.days, again.readings, again.stragglers) == (1, 2, 2)
    assert agg(site, "day", bj(old, 0)).max_value == 50.0
    assert ReadingPurge.objects.get(day=old).rows == 5
    assert not Reading.objects.filter(ts__lt=bj(recent, 0)).exists()


def test_only_raw_rows_covered_by_a_day_aggregate_are_deleted(site):
    fill_midnight(site)
    aggregates.rollup(aggregates.day_start(DAY), aggregates.day_end(DAY))
    add(site, bj(DAY, 11), 1.0, parameter="a34002")  # arrived after the roll-up: no aggregate yet
    assert aggregates._delete_day(DAY) == 6  # a34004: 5 rows, LA: 1
    assert list(Reading.objects.filter(ts__lt=bj(NEXT, 0)).values_list("parameter", flat=True)) == ["a34002"]


def test_retention_off_keeps_everything(site, settings):
    settings.READINGS_RETENTION_DAYS = 0
    settings.READINGS_HOURLY_RETENTION_DAYS = 0
    add(site, bj(timezone.localdate() - dt.timedelta(days=900), 9), 30.0)
    assert aggregates.apply_retention() == aggregates.RetentionResult()
    assert Reading.objects.count() == 1


def test_rollup_command_backfills_a_range(site):
    fill_midnight(site)
    out = StringIO()
    call_command("readings_rollup", "--since", DAY.isoformat(), "--until", NEXT.isoformat(), stdout=out)
    assert "48 个小时窗，2 天" in out.getvalue()
    assert agg(site, "day", bj(DAY, 0)).count == 4


def _alarm(device, at):
    rule = LimitRule.objects.filter(parameter="a34004").first()
    return Alarm.objects.create(
        project=device.project,
        device=device,
        rule=rule,
        parameter="a34004",
        severity="warning",
        raised_at=at,
        first_value=90,
        last_value=90,
        peak_value=120,
    )


def test_daily_digest_goes_into_the_evidence_log_once(site, settings):
    settings.READINGS_ROLLUP_LOOKBACK_HOURS = 6
    other = Device.objects.create(
        project=f.staffed_project(), name="塔吊", kind="dust_noise", protocol="hj212", mn="AGG2"
    )
    fill_midnight(site)
    add(other, bj(DAY, 12), 33.0)
    _alarm(site, bj(DAY, 23, 40))
    _alarm(site, bj(NEXT, 0, 10))  # the next day's: not in this digest

    assert aggregates.digest_pending(now=bj(NEXT, 5)) == 0  # late data may still come: too early
    assert aggregates.digest_pending(now=bj(NEXT, 7)) == 2  # rolls the day up itself, then digests
    assert aggregates.digest_pending(now=bj(NEXT, 8)) == 0  # once per project and day
    assert aggregates.digest_day(DAY) == 0

    entries = LedgerEntry.objects.filter(kind="sites.daily_digest")
    assert entries.count() == 2
    entry = entries.get(scope=f"project:{site.project_id}")
    assert entry.record_type == "sites.daily_digest" and entry.record_id == f"{site.project_id}:{DAY.isoformat()}"
    content = json.loads(entry.leaf_data)["content"]
    assert content["project"] == site.project.code and content["day"] == DAY.isoformat()
    assert content["readings"] == [
        {"device": "AGG1", "parameter": "LA", "series": 0, "count": 1, "mean": 55.0, "min": 55.0, "max": 55.0,
         "flagged": 0, "over": 0},
        {"device": "AGG1", "parameter": "a34004", "series": 0, "count": 4, "mean": 50.0, "min": 20.0, "max": 80.0,
         "flagged": 1, "over": 1},
    ]  # fmt: skip
    assert content["alarms_raised"] == 1
    assert content["alarms"] == [{"parameter": "a34004", "severity": "warning", "count": 1}]
    marker = ReadingDigest.objects.get(project=site.project, day=DAY)
    assert marker.ledger_index == entry.index
    tasks.digest_readings()  # the scheduled task runs (nothing pending for today's clock)


def test_aggregates_api_follows_the_readings_visibility(site, luozhuang_regulator):
    fill_midnight(site)
    aggregates.rollup(aggregates.day_start(DAY), aggregates.day_end(NEXT))
    gc = site.project.participants.get(role="general_contractor").enterprise
    builder = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=gc)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {ApiToken.issue(builder, 't')[1]}")
    url = f"/api/devices/{site.pk}/aggregates"

    hours = client.get(url, {"parameter": "a34004"}).json()
    assert hours["count"] == 3
    first = hours["items"][0]
    assert first["bucket"] == "hour" and first["count"] == 2 and first["mean"] == 80.0 and first["flagged"] == 1
    assert first["over"] == 1
    days = client.get(url, {"bucket": "day", "since": bj(NEXT, 0).isoformat()}).json()
    assert [(d["parameter"], d["count"], d["max_value"]) for d in days["items"]] == [("a34004", 2, 90.0)]
    assert client.get(url, {"bucket": "week"}).status_code == 422
    newest = client.get(url, {"page_size": 1}).json()["items"][0]
    assert dt.datetime.fromisoformat(newest["start"].replace("Z", "+00:00")) == bj(NEXT, 0)

    outsider = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=f.EnterpriseFactory())
    for user in (outsider, luozhuang_regulator):  # another firm, another district's regulator: no leak
        other = Client(HTTP_AUTHORIZATION=f"Bearer {ApiToken.issue(user, 't')[1]}")
        assert other.get(url).status_code == 404
        assert other.get(f"/api/devices/{site.pk}/readings").status_code == 404
    assert client.get("/api/devices/999999/aggregates").status_code == 404


def test_last_value_is_the_latest_valid_time_to_the_microsecond(site):
    at = bj(DAY, 10)
    add(site, at, 1.0)
    add(site, at + dt.timedelta(microseconds=250_000), 2.0)
    add(site, at + dt.timedelta(seconds=30, microseconds=500_000), 4.0)
    add(site, at + dt.timedelta(seconds=59), 3.0, flag="M")  # maintenance: later, but not valid
    add(site, at + dt.timedelta(seconds=5), 9.0, series=Reading.Series.MINUTE)  # another series, its own bucket
    aggregates.roll_hour(at)
    hour = agg(site, "hour", at)
    assert (hour.count, hour.last_value, hour.last_ts, hour.flagged) == (3, 4.0, at + dt.timedelta(seconds=30.5), 1)
    assert agg(site, "hour", at, series=Reading.Series.MINUTE).last_value == 9.0
    aggregates.roll_day(DAY)
    assert agg(site, "day", bj(DAY, 0)).last_value == 4.0
