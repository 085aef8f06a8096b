"""Device registry and reading ingest. Protocol code (protocols/) stays pure; this is its Django side."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from jianguan.core import audit
from jianguan.projects import permissions as project_permissions
from jianguan.projects.models import ParticipantRole, Project

from .models import Device, Reading
from .protocols import hj212, telemetry

SERIES_BY_CN = {
    hj212.CN.RTD_DATA: Reading.Series.REALTIME,
    hj212.CN.MINUTE_DATA: Reading.Series.MINUTE,
    hj212.CN.HOUR_DATA: Reading.Series.HOUR,
    hj212.CN.DAY_DATA: Reading.Series.DAY,
}
DEVICE_TZ = zoneinfo.ZoneInfo("Asia/Shanghai")  # HJ 212 DataTime is the device's local (Beijing) time
DIALECTS = {Device.Dialect.STANDARD: hj212.STANDARD, Device.Dialect.LENIENT: hj212.LENIENT}


def password_hash(password: str) -> str:
    # Keyed and fast: checked on every packet (a slow KDF would cap the gateway), never reversible.
    key = hashlib.sha256(b"jianguan-device-pw\x00" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, password.encode(), hashlib.sha256).hexdigest()


def may_manage_devices(user, project: Project) -> bool:
    if project_permissions.is_regulator_of(user, project):
        return True
    return ParticipantRole.GENERAL_CONTRACTOR in project_permissions.participant_roles(user, project)


@transaction.atomic
def register_device(user, project: Project, data: dict[str, Any]) -> Device:
    if not may_manage_devices(user, project):
        raise PermissionDenied("只有项目所在区县监管部门或施工总承包单位可以登记设备")
    data = dict(data)
    password = data.pop("password", "") or ""
    device = Device(project=project, **{k: v for k, v in data.items() if v is not None})
    if device.protocol == Device.Protocol.HJ212:
        if not device.mn or not password:
            raise ValidationError({"mn": "HJ 212 设备须填写设备编号（MN）和访问密码（PW）"})
        device.password_hash = password_hash(password)
    device.full_clean(exclude=["project"])
    device.save()
    audit.record(
        user, "create", device, project=project, changes={"name": device.name, "kind": device.kind, "mn": device.mn}
    )
    if device.protocol == Device.Protocol.HTTP:
        device.issued_token = issue_http_token(device)  # shown once, in the registration's answer
    invalidate_cache()
    return device


# --- gateway callbacks: cached device identities (the gateway asks on every frame) --------------------

_cache_lock = threading.Lock()
_identity_cache: dict[str, tuple[int, str, str]] = {}


def invalidate_cache() -> None:
    with _cache_lock:
        _identity_cache.clear()


def _identity(mn: str) -> tuple[int, str, str] | None:
    with _cache_lock:
        hit = _identity_cache.get(mn)
    if hit is not None:
        return hit
    row = (
        Device.objects.filter(mn=mn, protocol=Device.Protocol.HJ212)
        .values_list("pk", "password_hash", "dialect")
        .first()
    )
    if row is None:
        return None
    with _cache_lock:
        _identity_cache[mn] = row
    return row


def authenticate(mn: str, password: str | None) -> bool | None:
    """None for an unknown MN, False for a wrong password."""
    identity = _identity(mn)
    if identity is None:
        return None
    return hmac.compare_digest(identity[1], password_hash(password or ""))


def dialect_for(mn: str) -> hj212.Dialect | None:
    identity = _identity(mn)
    return DIALECTS.get(identity[2]) if identity else None


def _timestamp(packet: hj212.Packet) -> dt.datetime:
    data_time = packet.cp.data_time
    if data_time is None:
        return timezone.now().replace(microsecond=0)
    return data_time.replace(tzinfo=DEVICE_TZ) if data_time.tzinfo is None else data_time


def rows_from_packet(device_id: int, packet: hj212.Packet) -> list[Reading]:
    """One row per factor: the real-time value (Rtd) or the interval's Avg with its Min and Max."""
    series = SERIES_BY_CN.get(str(packet.cn))
    if series is None:
        return []
    ts = _timestamp(packet)
    main_key = "Rtd" if series == Reading.Series.REALTIME else "Avg"
    rows: dict[str, Reading] = {}
    for value in packet.cp.readings(keys=(main_key, "Min", "Max")):
        row = rows.get(value.code)
        if row is None:
            row = rows[value.code] = Reading(
                device_id=device_id, parameter=value.code[:16], series=series, ts=ts, flag=(value.flag or "")[:1]
            )
        if value.key == main_key:
            row.value = value.value
        elif value.key == "Min":
            row.min_value = value.value
        else:
            row.max_value = value.value
    return list(rows.values())


