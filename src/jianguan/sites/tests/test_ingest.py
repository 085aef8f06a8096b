"""HJ 212 over a real socket into the database: stored, answered, idempotent, unknown devices counted."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from django.test import Client

from jianguan.accounts.models import ApiToken, User
from jianguan.projects.models import State
from jianguan.sites import services
from jianguan.sites.ingest import build_gateway
from jianguan.sites.models import Device, Reading
from jianguan.sites.protocols import hj212
from jianguan.sites.protocols.gateway import send_packets
from jianguan.testing import factories as f


def upload(mn: str, pw: str, when: dt.datetime, pm25: str, *, flag: int = 5, cn: str = "2011") -> bytes:
    segment = (
        f"QN={when:%Y%m%d%H%M%S}000;ST=22;CN={cn};PW={pw};MN={mn};Flag={flag};"
        f"CP=&&DataTime={when:%Y%m%d%H%M%S};a34004-Rtd={pm25},a34004-Flag=N;a34002-Rtd=88.0,a34002-Flag=N;"
        f"LA-Rtd=61.2,LA-Flag=N&&"
    )
    return hj212.frame_segment(segment)


@pytest.fixture
def device(transactional_db, lanshan_regulator):
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION)
    services.invalidate_cache()
    return services.register_device(
        lanshan_regulator,
        project,
        {
            "name": "东门扬尘监测",
            "kind": "dust_noise",
            "protocol": "hj212",
            "mn": "LY371302DUST0001",
            "password": "123456",
        },
    )


@pytest.fixture
def gateway():
    gw = build_gateway("127.0.0.1", 0)
    stop = gw.run_in_thread()
    yield gw
    stop()


def test_packets_over_tcp_are_stored_and_answered(device, gateway):
    when = dt.datetime(2026, 11, 20, 10, 0, 0)
    frames = [
        upload(device.mn, "123456", when, "35.2"),
        upload(device.mn, "123456", when + dt.timedelta(minutes=1), "40.1"),
    ]
    responses = asyncio.run(send_packets("127.0.0.1", gateway.port, frames + frames[:1], expect=3))
    answers = [hj212.decode(r) for r in responses]
    assert [a.cn for a in answers] == ["9014"] * 3
    rows = Reading.objects.filter(device=device, parameter="a34004").order_by("ts")
    assert [r.value for r in rows] == [35.2, 40.1]  # the redelivered first packet stored nothing new
    assert rows[0].ts == dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)  # Beijing time → UTC
    assert Reading.objects.filter(device=device).count() == 6
    device.refresh_from_db()
    assert device.online


def test_wrong_password_unknown_device_and_garbage_do_not_store(device, gateway):
    when = dt.datetime(2026, 11, 20, 11, 0, 0)
    frames = [
        upload(device.mn, "wrong", when, "30"),
        upload("UNKNOWN000000001", "123456", when, "30"),
        b"##garbage\r\n",
        upload(device.mn, "123456", when, "31"),
    ]
    responses = asyncio.run(send_packets("127.0.0.1", gateway.port, frames, expect=3, timeout=5))
    # Wrong password and unknown MN are answered with 9011 rejections; the good upload with 9014.
    assert [hj212.decode(r).cn for r in responses] == ["9011", "9011", "9014"]
    stats = gateway.stats.snapshot()
    assert stats["bad_password"] >= 1 and stats["unknown_device"] >= 1
    assert list(Reading.objects.filter(device=device, parameter="a34004").values_list("value", flat=True)) == [31.0]


def test_device_api_registration_and_readings(device, lanshan_regulator):
    project = device.project
    gc = project.participants.get(role="general_contractor").enterprise
    builder = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=gc)
    outsider = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=f.EnterpriseFactory())
    _, key = ApiToken.issue(builder, "t")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    body = {"name": "塔吊1号", "kind": "crane", "protocol": "mqtt"}
    assert client.post(f"/api/projects/{project.pk}/devices", body, content_type="application/json").status_code == 201
    missing = {"name": "西门", "kind": "dust_noise", "protocol": "hj212", "mn": "LY2"}
    assert (
        client.post(f"/api/projects/{project.pk}/devices", missing, content_type="application/json").status_code == 422
    )
    _, okey = ApiToken.issue(outsider, "t")
    other = Client(HTTP_AUTHORIZATION=f"Bearer {okey}")
    assert other.post(f"/api/projects/{project.pk}/devices", body, content_type="application/json").status_code == 404
    services.store_packet(hj212.decode(upload(device.mn, "123456", dt.datetime(2026, 11, 20, 12), "55")))
    listed = client.get(f"/api/devices/{device.pk}/readings?parameter=a34004").json()
    assert [i["value"] for i in listed["items"]] == [55.0]
    assert other.get(f"/api/devices/{device.pk}/readings").status_code == 404
    assert Device.objects.filter(project=project).count() == 2
