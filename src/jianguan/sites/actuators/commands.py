"""The actuator loop: a dust alarm switches the site's sprinklers / fog cannons on over MQTT, waits for the
device's acknowledgement, retries on timeout and reports a device that never answers. Whether it worked
shows in the following readings: the alarm clears, or it escalates."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import uuid
from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from jianguan.core.permissions import require
from jianguan.notify.services import notify

from .. import permissions
from ..alarms.notices import recipients
from ..models import ActuatorCommand, Alarm, Device

log = logging.getLogger("jianguan.sites.actuators")
DUST_PARAMETERS = {"a34001", "a34002", "a34004"}
ACK_TIMEOUT = dt.timedelta(seconds=settings.ACTUATOR_ACK_TIMEOUT_SECONDS)
MAX_ATTEMPTS = 3


def command_topic(client_id: str) -> str:
    return f"jianguan/v1/devices/{client_id}/commands"


class MqttPublisher:
    """One lazily connected paho client per process for platform → device commands (QoS 1)."""

    _lock = threading.Lock()
    _client = None

    @classmethod
    def publish(cls, topic: str, payload: dict) -> bool:
        url = settings.MQTT_URL
        if not url:
            return False
        import paho.mqtt.client as mqtt

        with cls._lock:
            if cls._client is None:
                parsed = urlparse(url)
                client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"jianguan-commands-{os.getpid()}")
                if parsed.username:
                    client.username_pw_set(parsed.username, parsed.password)
                client.connect(parsed.hostname or "127.0.0.1", parsed.port or 1883, keepalive=30)
                client.loop_start()
                cls._client = client
            info = cls._client.publish(topic, json.dumps(payload, ensure_ascii=False), qos=1)
        info.wait_for_publish(5)
        return info.is_published()


publisher = MqttPublisher  # replaced in tests


def _send(command: ActuatorCommand) -> None:
    payload = {"id": command.command_id, "action": command.action, "duration_s": command.duration_s}
    command.attempts += 1
    try:
        ok = publisher.publish(command_topic(command.device.mqtt_client_id), payload)
    except Exception as exc:  # a broker outage must not break the alarm that triggered this
        log.warning("command %s not published: %s", command.command_id, exc)
        ok = False
    if ok:
        command.state, command.sent_at, command.result = ActuatorCommand.State.SENT, timezone.now(), ""
    else:
        command.result = "消息代理不可用，稍后重试"
    command.save()


def issue(
    device: Device, action: str, *, alarm: Alarm | None = None, user=None, duration_s: int = 600
) -> ActuatorCommand:
    command = ActuatorCommand.objects.create(
        command_id=str(uuid.uuid4()), device=device, alarm=alarm, action=action, duration_s=duration_s, issued_by=user
    )
    _send(command)
    return command


def on_alarm_raised(alarm: Alarm) -> list[ActuatorCommand]:
    """Dust alarm → every MQTT sprinkler / fog cannon of the project is switched on."""
    if alarm.parameter not in DUST_PARAMETERS:
        return []
    actuators = Device.objects.filter(
        project=alarm.project, kind=Device.Kind.ACTUATOR, protocol=Device.Protocol.MQTT, retired_at__isnull=True
    ).exclude(mqtt_client_id=None)
    return [issue(device, "on", alarm=alarm) for device in actuators]


def issue_manually(user, device: Device, action: str, duration_s: int = 600) -> ActuatorCommand:
    require(permissions.may_command(user, device), "只有监管部门可以远程控制喷淋/雾炮")
    if device.kind != Device.Kind.ACTUATOR or not device.mqtt_client_id:
        raise ValidationError({"device": "该设备不是可远程控制的喷淋/雾炮"})
    if device.retired:
        raise ValidationError({"device": "该设备已停用"})
    return issue(device, action, user=user, duration_s=duration_s)


def acknowledge(client_id: str, payload: dict) -> ActuatorCommand | None:
    """The device's answer on .../ack: {"id": "<command id>", "ok": true, "message": "…"}."""
    command = ActuatorCommand.objects.filter(
        command_id=str(payload.get("id", ""))[:36], device__mqtt_client_id=client_id
    ).first()
    if command is None or command.state == ActuatorCommand.State.ACKED:
        return command
    if payload.get("ok") is True:
        command.state, command.acked_at = ActuatorCommand.State.ACKED, timezone.now()
        command.result = str(payload.get("message", ""))[:200]
    else:
        command.state = ActuatorCommand.State.FAILED
        command.result = f"设备报告失败：{str(payload.get('message', ''))[:180]}"
        _report_failure(command)
    command.save()
    return command


def _report_failure(command: ActuatorCommand) -> None:
    notify(
        recipients(command.device.project),
        topic="actuator.failed",
        title=f"【喷淋/雾炮未响应】{command.device.project.name} {command.device.name}",
        body=command.result,
        url=f"/projects/{command.device.project_id}/",
        project=command.device.project,  # the district's group robots hear of it too
    )


def retry_overdue(now: dt.datetime | None = None) -> dict[str, int]:
    """Resends commands without an acknowledgement after ACK_TIMEOUT; gives up after MAX_ATTEMPTS."""
    now = now or timezone.now()
    counts = {"resent": 0, "failed": 0}
    overdue = ActuatorCommand.objects.filter(state__in=[ActuatorCommand.State.PENDING, ActuatorCommand.State.SENT])
    for command in overdue.select_related("device__project"):
        last = command.sent_at or command.created_at
        if now - last < ACK_TIMEOUT:
            continue
        if command.attempts >= MAX_ATTEMPTS:
            command.state = ActuatorCommand.State.FAILED
            command.result = f"{MAX_ATTEMPTS} 次发送均未收到设备确认"
            command.save()
            _report_failure(command)
            counts["failed"] += 1
        else:
            _send(command)
            counts["resent"] += 1
    return counts