def _store_rows(device_id: int, rows: list[Reading]) -> int:
    """Inserts the rows not stored yet and evaluates the limits on exactly those (idempotent)."""
    with transaction.atomic():
        if rows:
            existing = set(
                Reading.objects.filter(
                    device_id=device_id, series=rows[0].series, ts=rows[0].ts, parameter__in=[r.parameter for r in rows]
                ).values_list("parameter", flat=True)
            )
            rows = [r for r in rows if r.parameter not in existing]
            Reading.objects.bulk_create(rows, ignore_conflicts=True)
        Device.objects.filter(pk=device_id).update(last_seen_at=timezone.now())
    if rows:
        from . import alarms

        alarms.evaluate(Device.objects.select_related("project").get(pk=device_id), rows)
    return len(rows)


def store_packet(packet: hj212.Packet) -> int:
    """Stores a valid HJ 212 packet's readings. A redelivered packet (a device resending after a lost
    answer) stores and evaluates nothing."""
    identity = _identity(packet.mn)
    if identity is None:
        return 0
    return _store_rows(identity[0], rows_from_packet(identity[0], packet))


def store_telemetry(device_id: int, data: telemetry.Telemetry) -> int:
    """Stores MQTT/HTTP JSON telemetry as real-time readings (same idempotency and limits)."""
    rows = [
        Reading(device_id=device_id, parameter=name, series=Reading.Series.REALTIME, ts=data.ts, value=value)
        for name, value in data.values.items()
    ]
    return _store_rows(device_id, rows)


def device_for_mqtt(client_id: str) -> int | None:
    return Device.objects.filter(mqtt_client_id=client_id).values_list("pk", flat=True).first()


def device_for_token(token: str) -> Device | None:
    if not token:
        return None
    return Device.objects.filter(token_hash=password_hash("token:" + token)).first()


def issue_http_token(device: Device) -> str:
    token = "jgd_" + secrets.token_urlsafe(24)
    device.token_hash = password_hash("token:" + token)
    device.save(update_fields=["token_hash"])
    return token


@transaction.atomic
def register_worker(
    user, project: Project, *, person_id: int, employer_id: int, trade: str = "", required_operation: str = ""
):
    from jianguan.registry.models import Enterprise, Person

    from .models import SiteWorker

    if not may_manage_devices(user, project):
        raise PermissionDenied("只有施工总承包单位或监管部门可以登记实名制人员")
    worker, _ = SiteWorker.objects.update_or_create(
        project=project,
        person=Person.objects.get(pk=person_id),
        defaults={
            "employer": Enterprise.objects.get(pk=employer_id),
            "trade": trade,
            "required_operation": required_operation,
            "active": True,
        },
    )
    audit.record(user, "create", worker, project=project, changes={"trade": trade, "employer": worker.employer.name})
    return worker


def devices_for(project: Project):
    return Device.objects.filter(project=project).order_by("name")


def recent_alarms(project: Project, limit: int = 10):
    from .models import Alarm

    return Alarm.objects.filter(project=project).select_related("device", "rule")[:limit]
