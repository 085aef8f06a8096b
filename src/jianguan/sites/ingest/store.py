"""Readings into the database: HJ 212 packets and MQTT/HTTP telemetry become samples, stored many packets per
transaction (idempotent on device, parameter, series and time) and fed to the limit rules once per batch."""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from ..alarms import evaluate as alarms
from ..devices import identity
from ..models import Device, Reading
from ..protocols import hj212, telemetry
from ..workforce import cranes

SERIES_BY_CN = {
    hj212.CN.RTD_DATA: Reading.Series.REALTIME,
    hj212.CN.MINUTE_DATA: Reading.Series.MINUTE,
    hj212.CN.HOUR_DATA: Reading.Series.HOUR,
    hj212.CN.DAY_DATA: Reading.Series.DAY,
}
DEVICE_TZ = zoneinfo.ZoneInfo("Asia/Shanghai")  # HJ 212 DataTime is the device's local (Beijing) time


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
    known = identity.identity_for(packet.mn)
    if known is None:
        return 0
    return store_batch([(known[0], rows_from_packet(packet))])[0]


def store_telemetry(device_id: int, data: telemetry.Telemetry, operator=None) -> int:
    """Stores MQTT/HTTP JSON telemetry as real-time readings (same idempotency and limits).

    A crane's message that names its operator (`data.operator`, or `operator`: a cranes.OperatorRef from the
    spool) is checked first (cranes.py); the result is stored as one more reading, `op_unqualified`, so the
    limit rules raise or clear the alarm with the rest, and kept as the crane's latest check."""
    samples = [Sample(name, Reading.Series.REALTIME, data.ts, value) for name, value in data.values.items()]
    if operator is None and data.operator is None:
        return store_batch([(device_id, samples)])[0]
    operator = operator or cranes.OperatorRef.from_id_number(data.operator)
    with transaction.atomic():
        check = cranes.check_operator(device_id, operator, data.ts)
        if check is not None:
            samples.append(Sample(cranes.PARAMETER, Reading.Series.REALTIME, data.ts, 0.0 if check.ok else 1.0))
            cranes.record(check)  # before the alarm it may raise: the alarm's notice quotes its reasons
        return store_batch([(device_id, samples)])[0]


def forget_last_seen() -> None:
    """Forgets which devices' last-seen time this process wrote lately (tests; a device deleted and recreated)."""
    _last_seen_written.clear()
