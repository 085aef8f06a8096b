"""The sprinkler loop: a dust alarm commands the project's fog cannons, waits for the acknowledgement,
retries, gives up loudly; against the real Mosquitto with a simulated fog cannon that answers."""

from __future__ import annotations

import datetime as dt
import json
import os
import time

import pytest

from jianguan.notify.models import Notification
from jianguan.projects.models import State
from jianguan.sites.actuators import commands
from jianguan.sites.devices import identity
from jianguan.sites.devices import services as device_services
from jianguan.sites.ingest import store
from jianguan.sites.models import ActuatorCommand, Alarm
from jianguan.sites.protocols import hj212
from jianguan.testing import factories as f

T0 = dt.datetime(2026, 11, 20, 10, 0, 0)


def pm25_packet(mn, minute, value):
    when = T0 + dt.timedelta(minutes=minute)
    return hj212.decode(
        hj212.frame_segment(
            f"QN={when:%Y%m%d%H%M%S}000;ST=22;CN=2011;PW=pw;MN={mn};Flag=5;"
            f"CP=&&DataTime={when:%Y%m%d%H%M%S};a34004-Rtd={value},a34004-Flag=N&&"
        )
    )


class FakePublisher:
    sent: list[tuple[str, dict]] = []
    up = True

    @classmethod
    def publish(cls, topic, payload):
        if cls.up:
            cls.sent.append((topic, payload))
        return cls.up


@pytest.fixture
def site(db, lanshan_regulator, monkeypatch):
    FakePublisher.sent, FakePublisher.up = [], True
    monkeypatch.setattr(commands, "publisher", FakePublisher)
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION)
    identity.invalidate_cache()
    monitor = device_services.register_device(
        lanshan_regulator,
        project,
        {"name": "监测", "kind": "dust_noise", "protocol": "hj212", "mn": "M1", "password": "pw"},
    )
    cannon = device_services.register_device(
        lanshan_regulator,
        project,
        {"name": "1号雾炮", "kind": "actuator", "protocol": "mqtt", "mqtt_client_id": "fog-01"},
    )
    return monitor, cannon, lanshan_regulator


def raise_alarm(monitor, capture):
    with capture(execute=True):
        for minute, value in enumerate([90, 95, 100]):
            store.store_packet(pm25_packet(monitor.mn, minute, value))
    return Alarm.objects.get()


def test_dust_alarm_switches_the_fog_cannon_on_and_the_ack_closes_the_loop(site, django_capture_on_commit_callbacks):
    monitor, cannon, _ = site
    alarm = raise_alarm(monitor, django_capture_on_commit_callbacks)
    command = ActuatorCommand.objects.get()
    assert command.alarm == alarm and command.device == cannon and command.state == "sent"
    topic, payload = FakePublisher.sent[0]
    assert topic == "jianguan/v1/devices/fog-01/commands" and payload == {
        "id": command.command_id,
        "action": "on",
        "duration_s": 600,
    }
    commands.acknowledge("fog-02", {"id": command.command_id, "ok": True})  # someone else's ack: ignored
    command.refresh_from_db()
    assert command.state == "sent"
    commands.acknowledge("fog-01", {"id": command.command_id, "ok": True, "message": "雾炮已开启"})
    command.refresh_from_db()
    assert command.state == "acked" and command.result == "雾炮已开启"


def test_retry_then_fail_and_notify(site, django_capture_on_commit_callbacks):
    monitor, _, _ = site
    FakePublisher.up = False  # broker down at first: the command waits
    raise_alarm(monitor, django_capture_on_commit_callbacks)
    command = ActuatorCommand.objects.get()
    assert command.state == "pending" and "不可用" in command.result
    FakePublisher.up = True
    later = command.created_at + dt.timedelta(minutes=2)
    assert commands.retry_overdue(later) == {"resent": 1, "failed": 0}
    command.refresh_from_db()
    assert command.state == "sent" and command.attempts == 2
    assert commands.retry_overdue(command.sent_at + dt.timedelta(seconds=30)) == {"resent": 0, "failed": 0}
    commands.retry_overdue(command.sent_at + dt.timedelta(minutes=2))
    command.refresh_from_db()
    assert command.attempts == 3
    assert commands.retry_overdue(command.sent_at + dt.timedelta(minutes=2)) == {"resent": 0, "failed": 1}
    command.refresh_from_db()
    assert command.state == "failed"
    assert Notification.objects.filter(topic="actuator.failed").exists()


def test_noise_alarm_does_not_spray(site):
    alarm = Alarm(parameter="LA", project=site[0].project)
    assert commands.on_alarm_raised(alarm) == []


def test_manual_command_needs_a_regulator(site):
    _, cannon, regulator = site
    gc = cannon.project.participants.get(role="general_contractor").enterprise
    builder = f.UserFactory(role="enterprise_user", enterprise=gc)
    with pytest.raises(Exception, match="监管部门"):
        commands.issue_manually(builder, cannon, "on")
    assert commands.issue_manually(regulator, cannon, "off").state == "sent"


@pytest.mark.services
@pytest.mark.skipif(
    os.environ.get("JIANGUAN_TEST_SERVICES") != "1", reason="needs Mosquitto (JIANGUAN_TEST_SERVICES=1)"
)
def test_loop_over_the_real_broker(transactional_db, lanshan_regulator, settings):
    import paho.mqtt.client as mqtt

    from jianguan.sites.ingest.mqtt import MqttIngest
    from jianguan.sites.limits.defaults import ensure_defaults
    from jianguan.sites.models import LimitRule

    ensure_defaults(LimitRule)
    settings.MQTT_URL = "mqtt://127.0.0.1:1883"
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION)
    identity.invalidate_cache()
    monitor = device_services.register_device(
        lanshan_regulator,
        project,
        {"name": "监测", "kind": "dust_noise", "protocol": "hj212", "mn": "M9", "password": "pw"},
    )
    device_services.register_device(
        lanshan_regulator,
        project,
        {"name": "雾炮", "kind": "actuator", "protocol": "mqtt", "mqtt_client_id": "fog-real"},
    )

    # A fog cannon on the broker: it answers every command on its ack topic.
    cannon = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fog-real")

    def on_command(client, userdata, message):
        body = json.loads(message.payload)
        client.publish(
            "jianguan/v1/devices/fog-real/ack", json.dumps({"id": body["id"], "ok": True, "message": "开启"}), qos=1
        )

    cannon.on_message = on_command
    cannon.on_connect = lambda c, u, fl, rc, p: c.subscribe("jianguan/v1/devices/fog-real/commands", qos=1)
    cannon.connect("127.0.0.1", 1883)
    cannon.loop_start()
    ingest = MqttIngest("mqtt://127.0.0.1:1883", worker=f"ack-test-{os.getpid()}")
    ingest.start()
    try:
        assert ingest.wait_connected()
        time.sleep(0.5)
        for minute, value in enumerate([90, 95, 100]):
            store.store_packet(pm25_packet(monitor.mn, minute, value))
        deadline = time.time() + 10
        while time.time() < deadline and not ActuatorCommand.objects.filter(state="acked").exists():
            time.sleep(0.1)
    finally:
        ingest.stop()
        cannon.loop_stop()
        cannon.disconnect()
    command = ActuatorCommand.objects.get()
    assert command.state == "acked" and command.result == "开启"
