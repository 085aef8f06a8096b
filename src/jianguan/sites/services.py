"""Device registry and reading ingest. Protocol code (protocols/) stays pure; this is its Django side."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
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


# Fields a device's manager may change after registration (its kind, protocol and identity stay: a new
# identity is a new device).
EDITABLE = ("name", "dialect", "rtd_interval_s", "lat", "lon", "installed_on", "calibrated_on")


def check_may_manage(user, device: Device) -> None:
    if not may_manage_devices(user, device.project):
        raise PermissionDenied("只有项目所在区县监管部门或施工总承包单位可以管理设备")


@transaction.atomic
def update_device(user, device: Device, data: dict[str, Any]) -> Device:
    """Changes the editable fields and, for an HJ 212 device, its access password when a new one is given."""
    check_may_manage(user, device)
    changes = {k: data[k] for k in EDITABLE if k in data and data[k] != getattr(device, k)}
    for key, value in changes.items():
        setattr(device, key, value)
    password = data.get("password") or ""
    if password and device.protocol == Device.Protocol.HJ212:
        device.password_hash = password_hash(password)
        changes["password"] = "（已更换）"
    if not changes:
        return device
    device.full_clean(exclude=["project"])
    device.save()
    audit.record(user, "update", device, project=device.project, changes={k: str(v) for k, v in changes.items()})
    invalidate_cache()
    return device


@transaction.atomic
def set_retired(user, device: Device, retired: bool, reason: str = "") -> Device:
    """Takes a device out of service (every ingest path refuses it; its data stays) or puts it back."""
    check_may_manage(user, device)
    if retired and not reason.strip():
        raise ValidationError({"reason": "请填写停用原因（如：设备拆除、更换、故障送修）"})
    if device.retired == retired:
        return device
    device.retired_at = timezone.now() if retired else None
    device.save(update_fields=["retired_at"])
    label = "停用" if retired else "恢复启用"
    audit.record(user, "update", device, project=device.project, changes={"label": label, "reason": reason.strip()})
    invalidate_cache()
    return device


@transaction.atomic
def reissue_token(user, device: Device) -> str:
    """A new HTTP token for the device (the old one stops working at once); shown once."""
    check_may_manage(user, device)
    if device.protocol != Device.Protocol.HTTP:
        raise ValidationError({"protocol": "只有 HTTP 设备使用令牌"})
    token = issue_http_token(device)
    audit.record(user, "update", device, project=device.project, changes={"label": "重置接入令牌"})
    return token


# --- gateway callbacks: cached device identities (the gateway asks on every frame) --------------------

_cache_lock = threading.Lock()
# MN → (pk, password hash, dialect), or None for an MN no active device has. Reloaded in one query when older
# than IDENTITY_TTL, so a device registered, changed or retired in another process (the web pages) is seen
# by a running gateway within that time; in this process at once (invalidate_cache).
IDENTITY_TTL = 60.0
_identity_cache: dict[str, tuple[int, str, str] | None] = {}
_identity_loaded_at = 0.0


def invalidate_cache() -> None:
    global _identity_loaded_at
    with _cache_lock:
        _identity_cache.clear()
        _identity_loaded_at = 0.0
    _last_seen_written.clear()


def _identity_fresh() -> bool:
    return time.monotonic() - _identity_loaded_at < IDENTITY_TTL


def identity_for(mn: str) -> tuple[int, str, str] | None:
    """The active HJ 212 device's (pk, password hash, dialect), from the cache or the database."""
    if not _identity_fresh():
        warm_identity_cache()
    with _cache_lock:
        if mn in _identity_cache:
            return _identity_cache[mn]
    row = (
        Device.objects.filter(mn=mn, protocol=Device.Protocol.HJ212, retired_at__isnull=True)
        .values_list("pk", "password_hash", "dialect")
        .first()
    )
    with _cache_lock:
        _identity_cache[mn] = row  # an unknown MN too: a flood of its frames costs no queries
    return row


