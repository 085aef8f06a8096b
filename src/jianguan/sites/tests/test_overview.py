"""The monitoring overview: the user's monitors with their latest valid values (over-limit marked by the limit
of their time), online state and open alarms, worst first; filters; nobody sees another district's."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from jianguan.projects.models import State
from jianguan.sites.alarms import rules
from jianguan.sites.models import Alarm, Device, LimitRule, Reading
from jianguan.sites.readings import overview
from jianguan.testing import factories as f


def reading(device, parameter, ago: dt.timedelta, value, flag="N"):
    Reading.objects.create(
        device=device, parameter=parameter, series=0, ts=timezone.now() - ago, value=value, flag=flag
    )


@pytest.fixture
def sites(lanshan, luozhuang, lanshan_regulator, bureau_admin):
    def monitor(name, jurisdiction, mn, seen=True):
        project = f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=jurisdiction, name=name)
        device = Device.objects.create(
            project=project, name="大门监测", kind="dust_noise", protocol="hj212", mn=mn,
            last_seen_at=timezone.now() if seen else None,
        )  # fmt: skip
        return device

    clean = monitor("清洁工地", lanshan, "M1")
    dusty = monitor("扬尘工地", lanshan, "M2")
    silent = monitor("断线工地", lanshan, "M3", seen=False)
    south = monitor("罗庄工地", luozhuang, "M4")
    minute = dt.timedelta(minutes=1)
    reading(clean, "a34004", 5 * minute, 30.0)
    reading(clean, "a34004", 3 * minute, 999.0, flag="D")  # a fault flag: not the latest value
    reading(clean, "LA", 2 * minute, 60.0)
    reading(dusty, "a34004", 2 * minute, 96.0)
    reading(dusty, "a34002", 2 * minute, 120.0)
    reading(silent, "a34004", dt.timedelta(hours=3), 200.0)  # too old to be "latest"
    reading(south, "a34004", minute, 50.0)
    Alarm.objects.create(
        project=dusty.project, device=dusty, rule=LimitRule.objects.get(parameter="a34004", jurisdiction=None),
        parameter="a34004", severity="warning", raised_at=timezone.now(), first_value=96, last_value=96,
        peak_value=96,
    )  # fmt: skip
    return SimpleNamespace(
        clean=clean, dusty=dusty, silent=silent, south=south, regulator=lanshan_regulator, admin=bureau_admin
    )


def test_latest_values_limits_and_order(sites, monkeypatch):

    monkeypatch.setattr(rules, "period_of", lambda ts: LimitRule.Period.DAY)  # noise 60 < 70 by day
    data = overview.overview(sites.regulator)
    assert [r.device for r in data.rows] == [sites.dusty, sites.clean, sites.silent]  # over first; Luozhuang's not
    assert (data.total, data.online, data.offline, data.over, data.alarmed) == (3, 2, 1, 1, 1)
    dusty, clean, silent = data.rows
    assert dusty.values["a34004"].value == 96.0 and dusty.values["a34004"].over and dusty.open_alarms == 1
    assert not dusty.values["a34002"].over and dusty.values["LA"] is None
    assert clean.values["a34004"].value == 30.0  # the fault-flagged 999 is skipped
    assert not clean.values["LA"].over
    assert silent.values == {"a34004": None, "a34002": None, "LA": None}
    monkeypatch.setattr(rules, "period_of", lambda ts: LimitRule.Period.NIGHT)
    assert overview.overview(sites.regulator, q="清洁").rows[0].values["LA"].over  # 60 > 55 at night
    assert [r.device for r in overview.overview(sites.regulator, status="offline").rows] == [sites.silent]
    assert [r.device for r in overview.overview(sites.regulator, status="alarm").rows] == [sites.dusty]
    assert [r.device for r in overview.overview(sites.admin, jurisdiction="371311").rows] == [sites.south]
    assert overview.overview(sites.regulator, kind="crane").rows == []


def test_the_page(sites):
    client = Client()
    client.force_login(sites.admin)
    page = client.get("/sites/monitors/").content.decode()
    assert page.index(f'id="monitor-{sites.dusty.pk}"') < page.index(f'id="monitor-{sites.south.pk}"')
    assert 'class="row-over"' in page and "96.0" in page and '<option value="371311"' in page
    assert f'href="/sites/alarms/?q={sites.dusty.project.code}"' in page
    page = client.get("/sites/monitors/", {"kind": "crane"}).content.decode()
    assert "您的权限范围内尚无此类设备" in page
    page = client.get("/sites/monitors/", {"q": "不存在"}).content.decode()
    assert "没有符合条件的设备" in page
    regulator = Client()
    regulator.force_login(sites.regulator)
    page = regulator.get("/sites/monitors/").content.decode()
    assert f'id="monitor-{sites.south.pk}"' not in page and 'name="jurisdiction"' not in page
    assert Client().get("/sites/monitors/").status_code == 302


def test_latest_values_are_computed_once_for_all_users_for_a_short_while(sites, django_assert_num_queries):
    from django.core.cache import cache

    overview.overview(sites.admin)
    reading(sites.clean, "a34004", dt.timedelta(seconds=10), 41.0)
    with django_assert_num_queries(2):  # the regulator's devices with open alarms, the limits: no readings
        data = overview.overview(sites.regulator)
    assert next(r for r in data.rows if r.device == sites.clean).values["a34004"].value == 30.0
    cache.delete(f"sites-overview-latest:{Device.Kind.DUST_NOISE}")  # as LATEST_SECONDS running out does
    data = overview.overview(sites.regulator)
    assert next(r for r in data.rows if r.device == sites.clean).values["a34004"].value == 41.0
