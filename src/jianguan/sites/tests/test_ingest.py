"""HJ 212 over a real socket into the database: stored, answered, idempotent, unknown devices counted."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from django.test import Client

from jianguan.accounts.models import ApiToken, User
from jianguan.projects.models import State
from jianguan.sites.devices import identity
from jianguan.sites.devices import services as device_services
from jianguan.sites.ingest import store
from jianguan.sites.ingest.hj212_gateway import build_gateway
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
    identity.invalidate_cache()
    return device_services.register_device(
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


def test_a_running_gateway_takes_in_a_retirement_and_a_new_password_from_elsewhere(device, gateway):
    """Made by the web pages in another process: the gateway reloads its identities when they are
    IDENTITY_TTL old, in a thread (its event loop never queries the database), and answers accordingly."""
    when = dt.datetime(2026, 11, 20, 12, 0, 0)
    send = lambda frames: asyncio.run(send_packets("127.0.0.1", gateway.port, frames, expect=len(frames)))  # noqa: E731
    assert hj212.decode(send([upload(device.mn, "123456", when, "30")])[0]).cn == "9014"
    Device.objects.filter(pk=device.pk).update(password_hash=identity.password_hash("654321"))
    identity._identity_loaded_at -= identity.IDENTITY_TTL + 1
    later = when + dt.timedelta(minutes=1)
    answers = send([upload(device.mn, "123456", later, "31"), upload(device.mn, "654321", later, "32")])
    assert [hj212.decode(a).cn for a in answers] == ["9011", "9014"]
    Device.objects.filter(pk=device.pk).update(retired_at=dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC))
    identity._identity_loaded_at -= identity.IDENTITY_TTL + 1
    retired = when + dt.timedelta(minutes=2)
    assert hj212.decode(send([upload(device.mn, "654321", retired, "33")])[0]).cn == "9011"  # as an unknown device
    assert list(Reading.objects.filter(device=device, parameter="a34004").values_list("value", flat=True)) == [
        30.0,
        32.0,
    ]
    assert gateway.stats.snapshot()["unknown_device"] >= 1


def test_a_data_time_the_device_clock_cannot_mean_is_rejected_and_counted(device, gateway):
    """A clock that is not set (1970, year 1) or far ahead: the reading cannot be placed in time."""

    def with_data_time(text: str, value: str) -> bytes:
        segment = (
            f"QN=20261120100000000;ST=22;CN=2011;PW=123456;MN={device.mn};Flag=5;"
            f"CP=&&DataTime={text};a34004-Rtd={value},a34004-Flag=N&&"
        )
        return hj212.frame_segment(segment)

    frames = [
        with_data_time("00010101000000", "1"),
        with_data_time("19700101080000", "2"),
        with_data_time("20991231000000", "3"),
        upload(device.mn, "123456", dt.datetime(2026, 11, 20, 10, 0, 0), "31"),
    ]
    answers = asyncio.run(send_packets("127.0.0.1", gateway.port, frames, expect=1, timeout=3))
    assert [hj212.decode(a).cn for a in answers] == ["9014"]  # only the good one is answered as stored
    assert list(Reading.objects.filter(parameter="a34004").values_list("value", flat=True)) == [31.0]
    stats = gateway.stats.snapshot()
    assert stats["frames_rejected"].get("bad_field") == 3 and stats.get("handler_errors", 0) == 0


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
    store.store_packet(hj212.decode(upload(device.mn, "123456", dt.datetime(2026, 11, 20, 12), "55")))
    listed = client.get(f"/api/devices/{device.pk}/readings?parameter=a34004").json()
    assert [i["value"] for i in listed["items"]] == [55.0]
    assert other.get(f"/api/devices/{device.pk}/readings").status_code == 404
    assert Device.objects.filter(project=project).count() == 2
    # Times at the calendar's ends cannot be compared in UTC: a clear 422, not a server error.
    for query in ("since=0001-01-01T00:00:00%2B08:00", "until=9999-12-31T23:59:59-08:00"):
        assert client.get(f"/api/devices/{device.pk}/readings?{query}").status_code == 422
        assert client.get(f"/api/devices/{device.pk}/aggregates?{query}").status_code == 422


def test_many_connections_are_stored_in_batches(device, lanshan_regulator):
    """Packets of several devices arriving together share transactions; each is answered after storage."""
    others = [
        device_services.register_device(
            lanshan_regulator,
            device.project,
            {"name": f"监测{i}", "kind": "dust_noise", "protocol": "hj212", "mn": f"LY371302DUST01{i:02d}",
             "password": "123456"},
        )
        for i in range(5)
    ]  # fmt: skip
    gw = build_gateway("127.0.0.1", 0)
    stop = gw.run_in_thread()
    try:
        when = dt.datetime(2026, 11, 20, 13, 0)

        async def all_devices():
            return await asyncio.gather(
                *(
                    send_packets(
                        "127.0.0.1",
                        gw.port,
                        [upload(d.mn, "123456", when + dt.timedelta(minutes=m), str(30 + m)) for m in range(10)],
                        expect=10,
                    )
                    for d in [device, *others]
                )
            )

        answers = asyncio.run(all_devices())
    finally:
        stop()
    assert all(len(a) == 10 and {hj212.decode(r).cn for r in a} == {"9014"} for a in answers)
    assert Reading.objects.count() == 6 * 10 * 3
    stats = gw.writer.stats
    assert stats["packets"] == 60 and stats["stored"] == 180
    assert stats["batches"] <= 60


def test_store_batch_is_idempotent_within_and_across_batches(device):
    when = dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.UTC)
    first = store.rows_from_packet(hj212.decode(upload(device.mn, "123456", when, "20")))
    same = store.rows_from_packet(hj212.decode(upload(device.mn, "123456", when, "20")))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:  # the debug cursor (DEBUG=1, as in the demo) too
        assert store.store_batch([(device.pk, first), (device.pk, same)]) == [3, 0]
    if connection.vendor == "sqlite":  # PostgreSQL's insert goes through psycopg's own cursor, unlogged
        assert any("ON CONFLICT DO NOTHING" in q["sql"] for q in queries.captured_queries)
    assert store.store_batch([(device.pk, same)]) == [0]
    assert Reading.objects.filter(device=device).count() == 3


def test_database_outage_spools_hj212_and_replays_in_order(device, tmp_path):
    """The database goes away: packets are spooled to disk and answered; when it is back, the spool is
    replayed before new packets, and no reading is lost or stored twice."""
    from django.db import OperationalError

    from jianguan.sites.ingest.hj212_gateway import BatchWriter

    down = {"yes": True}
    order: list[int] = []

    def storing(batch):
        if down["yes"]:
            raise OperationalError("connection refused")
        order.extend(s.ts.minute for _, samples in batch for s in samples if s.parameter == "a34004")
        return store.store_batch(batch)

    writer = BatchWriter(storing, spool_path=tmp_path / "hj212.jsonl")
    writer.retry_after = 0
    gw = build_gateway("127.0.0.1", 0, writer=writer)
    stop = gw.run_in_thread()
    try:
        when = dt.datetime(2026, 11, 20, 15, 0)
        frames = [upload(device.mn, "123456", when + dt.timedelta(minutes=m), str(40 + m)) for m in range(4)]
        answers = asyncio.run(send_packets("127.0.0.1", gw.port, frames, expect=4))
        assert [hj212.decode(r).cn for r in answers] == ["9014"] * 4  # safe on disk: answered
        assert len(writer.spool) >= 1 and not Reading.objects.exists()
        down["yes"] = False
        later = [upload(device.mn, "123456", when + dt.timedelta(minutes=m), str(40 + m)) for m in range(4, 6)]
        answers = asyncio.run(send_packets("127.0.0.1", gw.port, later, expect=2))
        assert [hj212.decode(r).cn for r in answers] == ["9014"] * 2
    finally:
        stop()
    assert len(writer.spool) == 0
    assert order == [0, 1, 2, 3, 4, 5]  # the spool first, in order, then the new packets
    values = list(
        Reading.objects.filter(device=device, parameter="a34004").order_by("ts").values_list("value", flat=True)
    )
    assert values == [40.0, 41.0, 42.0, 43.0, 44.0, 45.0]
    assert writer.stats["spooled"] == 4 and writer.stats["replayed"] == 4


def test_a_device_cannot_send_a_platform_derived_reading(device):
    """op_unqualified comes from the crane operator check only: an HJ 212 factor of that name is dropped."""
    when = dt.datetime(2026, 11, 20, 16, 0)
    segment = (
        f"QN={when:%Y%m%d%H%M%S}000;ST=22;CN=2011;PW=123456;MN={device.mn};Flag=5;"
        f"CP=&&DataTime={when:%Y%m%d%H%M%S};a34004-Rtd=30,a34004-Flag=N;op_unqualified-Rtd=0,op_unqualified-Flag=N&&"
    )
    samples = store.rows_from_packet(hj212.decode(hj212.frame_segment(segment)))
    assert [s.parameter for s in samples] == ["a34004"]


def test_one_bad_packet_does_not_fail_the_batch(device, tmp_path):
    """A packet that can never be stored (here: its device was deleted after its identity was cached) fails
    alone; the packets sharing its batch are stored and answered."""
    from jianguan.sites.ingest.hj212_gateway import BatchWriter

    writer = BatchWriter(spool_path=tmp_path / "hj212.jsonl")
    when = dt.datetime(2026, 11, 20, 17, 0)
    good = store.rows_from_packet(hj212.decode(upload(device.mn, "123456", when, "33")))
    ghost = store.rows_from_packet(hj212.decode(upload("GHOST", "123456", when, "33")))
    failures = writer._store_or_spool([(device.pk, good), (device.pk + 10_000, ghost)])
    assert failures[0] is None and failures[1] is not None
    assert list(Reading.objects.filter(device=device, parameter="a34004").values_list("value", flat=True)) == [33.0]
    assert writer.stats["failed"] == 1 and len(writer.spool) == 0