def warm_identity_cache() -> int:
    """Loads every active HJ 212 identity in one query (a gateway starting with thousands of devices
    connecting at once would otherwise look each up on its first frame); again every IDENTITY_TTL."""
    global _identity_loaded_at
    rows = (
        Device.objects.filter(protocol=Device.Protocol.HJ212, retired_at__isnull=True)
        .exclude(mn=None)
        .values_list("mn", "pk", "password_hash", "dialect")
    )
    fresh = {mn: tuple(identity) for mn, *identity in rows}
    with _cache_lock:
        _identity_cache.clear()
        _identity_cache.update(fresh)
        _identity_loaded_at = time.monotonic()
    return len(fresh)


def cached_identity(mn: str) -> tuple[int, str, str] | None:
    """The cached identity only (no database): lets the gateway's event loop skip a thread hop. None when
    not cached or the cache is due for a reload (the caller then asks identity_for in a thread)."""
    return _identity_cache.get(mn) if _identity_fresh() else None


def password_matches(identity: tuple[int, str, str] | None, password: str | None) -> bool | None:
    """None for an unknown device, False for a wrong password."""
    if identity is None:
        return None
    return hmac.compare_digest(identity[1], password_hash(password or ""))


def dialect_of(identity: tuple[int, str, str] | None) -> hj212.Dialect | None:
    return DIALECTS.get(identity[2]) if identity else None


def authenticate(mn: str, password: str | None) -> bool | None:
    """None for an unknown MN, False for a wrong password."""
    return password_matches(identity_for(mn), password)


# A DataTime outside these bounds is a device clock that is not set (1970, year 1) or far ahead: the reading
# cannot be placed in time, so the packet is rejected (and counted) rather than stored. The earliest time is
# the one MQTT/HTTP telemetry has.
DATA_TIME_AHEAD = dt.timedelta(days=1)


def _timestamp(packet: hj212.Packet) -> dt.datetime:
    data_time = packet.cp.data_time
    if data_time is None:
        return timezone.now().replace(microsecond=0)
    ts = data_time.replace(tzinfo=DEVICE_TZ) if data_time.tzinfo is None else data_time
    if not telemetry.EARLIEST <= ts <= timezone.now() + DATA_TIME_AHEAD:
        raise hj212.HJ212Error(
            "bad_field", f"DataTime {data_time.isoformat()} is out of range (device clock not set?)", field="DataTime"
        )
    return ts


@dataclass(slots=True)
class Sample:
    """One reading on its way to storage (a plain object: the hot path makes tens of thousands a second,
    too many for Django model instances)."""

    parameter: str
    series: int
    ts: dt.datetime
    value: float | None = None
    min_value: float | None = None
    max_value: float | None = None
    flag: str = ""

    def key(self) -> tuple[str, int, dt.datetime]:
        return (self.parameter, self.series, self.ts)

    def as_json(self) -> list:
        return [self.parameter, self.series, self.ts.isoformat(), self.value, self.min_value, self.max_value, self.flag]

    @classmethod
    def from_json(cls, item: list) -> Sample:
        parameter, series, ts, value, min_value, max_value, flag = item
        return cls(parameter, series, dt.datetime.fromisoformat(ts), value, min_value, max_value, flag)


def rows_from_packet(packet: hj212.Packet) -> list[Sample]:
    """One sample per factor: the real-time value (Rtd) or the interval's Avg with its Min and Max.
    Reads the decoded factors directly (the gateway's hot path: no intermediate objects)."""
    series = SERIES_BY_CN.get(str(packet.cn))
    if series is None:
        return []
    ts = _timestamp(packet)
    main_key = "Rtd" if series == Reading.Series.REALTIME else "Avg"
    number = hj212.parse_number
    samples = []
    for code, values in packet.cp.factors.items():
        if code in telemetry.RESERVED:
            continue  # derived by the platform (e.g. the crane operator check), never taken from a device
        main, low, high = values.get(main_key), values.get("Min"), values.get("Max")
        if main is None and low is None and high is None:
            continue
        samples.append(
            Sample(
                code[:16],
                series,
                ts,
                None if main is None else number(main),
                None if low is None else number(low),
                None if high is None else number(high),
                (values.get("Flag") or "")[:1],
            )
        )
    return samples


Batch = list[tuple[int, list[Sample]]]  # (device id, its samples), in arrival order


class _Redelivered(Exception):
    """Some rows of the batch exist already: redo the insert and find out which ones."""


