"""JSON telemetry over HTTP and MQTT (real Mosquitto), spooling through a database outage, and a broker
restart that loses nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import time

import pytest
from django.db import OperationalError
from django.test import Client

from jianguan.projects.models import State
from jianguan.sites.devices import services as device_services
from jianguan.sites.ingest import store
from jianguan.sites.models import Alarm, Reading
from jianguan.sites.protocols import telemetry
from jianguan.testing import factories as f

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "payload,fragment",
    [
        (b"not json", "not JSON"),
        (b'{"values": 3}', "values"),
        (b'{"values": {"wind_ms": "fast"}}', "finite"),
        (b'{"values": {"wind_ms": NaN}}', "finite"),
        (b'{"ts": "2026-11-20T10:00:00", "values": {"wind_ms": 1}}', "time zone"),
        (b'{"ts": "2030-01-01T00:00:00+08:00", "values": {"wind_ms": 1}}', "future"),
        (b'{"ts": "1970-01-01T08:00:00+08:00", "values": {"wind_ms": 1}}', "clock is not set"),
        (b'{"ts": "0001-01-01T00:00:00+08:00", "values": {"wind_ms": 1}}', "clock is not set"),
        (b'{"values": {"bad name": 1}}', "bad value name"),
        (b'{"values": {}}', "no values"),
    ],
)
def test_bad_payloads(payload, fragment):
    with pytest.raises(telemetry.TelemetryError, match=fragment):
        telemetry.parse_payload(payload, NOW)


def test_aliases_and_topic():
    data = telemetry.parse_payload(
        b'{"ts": "2026-11-20T10:00:00+08:00", "values": {"wind_ms": 6.5, "moment_pct": 80}}', NOW
    )
    assert data.values == {"a01007": 6.5, "moment_pct": 80.0} and data.ts == NOW
    assert telemetry.parse_topic("jianguan/v1/devices/crane-01/telemetry") == ("crane-01", "telemetry")
    with pytest.raises(telemetry.TelemetryError):
        telemetry.parse_topic("jianguan/v1/devices/../telemetry")


@pytest.fixture
def crane(db, lanshan_regulator):
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION)
    return device_services.register_device(
        lanshan_regulator,
        project,
        {"name": "1号塔吊", "kind": "crane", "protocol": "mqtt", "mqtt_client_id": "crane-01"},
    )


def test_http_ingest_with_device_token(db, lanshan_regulator):
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION)
    device = device_services.register_device(
        lanshan_regulator, project, {"name": "闸机", "kind": "sensor", "protocol": "http"}
    )
    token = device.issued_token
    client = Client()
    body = json.dumps({"ts": "2026-11-20T10:00:00+08:00", "values": {"temp_c": 12.5}})
    assert client.post("/api/ingest/telemetry", body, content_type="application/json").status_code == 401
    wrong = client.post("/api/ingest/telemetry", body, content_type="application/json", HTTP_X_DEVICE_TOKEN="jgd_x")
    assert wrong.status_code == 401
    ok = client.post("/api/ingest/telemetry", body, content_type="application/json", HTTP_X_DEVICE_TOKEN=token)
    assert ok.status_code == 202 and ok.json() == {"stored": 1}
    again = client.post("/api/ingest/telemetry", body, content_type="application/json", HTTP_X_DEVICE_TOKEN=token)
    assert again.json() == {"stored": 0}  # idempotent
    bad = client.post("/api/ingest/telemetry", "{", content_type="application/json", HTTP_X_DEVICE_TOKEN=token)
    assert bad.status_code == 400
    assert Reading.objects.get(device=device).parameter == "a01001"


def test_database_outage_spools_and_replays(crane, tmp_path, monkeypatch):
    from jianguan.sites.ingest.mqtt import MqttIngest

    ingest = MqttIngest("mqtt://127.0.0.1:1", worker="t", spool_path=tmp_path / "spool.jsonl")
    real_store = store.store_telemetry

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(store, "store_telemetry", down)
    # A real outage breaks the connection and it is closed; here the test's own transaction must survive.
    monkeypatch.setattr("jianguan.sites.ingest.mqtt.close_old_connections", lambda: None)
    for minute in range(3):
        payload = json.dumps({"ts": f"2026-11-20T10:0{minute}:00+08:00", "values": {"wind_ms": 12.0}}).encode()
        msg = type("M", (), {"topic": "jianguan/v1/devices/crane-01/telemetry", "payload": payload})()
        ingest._on_message(None, None, msg)
    assert len(ingest.spool) == 3 and not Reading.objects.exists()
    assert ingest.replay_spool() == 0  # still down: nothing lost, nothing replayed
    monkeypatch.setattr(store, "store_telemetry", real_store)
    assert ingest.replay_spool() == 3
    assert len(ingest.spool) == 0
    assert Reading.objects.filter(device=crane, parameter="a01007").count() == 3
    assert Alarm.objects.get(device=crane).rule.parameter == "a01007"  # wind ≥ 10.8 m/s stops lifting


services_only = pytest.mark.skipif(
    os.environ.get("JIANGUAN_TEST_SERVICES") != "1" or not shutil.which("mosquitto"),
    reason="needs a Mosquitto binary and JIANGUAN_TEST_SERVICES=1",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def broker(tmp_path):
    """A private Mosquitto with persistence, so the test may restart it without touching the shared one."""
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {tmp_path}/\n"
        # Started as root, Mosquitto would drop to its own user and could not write the test folder.
        "user root\n"
    )

    def start():
        proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return proc
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("mosquitto did not start")

    state = {"proc": start()}

    def restart():
        state["proc"].terminate()  # SIGTERM: Mosquitto writes its persistence file on the way out
        state["proc"].wait(10)
        state["proc"] = start()

    yield port, restart
    state["proc"].terminate()
    state["proc"].wait(10)


def publish(port: int, minute: int, wind: float) -> None:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"crane-01-pub-{minute}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    payload = json.dumps({"ts": f"2026-11-20T10:{minute:02d}:00+08:00", "values": {"wind_ms": wind}})
    client.publish("jianguan/v1/devices/crane-01/telemetry", payload, qos=1).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def wait_for(predicate, timeout=10.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@services_only
@pytest.mark.services
def test_mqtt_ingest_survives_a_broker_restart(crane, broker, transactional_db):
    from jianguan.sites.ingest.mqtt import MqttIngest

    port, restart = broker
    count = lambda: Reading.objects.filter(device=crane).count()  # noqa: E731
    ingest = MqttIngest(f"mqtt://127.0.0.1:{port}", worker="broker-test")
    ingest.start()
    try:
        assert ingest.wait_connected()
        publish(port, 0, 5.0)
        assert wait_for(lambda: count() == 1), f"stored {count()} of 1; {ingest.stats}"
    finally:
        ingest.stop()  # the worker is away: the broker queues for its persistent session
    publish(port, 1, 12.0)
    publish(port, 2, 12.5)
    restart()  # and the broker restarts with the queue on disk
    publish(port, 3, 13.0)
    ingest = MqttIngest(f"mqtt://127.0.0.1:{port}", worker="broker-test")
    ingest.start()
    try:
        assert wait_for(lambda: count() == 4), f"stored {count()} of 4; {ingest.stats}"
    finally:
        ingest.stop()
    assert Alarm.objects.filter(device=crane).count() == 1


def test_crane_load_moment_alarms_at_once(crane):
    for minute, moment in enumerate([70, 92, 101, 85]):
        data = telemetry.parse_payload(
            json.dumps({"ts": f"2026-11-20T10:{minute:02d}:00+08:00", "values": {"moment_pct": moment}}), NOW
        )
        store.store_telemetry(crane.pk, data)
    alarm = Alarm.objects.get(device=crane)
    assert alarm.rule.name == "塔机力矩" and alarm.severity == "critical" and alarm.state == Alarm.State.CLEARED
    assert alarm.raised_at == dt.datetime(2026, 11, 20, 2, 1, tzinfo=dt.UTC)
