"""Device passwords cannot be guessed at wire speed (issue 8, finding 6), through the platform: the HJ 212 gateway
answers an unknown MN and a wrong password alike, refuses a guessed MN, and the district bureau of the device's
project hears of the episode once; the HTTP ingest refuses an address that keeps presenting wrong tokens."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time

import pytest
from django.test import Client

from jianguan.notify.models import Notification
from jianguan.projects.models import State
from jianguan.sites.devices import identity
from jianguan.sites.devices import services as device_services
from jianguan.sites.ingest.hj212_gateway import build_gateway
from jianguan.sites.protocols import hj212
from jianguan.sites.protocols.gateway import AuthThrottle, send_packets
from jianguan.testing import factories as f

from .test_ingest import upload

WHEN = dt.datetime(2026, 11, 20, 10, 0, 0)
TELEMETRY = json.dumps({"ts": "2026-11-20T10:00:00+08:00", "values": {"wind_ms": 5.0}})


@pytest.fixture
def project(transactional_db, lanshan):
    return f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=lanshan, name="沂河湾安置房")


@pytest.fixture
def monitor(project, lanshan_regulator):
    identity.invalidate_cache()
    return device_services.register_device(
        lanshan_regulator,
        project,
        {"name": "东门扬尘监测", "kind": "dust_noise", "protocol": "hj212", "mn": "LY371302GUESS001", "password": "7"},
    )


def exchange(gateway, frame: bytes) -> bytes | None:
    answers = asyncio.run(send_packets("127.0.0.1", gateway.port, [frame], expect=1, timeout=3))
    return answers[0] if answers else None


def wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_guessing_a_monitors_password_is_refused_and_told_to_its_district_once(
    monitor, lanshan_regulator, luozhuang_regulator
):
    gateway = build_gateway(
        "127.0.0.1", 0, auth_throttle=AuthThrottle(mn_failures=5, ip_failures=1000, failure_delay=0.05)
    )
    stop = gateway.run_in_thread()
    try:
        unknown = hj212.decode(exchange(gateway, upload("LY371302NOSUCH01", "0", WHEN, "30")))
        wrong = hj212.decode(exchange(gateway, upload(monitor.mn, "0", WHEN, "30")))
        assert (unknown.cn, unknown.cp.params) == (wrong.cn, wrong.cp.params) == ("9011", {"QnRtn": "3"})
        for guess in range(1, 8):  # a 1-digit password falls in ten tries: not here
            exchange(gateway, upload(monitor.mn, str(guess), WHEN, "30"))
        assert exchange(gateway, upload(monitor.mn, "7", WHEN, "30")) is None  # refused unchecked: no oracle
        assert wait_for(lambda: Notification.objects.filter(topic="device.guessing").exists())
        time.sleep(0.3)
        notes = Notification.objects.filter(topic="device.guessing")
        assert [n.recipient for n in notes] == [lanshan_regulator]  # its district, once: not per packet
        note = notes.get()
        assert note.title == "【设备密码疑似被猜测】沂河湾安置房 东门扬尘监测" and "5 次密码错误" in note.body
        stats = gateway.stats.snapshot()
        assert stats["guessing_episodes"] == {"mn_known": 1} and stats["throttled"]["mn_blocked"] >= 3
    finally:
        stop()
    # Another gateway process of the same city does not tell the district again within the episode.
    second = build_gateway(
        "127.0.0.1", 0, auth_throttle=AuthThrottle(mn_failures=2, ip_failures=1000, failure_delay=0.05)
    )
    stop = second.run_in_thread()
    try:
        for guess in range(2):
            exchange(second, upload(monitor.mn, f"x{guess}", WHEN, "30"))
        assert wait_for(lambda: second.stats.snapshot()["guessing_episodes"] == {"mn_known": 1})
        time.sleep(0.3)
        assert Notification.objects.filter(topic="device.guessing").count() == 1
    finally:
        stop()


def test_guessing_unknown_mns_is_counted_and_logged_not_told_to_a_district(monitor, caplog):
    gateway = build_gateway("127.0.0.1", 0, auth_throttle=AuthThrottle(mn_failures=2, ip_failures=3, failure_delay=0))
    stop = gateway.run_in_thread()
    try:
        for i in range(4):
            exchange(gateway, upload(f"LY371302NOSUCH{i:02d}", "1", WHEN, "30"))
        exchange(gateway, upload("LY371302NOSUCH00", "1", WHEN, "30"))
        assert wait_for(lambda: gateway.stats.snapshot()["guessing_episodes"].get("ip") == 1)
    finally:
        stop()
    assert not Notification.objects.filter(topic="device.guessing").exists()
    assert "password guessing? ip 127.0.0.1" in caplog.text


def test_wrong_device_tokens_from_one_address_are_refused_with_429(project, lanshan_regulator, settings):
    settings.DEVICE_TOKEN_MAX_FAILURES = 3
    gate = device_services.register_device(
        lanshan_regulator, project, {"name": "闸机", "kind": "gate", "protocol": "http"}
    )
    post = lambda token, ip="203.0.113.7": Client(HTTP_X_DEVICE_TOKEN=token, REMOTE_ADDR=ip).post(  # noqa: E731
        "/api/ingest/telemetry", TELEMETRY, content_type="application/json"
    )
    assert Client(REMOTE_ADDR="203.0.113.7").post("/api/ingest/telemetry").status_code == 401  # no token: no guess
    assert [post(f"jgd_guess{i}").status_code for i in range(3)] == [401, 401, 401]
    refused = post(gate.issued_token)  # even the right token: the address is refused unchecked for a while
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert refused["Retry-After"] == "600"
    assert post(gate.issued_token, ip="198.51.100.2").status_code == 202  # another address goes on
    schema = Client().get("/api/openapi.json").json()["paths"]
    assert "429" in schema["/api/ingest/telemetry"]["post"]["responses"]
    assert "429" in schema["/api/ingest/gate"]["post"]["responses"]


def test_a_device_is_accepted_only_from_its_allowed_networks_and_the_contractor_must_ask_to_change_them(
    monitor, project, lanshan_regulator
):
    contractor = f.UserFactory(
        role="enterprise_user", enterprise=project.participants.get(role="general_contractor").enterprise
    )
    regulator, builder = Client(), Client()
    regulator.force_login(lanshan_regulator)
    builder.force_login(contractor)
    url = f"/api/devices/{monitor.pk}"
    bad = regulator.patch(url, {"allowed_networks": "10.0.0.0/33"}, content_type="application/json")
    assert bad.status_code == 422 and "不是有效的网段" in bad.json()["detail"]
    assert regulator.patch(url, {"allowed_networks": "10.0.0.0/8"}, content_type="application/json").status_code == 200
    gateway = build_gateway("127.0.0.1", 0, auth_throttle=AuthThrottle(failure_delay=0.05))
    stop = gateway.run_in_thread()
    try:
        refused = hj212.decode(exchange(gateway, upload(monitor.mn, "7", WHEN, "30")))
        assert refused.cp.params == {"QnRtn": "3"}  # the right password, from 127.0.0.1: as if it were wrong
        asked = builder.patch(
            url, {"allowed_networks": "", "reason": "更换运营商"}, content_type="application/json"
        )  # the contractor would switch the restriction off (or lock its monitor out): the district decides
        assert asked.status_code == 202 and asked.json()["requests"][0]["action"] == "networks"
        assert (
            regulator.patch(
                url, {"allowed_networks": "127.0.0.0/8, 10.0.0.0/8"}, content_type="application/json"
            ).json()["allowed_networks"]
            == "127.0.0.0/8, 10.0.0.0/8"
        )
        accepted = hj212.decode(exchange(gateway, upload(monitor.mn, "7", WHEN + dt.timedelta(minutes=1), "31")))
        assert accepted.cn == "9014"
        assert gateway.stats.snapshot()["source_refused"] == 1
    finally:
        stop()
    gate = device_services.register_device(
        lanshan_regulator, project, {"name": "闸机", "kind": "gate", "protocol": "http"}
    )
    only_hj212 = regulator.patch(
        f"/api/devices/{gate.pk}", {"allowed_networks": "10.0.0.0/8"}, content_type="application/json"
    )
    assert only_hj212.status_code == 422
