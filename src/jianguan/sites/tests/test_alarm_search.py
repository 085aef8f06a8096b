"""Finding alarms: the alarm list's filters (state, district, project, category, dates), the same filters on
the API, and the CSV export, always within what the user may read."""

from __future__ import annotations

import csv
import datetime as dt
import io
from types import SimpleNamespace
from urllib.parse import unquote

import pytest
from django.test import Client
from django.utils import timezone

from jianguan.projects.models import State
from jianguan.sites.alarms import search as alarm_search
from jianguan.sites.models import Alarm, Device, LimitRule
from jianguan.testing import factories as f

BEIJING = timezone.get_default_timezone()


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, 0, tzinfo=BEIJING)


def alarm(device, parameter, raised_at, state=Alarm.State.ACTIVE, comment="", value=120.0) -> Alarm:
    rule = LimitRule.objects.filter(parameter=parameter, jurisdiction=None).first()
    return Alarm.objects.create(
        project=device.project,
        device=device,
        rule=rule,
        parameter=parameter,
        severity="warning",
        state=state,
        raised_at=raised_at,
        first_value=value,
        last_value=value,
        peak_value=value,
        comment=comment,
    )


@pytest.fixture
def city(lanshan, luozhuang, lanshan_regulator, bureau_admin):
    east = f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=lanshan, name="沂河湾安置房一期")
    south = f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=luozhuang, name="罗庄物流园仓库")
    dust_e = Device.objects.create(project=east, name="东门监测", kind="dust_noise", protocol="hj212", mn="S1")
    crane_e = Device.objects.create(project=east, name="1号塔吊", kind="crane", protocol="mqtt", mqtt_client_id="c1")
    dust_s = Device.objects.create(project=south, name="南门监测", kind="dust_noise", protocol="hj212", mn="S2")
    alarms = SimpleNamespace(
        pm25_east=alarm(dust_e, "a34004", at(20, 9)),
        wind_east=alarm(crane_e, "a01007", at(21, 14), state=Alarm.State.CLEARED, value=12.5),
        noise_east=alarm(dust_e, "LA", at(22, 23), state=Alarm.State.ACKNOWLEDGED, comment='=HYPERLINK("x")'),
        pm25_south=alarm(dust_s, "a34004", at(22, 8), state=Alarm.State.RESOLVED),
    )
    return SimpleNamespace(east=east, south=south, a=alarms, regulator=lanshan_regulator, admin=bureau_admin)


def ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


def test_each_filter_narrows_within_what_the_user_may_read(city):
    a, admin = city.a, city.admin
    search = lambda **kw: ids(alarm_search.search(admin, alarm_search.AlarmQuery(**kw)))  # noqa: E731
    everything = {a.pm25_east.pk, a.wind_east.pk, a.noise_east.pk, a.pm25_south.pk}
    assert search(state="all") == everything
    assert search() == {a.pm25_east.pk, a.noise_east.pk}  # default: the open ones (active, acknowledged)
    assert search(state="cleared") == {a.wind_east.pk}
    assert search(state="nonsense") == set()
    assert search(state="all", jurisdiction="371311") == {a.pm25_south.pk}
    assert search(state="all", q="沂河湾") == {a.pm25_east.pk, a.wind_east.pk, a.noise_east.pk}
    assert search(state="all", q=city.south.code) == {a.pm25_south.pk}
    assert search(state="all", parameter="a34004") == {a.pm25_east.pk, a.pm25_south.pk}
    # Days are Beijing days: 22 Nov 23:00 is still the 22nd, though it is the 22nd 15:00 in UTC.
    assert search(state="all", since=dt.date(2026, 11, 22)) == {a.noise_east.pk, a.pm25_south.pk}
    assert search(state="all", until=dt.date(2026, 11, 21)) == {a.pm25_east.pk, a.wind_east.pk}
    assert search(state="all", since=dt.date(2026, 11, 21), until=dt.date(2026, 11, 21)) == {a.wind_east.pk}
    assert search(state="all", since=dt.date.min, until=dt.date.max) == everything  # the calendar's ends
    # A district regulator asking for another district gets nothing of it.
    reg = alarm_search.AlarmQuery(state="all", jurisdiction="371311")
    assert ids(alarm_search.search(city.regulator, reg)) == set()
    assert [j.code for j in alarm_search.districts(city.admin)] == ["371302", "371311"]
    assert [j.code for j in alarm_search.districts(city.regulator)] == ["371302"]
    labels = dict(alarm_search.parameters())
    assert labels["a34004"] == "PM2.5" and labels["LA"] == "施工噪声" and labels["moment_pct"] == "塔机力矩"