def store_batch(batch: Batch) -> list[int]:
    """Stores many packets' samples in one transaction and evaluates the limits on exactly the samples
    that were new (a redelivered packet stores and evaluates nothing). Returns the new count per item.

    The common case is one multi-row INSERT … ON CONFLICT DO NOTHING whose row count says all were new.
    When it says fewer (a device resent a packet whose answer it lost), the insert is rolled back to a
    savepoint and redone with RETURNING to learn which rows were new. The devices' last-seen time is one
    UPDATE; the alarm rules run over the batch with one read of their state."""
    from . import alarms

    total = sum(len(samples) for _, samples in batch)
    with transaction.atomic():
        try:
            with transaction.atomic():
                if _insert_samples(batch) != total:
                    raise _Redelivered
            fresh = [(device_id, samples) for device_id, samples in batch if samples]
            counts = [len(samples) for _, samples in batch]
        except _Redelivered:
            fresh, counts = _insert_and_match(batch)
        now = time.monotonic()
        stale = {d for d, _ in batch if now - _last_seen_written.get(d, -LAST_SEEN_EVERY) >= LAST_SEEN_EVERY}
        if stale:
            Device.objects.filter(pk__in=stale).update(last_seen_at=timezone.now())
        alarms.evaluate_batch(fresh)
    _last_seen_written.update(dict.fromkeys(stale, now))  # committed: not again for LAST_SEEN_EVERY seconds
    return counts


# A device's last-seen time is written at most this often per process: "online" allows at least 300 s, and
# rewriting every device's row on every batch cost a tenth of the batch.
LAST_SEEN_EVERY = 30.0
_last_seen_written: dict[int, float] = {}


def _insert_and_match(batch: Batch) -> tuple[Batch, list[int]]:
    new_keys: set[tuple] = set()
    _insert_samples(batch, returned=new_keys)
    fresh: Batch = []
    counts: list[int] = []
    for device_id, samples in batch:
        new = [s for s in samples if (device_id, *s.key()) in new_keys]
        new_keys.difference_update((device_id, *s.key()) for s in new)  # a sample twice in the batch is new once
        counts.append(len(new))
        if new:
            fresh.append((device_id, new))
    return fresh, counts


_COLUMNS = "device_id, parameter, series, ts, value, min_value, max_value, flag"
_RETURNING = " RETURNING device_id, parameter, series, ts"
_SQLITE_CHUNK = 32_000 // 8  # SQLite allows 32,766 bound variables per statement


_STAGING = "jianguan_reading_staging"
_staging_types_cache: dict[str, list[int]] = {}


def _staging_types(raw, table: str) -> list[int]:
    """Makes sure the session's staging table exists (a temporary table: private to the session, emptied
    at commit, never written to the WAL) and returns the column types COPY needs, in _COLUMNS order.
    Asked every batch: a rolled-back transaction also rolls back the table's creation."""
    with raw.cursor() as pg:
        pg.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        types = _staging_types_cache.get(table)
        if types is None:
            pg.execute(
                "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
                " AND NOT attisdropped",
                [table],
            )
            oids = dict(pg.fetchall())
            types = _staging_types_cache[table] = [oids[name.strip()] for name in _COLUMNS.split(",")]
    return types


def _returned(row) -> tuple[int, str, int, dt.datetime]:
    # PostgreSQL returns aware datetimes; SQLite the stored naive UTC. Aware ones compare across zones.
    device_id, parameter, series, ts = row
    return (device_id, parameter, series, ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC))


def _insert_samples(batch: Batch, returned: set[tuple] | None = None) -> int:
    """Inserts the batch (existing rows are left alone); returns how many rows were new, and with
    `returned` collects their keys (device_id, parameter, series, ts)."""
    rows = [
        (device_id, s.parameter, s.series, s.ts, s.value, s.min_value, s.max_value, s.flag)
        for device_id, samples in batch
        for s in samples
    ]
    if not rows:
        return 0
    insert = _insert_postgresql if connection.vendor == "postgresql" else _insert_sqlite
    return insert(Reading._meta.db_table, rows, returned)


