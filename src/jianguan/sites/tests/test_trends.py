"""A device's trend: bucket means and maxima of the valid values, the limits that apply (by time of day where
they differ, a district's own before the city's), the latest values; on the API and the project page."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from jianguan.accounts.models import Department, User
from jianguan.projects.models import State
from jianguan.sites.models import Device, LimitRule, Reading
from jianguan.sites.readings import trends
from jianguan.testing import factories as f

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)  # 23:00 in Linyi: night for noise


def reading(device, parameter, ts, value, series=Reading.Series.REALTIME, flag="N"):
    Reading.objects.create(device=device, parameter=parameter, series=series, ts=ts, value=value, flag=flag)


@pytest.fixture
def site(lanshan, luozhuang, lanshan_regulator):
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=lanshan)
    monitor = Device.objects.create(project=project, name="东门监测", kind="dust_noise", protocol="hj212", mn="T1")
    gate = Device.objects.create(project=project, name="东门闸机", kind="gate", protocol="http")
    other = f.UserFactory(
        role=User.Role.DISTRICT_REGULATOR,
        department=Department.objects.create(name="罗庄区住建局", kind="housing", jurisdiction=luozhuang),
    )
    return SimpleNamespace(project=project, monitor=monitor, gate=gate, regulator=lanshan_regulator, other=other)


def test_buckets_hold_the_mean_and_maximum_of_valid_values(site):
    m = site.monitor
    start = NOW - dt.timedelta(hours=24)
    reading(m, "a34004", start - dt.timedelta(minutes=1), 500.0)  # before the window
    reading(m, "a34004", start + dt.timedelta(minutes=1), 40.0)
    reading(m, "a34004", start + dt.timedelta(minutes=5), 60.0)
    reading(m, "a34004", start + dt.timedelta(minutes=7), 999.0, flag="D")  # device fault: not a value
    reading(m, "a34004", start + dt.timedelta(minutes=25), 90.0)
    reading(m, "a34002", start + dt.timedelta(minutes=3), 120.0, series=Reading.Series.MINUTE)  # minute data only
    reading(m, "LA", NOW - dt.timedelta(minutes=2), 60.0)
    trend = trends.device_trend(m, hours=24, now=NOW)
    assert trend.bucket == dt.timedelta(minutes=10) and trend.since == start
    by = {s.parameter: s for s in trend.series}
    assert list(by) == ["a34004", "a34002", "LA"]  # the kind's order; TSP sent nothing
    pm25 = by["a34004"]
    assert pm25.points == [(start, 50.0, 60.0), (start + dt.timedelta(minutes=20), 90.0, 90.0)]
    assert (pm25.label, pm25.unit, pm25.latest_value) == ("PM2.5", "µg/m³", 90.0)
    assert [(lim.label, lim.warning, lim.critical) for lim in pm25.limits] == [("限值", 75.0, 150.0)]
    assert by["a34002"].points == [(start, 120.0, 120.0)]
    noise = by["LA"]
    assert [(lim.label, lim.warning) for lim in noise.limits] == [("昼间限值", 70.0), ("夜间限值", 55.0)]
    assert noise.latest_over  # 60 dB(A) at 22:58 is over the night limit, though under the day one
    assert pm25.latest_over  # 90 > 75
    assert not by["a34002"].latest_over  # 120 < 150
    week = trends.device_trend(m, hours=1000, now=NOW)
    assert week.since == NOW - dt.timedelta(hours=168) and week.bucket == dt.timedelta(minutes=70)


def test_a_districts_own_limit_replaces_the_citys(site):
    LimitRule.objects.create(
        name="PM2.5（兰山区）", parameter="a34004", unit="µg/m³", jurisdiction=site.project.jurisdiction,
        period="all", warning=60, critical=None, source="兰山区通知",
    )  # fmt: skip
    limits, unit = trends.limits_for(site.monitor, "a34004")
    assert [(lim.label, lim.warning, lim.critical) for lim in limits] == [("限值", 60.0, None)] and unit == "µg/m³"


def test_api_gives_the_trend_to_those_who_may_read_the_project(site):
    now = timezone.now()
    reading(site.monitor, "a34004", now - dt.timedelta(hours=2), 80.0)
    client = Client()
    client.force_login(site.regulator)
    body = client.get(f"/api/devices/{site.monitor.pk}/trend", {"hours": 6}).json()
    assert body["device_name"] == "东门监测" and body["bucket_minutes"] == 2
    [series] = body["series"]
    assert series["parameter"] == "a34004" and series["latest_value"] == 80.0
    assert len(series["points"]) == 1 and series["points"][0][1:] == [80.0, 80.0]
    assert series["limits"] == [{"label": "限值", "warning": 75.0, "critical": 150.0}]
    assert client.get(f"/api/devices/{site.monitor.pk}/trend", {"hours": 0}).status_code == 422
    assert client.get(f"/api/devices/{site.gate.pk}/trend").json()["series"] == []  # nothing to chart
    outsider = Client()
    outsider.force_login(site.other)
    assert outsider.get(f"/api/devices/{site.monitor.pk}/trend").status_code == 404


def test_project_page_shows_the_latest_values_and_the_chart(site):
    client = Client()
    client.force_login(site.regulator)
    page = client.get(f"/projects/{site.project.pk}/").content.decode()
    assert "data-trend=" not in page and "echarts" not in page  # no readings yet: no empty chart
    now = timezone.now()
    reading(site.monitor, "a34004", now - dt.timedelta(minutes=3), 88.0)
    reading(site.monitor, "a34002", now - dt.timedelta(minutes=3), 101.0)
    page = client.get(f"/projects/{site.project.pk}/").content.decode()
    assert 'PM2.5 <strong>88.0</strong> µg/m³ <span class="badge bad">超标</span>' in page
    assert "PM10 <strong>101.0</strong> µg/m³</span>" in page
    assert f'data-trend="/api/devices/{site.monitor.pk}/trend"' in page
    assert "vendor/echarts-6.1.0/echarts.common.min.js" in page and 'data-hours="168"' in page


def test_readings_export_one_row_per_time_for_a_spreadsheet(site):
    import csv
    import io

    now = timezone.now().replace(microsecond=0)
    t1, t2 = now - dt.timedelta(minutes=2), now - dt.timedelta(minutes=1)
    reading(site.monitor, "a34004", t1, 41.5)
    reading(site.monitor, "LA", t1, 58.0)
    reading(site.monitor, "a34004", t2, 999.0, flag="D")
    reading(site.monitor, "a34004", now - dt.timedelta(days=3), 10.0)  # outside one day, inside seven
    client = Client()
    client.force_login(site.regulator)
    response = client.get(f"/sites/devices/{site.monitor.pk}/readings.csv", {"days": 1})
    assert response.status_code == 200 and "filename*=UTF-8''" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["时间", "PM2.5（µg/m³）", "施工噪声（dB(A)）", "异常标记"]
    local = lambda t: timezone.localtime(t).strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    assert rows[1:] == [[local(t1), "41.5", "58", ""], [local(t2), "999", "", "PM2.5:D"]]
    week = client.get(f"/sites/devices/{site.monitor.pk}/readings.csv", {"days": "x"})  # a bad value: 7 days
    assert len(list(csv.reader(io.StringIO(b"".join(week.streaming_content).decode("utf-8-sig"))))) == 4
    outsider = Client()
    outsider.force_login(site.other)
    assert outsider.get(f"/sites/devices/{site.monitor.pk}/readings.csv").status_code == 404
    page = client.get(f"/projects/{site.project.pk}/").content.decode()
    assert f"/sites/devices/{site.monitor.pk}/readings.csv?days=7" in page
