"""A PM2.5 exceedance sustained past the window raises one alarm, notifies the district bureau and the
general contractor, and clears after the values fall; redelivered packets do not count twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from jianguan.accounts.models import ApiToken, Department, User
from jianguan.notify.models import Notification
from jianguan.projects.models import State
from jianguan.sites.devices import identity
from jianguan.sites.devices import services as device_services
from jianguan.sites.ingest import store
from jianguan.sites.models import Alarm, LimitRule, Reading
from jianguan.sites.protocols import hj212
from jianguan.testing import factories as f

T0 = dt.datetime(2026, 11, 20, 10, 0, 0)  # Beijing time, daytime


def packet(mn, minute, pm25, flag="N", noise=60.0):
    when = T0 + dt.timedelta(minutes=minute)
    return hj212.decode(
        hj212.frame_segment(
            f"QN={when:%Y%m%d%H%M%S}000;ST=22;CN=2011;PW=123456;MN={mn};Flag=5;"
            f"CP=&&DataTime={when:%Y%m%d%H%M%S};a34004-Rtd={pm25},a34004-Flag={flag};LA-Rtd={noise},LA-Flag=N&&"
        )
    )


@pytest.fixture
def site(db):
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION)
    dept = Department.objects.create(name="兰山区住建局", kind="housing", jurisdiction=project.jurisdiction)
    regulator = f.UserFactory(role=User.Role.DISTRICT_REGULATOR, department=dept)
    gc = project.participants.get(role="general_contractor").enterprise
    builder = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=gc)
    bystander = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=f.EnterpriseFactory())
    identity.invalidate_cache()
    device = device_services.register_device(
        regulator,
        project,
        {"name": "东门监测", "kind": "dust_noise", "protocol": "hj212", "mn": "DUST1", "password": "123456"},
    )
    return device, regulator, builder, bystander


def test_default_limits_name_their_source(db):
    pm25 = LimitRule.objects.get(parameter="a34004")
    assert pm25.warning == 75 and not pm25.confirmed
    night = LimitRule.objects.get(parameter="LA", period="night")
    assert night.warning == 55 and night.confirmed and "GB 12523" in night.source


def test_sustained_pm25_exceedance_raises_notifies_and_clears(site, django_capture_on_commit_callbacks):
    device, regulator, builder, bystander = site
    values = [60, 90, 95, 100, 120, 110, 50, 40, 30]  # 3 over (sustain) → raise at the 4th reading
    for minute, value in enumerate(values):
        # Notifications go out once the readings are committed (a task), as in the gateway.
        with django_capture_on_commit_callbacks(execute=True):
            store.store_packet(packet(device.mn, minute, value))
            store.store_packet(packet(device.mn, minute, value))  # redelivery: no double counting
    alarm = Alarm.objects.get()
    assert alarm.parameter == "a34004" and alarm.severity == "warning"
    assert alarm.raised_at == dt.datetime(2026, 11, 20, 2, 3, tzinfo=dt.UTC)
    assert alarm.peak_value == 120 and alarm.state == Alarm.State.CLEARED
    assert alarm.cleared_at == dt.datetime(2026, 11, 20, 2, 8, tzinfo=dt.UTC)
    raised = Notification.objects.filter(topic="alarm.raise")
    assert {n.recipient for n in raised} == {regulator, builder}
    assert "PM2.5" in raised[0].title and "默认值待确认" in raised[0].body
    assert Notification.objects.filter(topic="alarm.clear").count() == 2
    assert not Notification.objects.filter(recipient=bystander).exists()
    assert Reading.objects.filter(device=device, parameter="a34004").count() == len(values)
    from jianguan.ledger.models import LedgerEntry

    kinds = list(LedgerEntry.objects.filter(record_type="sites.alarm").order_by("index").values_list("kind", flat=True))
    assert kinds == ["alarm.raise", "alarm.clear"]


def test_non_normal_flags_do_not_count(site):
    device, *_ = site
    for minute in range(6):
        store.store_packet(packet(device.mn, minute, 300, flag="M"))  # maintenance values are stored only
    assert not Alarm.objects.exists()
    assert Reading.objects.filter(device=device, parameter="a34004", flag="M").count() == 6


def test_night_noise_limit_and_escalation(site):
    device, *_ = site
    night = dt.timedelta(hours=13)  # 23:00 Beijing time
    for minute, noise in enumerate([58, 59, 60, 75]):
        p = packet(device.mn, minute, 20, noise=noise)
        p.cp.data_time = T0 + night + dt.timedelta(minutes=minute)
        store.store_packet(p)
    alarm = Alarm.objects.get(parameter="LA")
    assert alarm.rule.period == "night" and alarm.severity == "critical"


def test_alarm_lifecycle_api(site):
    device, regulator, builder, bystander = site
    for minute, value in enumerate([90, 95, 100]):
        store.store_packet(packet(device.mn, minute, value))
    alarm = Alarm.objects.get()

    def client(user):
        _, key = ApiToken.issue(user, "t")
        return Client(HTTP_AUTHORIZATION=f"Bearer {key}")

    assert client(bystander).get("/api/alarms").json()["items"] == []
    assert (
        client(bystander)
        .post(f"/api/alarms/{alarm.pk}/acknowledge", {"comment": "x"}, content_type="application/json")
        .status_code
        == 404
    )
    c = client(builder)
    assert (
        c.post(f"/api/alarms/{alarm.pk}/acknowledge", {"comment": " "}, content_type="application/json").status_code
        == 422
    )
    ack = c.post(f"/api/alarms/{alarm.pk}/acknowledge", {"comment": "已开启雾炮降尘"}, content_type="application/json")
    assert ack.status_code == 200 and ack.json()["state"] == "acknowledged"
    assert (
        c.post(f"/api/alarms/{alarm.pk}/resolve", {"comment": "x"}, content_type="application/json").status_code == 403
    )
    done = client(regulator).post(
        f"/api/alarms/{alarm.pk}/resolve", {"comment": "复查达标"}, content_type="application/json"
    )
    assert done.status_code == 200 and done.json()["state"] == "resolved"


def test_alarm_pages_and_inbox(site, django_capture_on_commit_callbacks):
    device, _, builder, bystander = site
    with django_capture_on_commit_callbacks(execute=True):
        for minute, value in enumerate([90, 95, 100]):
            store.store_packet(packet(device.mn, minute, value))
    alarm = Alarm.objects.get()
    web = Client()
    web.force_login(builder)
    listing = web.get("/sites/alarms/").content.decode()
    assert f'id="alarm-{alarm.pk}"' in listing and "PM2.5" in listing
    assert "现场设备与告警" in web.get(f"/projects/{device.project_id}/").content.decode()
    web.post(f"/sites/alarms/{alarm.pk}/acknowledge/", {"comment": "雾炮已开启"})
    alarm.refresh_from_db()
    assert alarm.state == Alarm.State.ACKNOWLEDGED
    page = web.get("/projects/").content.decode()
    assert 'badge bad">1<' in page  # one unread notification
    inbox = web.get("/notifications/").content.decode()
    assert "超标告警" in inbox
    assert 'badge bad">' not in web.get("/projects/").content.decode().split("</nav>")[0]
    other = Client()
    other.force_login(bystander)
    assert f'id="alarm-{alarm.pk}"' not in other.get("/sites/alarms/").content.decode()
    assert other.post(f"/sites/alarms/{alarm.pk}/resolve/", {"comment": "x"}).status_code == 404
    # The site may acknowledge, not resolve: the page says 403 (not "updated"), and an unknown action is no page.
    assert web.post(f"/sites/alarms/{alarm.pk}/resolve/", {"comment": "x"}).status_code == 403
    assert web.post(f"/sites/alarms/{alarm.pk}/delete/", {"comment": "x"}).status_code == 404
    alarm.refresh_from_db()
    assert alarm.state == Alarm.State.ACKNOWLEDGED


def test_raise_and_clear_within_one_batch(site, django_capture_on_commit_callbacks):
    """A gateway batch may hold a whole exceedance: the alarm is inserted once, as it ended, with both
    events in the evidence log and both announced."""
    from jianguan.ledger.models import LedgerEntry

    device, regulator, *_ = site
    values = [90, 95, 100, 130, 40, 30, 20]  # raise at the 3rd, peak 130, clear at the 7th
    batch = [(device.pk, store.rows_from_packet(packet(device.mn, m, v))) for m, v in enumerate(values)]
    with django_capture_on_commit_callbacks(execute=True):
        store.store_batch(batch)
    alarm = Alarm.objects.get()
    assert alarm.state == Alarm.State.CLEARED and alarm.peak_value == 130 and alarm.first_value == 100
    assert alarm.raised_at == dt.datetime(2026, 11, 20, 2, 2, tzinfo=dt.UTC)
    entries = LedgerEntry.objects.filter(record_type="sites.alarm", record_id=str(alarm.pk)).order_by("index")
    assert [e.kind for e in entries] == ["alarm.raise", "alarm.clear"]
    assert '"value":100' in entries[0].leaf_data.replace(" ", "")  # the raise as it was then
    assert Notification.objects.filter(recipient=regulator).count() == 2
    from jianguan.sites.models import RuleState

    assert RuleState.objects.get(device=device, rule=alarm.rule).alarm is None