def _insert_postgresql(table: str, rows: list[tuple], returned: set[tuple] | None) -> int:
    # Binary COPY into a session-local staging table, then one INSERT … SELECT that empties it (several
    # times the rate of bound parameters: psycopg writes COPY rows in C).
    connection.ensure_connection()
    raw = connection.connection
    types = _staging_types(raw, table)
    with raw.cursor() as pg:
        with pg.copy(f"COPY {_STAGING} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
        pg.execute(
            f"WITH staged AS (DELETE FROM {_STAGING} RETURNING {_COLUMNS})"
            f" INSERT INTO {table} ({_COLUMNS}) SELECT {_COLUMNS} FROM staged"
            f" ON CONFLICT DO NOTHING{_RETURNING if returned is not None else ''}"
        )
        if returned is not None:
            returned.update(map(_returned, pg.fetchall()))
        return pg.rowcount


def _insert_sqlite(table: str, rows: list[tuple], returned: set[tuple] | None) -> int:
    adapt = connection.ops.adapt_datetimefield_value
    stamps: dict[dt.datetime, str] = {}  # the samples of a packet share their time: adapt it once
    inserted = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _SQLITE_CHUNK):
            chunk = rows[start : start + _SQLITE_CHUNK]
            params: list = []
            for row in chunk:
                ts = row[3]
                stamp = stamps.get(ts)
                if stamp is None:
                    stamp = stamps[ts] = adapt(ts)
                params += (row[0], row[1], row[2], stamp, row[4], row[5], row[6], row[7])
            values = ",".join(["(%s,%s,%s,%s,%s,%s,%s,%s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({_COLUMNS}) VALUES {values} ON CONFLICT DO NOTHING"
                f"{_RETURNING if returned is not None else ''}",
                params,
            )
            if returned is not None:
                fetched = cursor.fetchall()
                inserted += len(fetched)
                returned.update(map(_returned, fetched))
            else:
                inserted += cursor.rowcount
    return inserted


def store_packet(packet: hj212.Packet) -> int:
    """Stores a valid HJ 212 packet's readings (one packet: the gateway batches many through store_batch)."""
    identity = identity_for(packet.mn)
    if identity is None:
        return 0
    return store_batch([(identity[0], rows_from_packet(packet))])[0]


def store_telemetry(device_id: int, data: telemetry.Telemetry, operator=None) -> int:
    """Stores MQTT/HTTP JSON telemetry as real-time readings (same idempotency and limits).

    A crane's message that names its operator (`data.operator`, or `operator`: a cranes.OperatorRef from the
    spool) is checked first (cranes.py); the result is stored as one more reading, `op_unqualified`, so the
    limit rules raise or clear the alarm with the rest, and kept as the crane's latest check."""
    samples = [Sample(name, Reading.Series.REALTIME, data.ts, value) for name, value in data.values.items()]
    if operator is None and data.operator is None:
        return store_batch([(device_id, samples)])[0]
    from . import cranes

    operator = operator or cranes.OperatorRef.from_id_number(data.operator)
    with transaction.atomic():
        check = cranes.check_operator(device_id, operator, data.ts)
        if check is not None:
            samples.append(Sample(cranes.PARAMETER, Reading.Series.REALTIME, data.ts, 0.0 if check.ok else 1.0))
            cranes.record(check)  # before the alarm it may raise: the alarm's notice quotes its reasons
        return store_batch([(device_id, samples)])[0]


def device_for_mqtt(client_id: str) -> int | None:
    active = Device.objects.filter(mqtt_client_id=client_id, retired_at__isnull=True)
    return active.values_list("pk", flat=True).first()


def device_for_token(token: str) -> Device | None:
    if not token:
        return None
    return Device.objects.filter(token_hash=password_hash("token:" + token), retired_at__isnull=True).first()


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


def gate_summary_for(project: Project, day: dt.date | None = None) -> dict | None:
    """A day's (default: today's) real-name attendance and 挂靠/转包 signals for the project page (None
    without a gate). A day in the future is today."""
    from . import gates

    if not Device.objects.filter(project=project, kind=Device.Kind.GATE).exists():
        return None
    today = timezone.localdate()
    return gates.project_summary(project, min(day or today, today))


def devices_for(project: Project):
    # A crane's latest operator check (cranes.py) comes along for the project page's device panel.
    return (
        Device.objects.filter(project=project)
        .select_related("operator_check", "operator_check__person")
        .order_by("name")
    )