def test_the_page_filters_keeps_them_in_its_links_and_reports_bad_input(city):
    client = Client()
    client.force_login(city.admin)
    page = client.get("/sites/alarms/", {"state": "all", "parameter": "a34004", "q": "罗庄 物流"})
    body = page.content.decode()
    assert page.status_code == 200
    assert f'id="alarm-{city.a.pm25_south.pk}"' not in body  # "罗庄 物流" with a space matches no name
    page = client.get("/sites/alarms/", {"state": "all", "parameter": "a34004", "jurisdiction": "371311"})
    body = page.content.decode()
    assert f'id="alarm-{city.a.pm25_south.pk}"' in body and f'id="alarm-{city.a.pm25_east.pk}"' not in body
    assert 'data-prepend="1"' not in body  # narrowed: new alarms from the feed may not match
    assert "/sites/alarms/export.csv?state=all&amp;jurisdiction=371311&amp;parameter=a34004" in body
    assert '<option value="371311" selected>' in body  # the bureau sees the district filter
    bad = client.get("/sites/alarms/", {"since": "2026-11-21", "until": "2026-11-20", "state": "all"})
    assert "结束日期不能早于开始日期" in bad.content.decode()
    assert bad.context["page"].paginator.count == 3  # the bad "until" is left out; "since" still applies
    assert 'data-prepend="1"' in client.get("/sites/alarms/").content.decode()  # unfiltered: live additions

    regulator = Client()
    regulator.force_login(city.regulator)
    body = regulator.get("/sites/alarms/").content.decode()
    assert 'name="jurisdiction"' not in body  # one district only: no district filter
    empty = regulator.get("/sites/alarms/", {"q": "不存在的项目"}).content.decode()
    assert "没有符合条件的告警，请调整筛选条件。" in empty


def test_export_is_the_filtered_list_as_csv_for_excel(city):
    client = Client()
    client.force_login(city.regulator)
    response = client.get("/sites/alarms/export.csv", {"state": "all"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="jianguan-alarms-')
    assert "现场告警-" in unquote(disposition.split("filename*=UTF-8''")[1])
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel needs the BOM to read UTF-8
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == alarm_search.CSV_HEADER
    by_id = {int(r[0]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert set(by_id) == {city.a.pm25_east.pk, city.a.wind_east.pk, city.a.noise_east.pk}  # not Luozhuang's
    noise = by_id[city.a.noise_east.pk]
    assert noise["发生时间"] == "2026-11-22 23:00:00" and noise["区县"] == "兰山区"
    assert noise["项目名称"] == "沂河湾安置房一期" and noise["状态"] == "已确认"
    assert noise["处理意见"] == '\'=HYPERLINK("x")'  # a formula is not run by the spreadsheet
    wind = by_id[city.a.wind_east.pk]
    assert wind["峰值"] == "12.5" and wind["告警规则"] == "风速（塔机停止吊装）" and wind["单位"] == "m/s"
    only_open = client.get("/sites/alarms/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(only_open.streaming_content).decode("utf-8-sig"))))
    assert {int(r[0]) for r in rows[1:]} == {city.a.pm25_east.pk, city.a.noise_east.pk}
    assert Client().get("/sites/alarms/export.csv").status_code == 302  # to the login page


def test_the_api_takes_the_same_filters(city):
    client = Client()
    client.force_login(city.admin)

    def listed(**params):
        response = client.get("/api/alarms", params)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert len(listed()) == 4  # the API's default stays: every state
    assert listed(state="open") == {city.a.pm25_east.pk, city.a.noise_east.pk}
    assert listed(jurisdiction="371302", parameter="LA") == {city.a.noise_east.pk}
    assert listed(since="2026-11-22", until="2026-11-22") == {city.a.noise_east.pk, city.a.pm25_south.pk}
    assert listed(q="罗庄", project_id=city.south.pk) == {city.a.pm25_south.pk}
    assert client.get("/api/alarms", {"state": "bogus"}).status_code == 422
    assert client.get("/api/alarms", {"since": "not-a-date"}).status_code == 422
    assert client.get("/api/alarms", {"since": "0001-01-01", "until": "9999-12-31"}).status_code == 200
