"""The monitoring overview (监测总览): every dust/noise monitor or crane of the projects a user may read, with
its latest values (marked when over the limit that applied at their time), online state and open alarms,
worst first. The latest value of each parameter is one index seek per device on the readings' primary key
(device, parameter, series, ts); for a city's thousands of monitors that is most of a second, so the latest
values of all monitors are computed at most every LATEST_SECONDS and shared by every user through the cache
(each user's page then filters, counts and ranks only what they may read). The limits of all districts come in
one query (alarms.warning_levels), so the page's query count does not grow with them either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from jianguan.accounts import sharing

from .. import permissions
from ..alarms import rules as alarms
from ..alarms import search as alarm_search
from ..models import Device, Reading

COLUMNS = {
    Device.Kind.DUST_NOISE: ["a34004", "a34002", "LA"],
    Device.Kind.CRANE: ["moment_pct", "load_pct", "a01007"],
}
FRESH = dt.timedelta(hours=2)  # an older value is not "latest": the device has stopped sending it
# What the page shows and ranks by (Device.online reads last_seen_at, retired_at and rtd_interval_s).
SHOWN = (
    "name", "kind", "mn", "mqtt_client_id", "last_seen_at", "retired_at", "rtd_interval_s", "project__name",
    "project__code", "project__jurisdiction__name", "project__jurisdiction__code",
)  # fmt: skip
LATEST_SECONDS = 30  # the latest values are recomputed at most this often (all users share them)
STATUSES = [("", "全部"), ("over", "超标"), ("alarm", "有未关闭告警"), ("online", "在线"), ("offline", "离线")]


@dataclass
class Value:
    value: float
    ts: dt.datetime
    over: bool


@dataclass
class Row:
    device: Device
    values: dict[str, Value | None] = field(default_factory=dict)
    open_alarms: int = 0

    @property
    def over(self) -> bool:
        return any(v is not None and v.over for v in self.values.values())

    @property
    def cells(self) -> list[Value | None]:
        return list(self.values.values())


@dataclass
class Overview:
    kind: str
    columns: list[tuple[str, str]]  # (parameter, label)
    rows: list[Row]
    total: int
    online: int
    over: int
    alarmed: int

    @property
    def offline(self) -> int:
        return self.total - self.online


def _latest(parameter: str, since: dt.datetime, column: str) -> Subquery:
    valid = Reading.objects.filter(
        device=OuterRef("pk"),
        parameter=parameter,
        series=Reading.Series.REALTIME,
        ts__gte=since,
        flag__in=["N", ""],
        value__isnull=False,
    )
    return Subquery(valid.order_by("-ts").values(column)[:1])


def _over(levels, device: Device, parameter: str, value: float, ts: dt.datetime) -> bool:
    level = levels(device.project.jurisdiction_id, parameter, alarms.period_of(ts))
    return level is not None and value > level


def latest_values(kind: str) -> dict[int, tuple[float | None, ...]]:
    """Every in-service device's (of this kind) latest valid value and its time (epoch seconds) per column,
    (v0, t0, v1, t1, …). Shared by all users through the cache (Redis in production) for LATEST_SECONDS: the
    index seeks for a city's monitors cost most of a second, and monitors report once a minute."""
    key = f"sites-overview-latest:{kind}"
    latest = cache.get(key)
    if latest is None:
        since = timezone.now() - FRESH
        annotations = {}
        for i, parameter in enumerate(COLUMNS[kind]):
            annotations[f"v{i}"] = _latest(parameter, since, "value")
            annotations[f"t{i}"] = _latest(parameter, since, "ts")
        rows = Device.objects.filter(kind=kind, retired_at__isnull=True).annotate(**annotations)
        latest = {
            pk: tuple(v.timestamp() if isinstance(v, dt.datetime) else v for v in values)
            for pk, *values in rows.values_list("pk", *annotations)
        }
        cache.set(key, latest, LATEST_SECONDS)
    return latest


def overview(
    user, *, kind: str = Device.Kind.DUST_NOISE, jurisdiction: str = "", q: str = "", status: str = ""
) -> Overview:
    kind = kind if kind in COLUMNS else Device.Kind.DUST_NOISE
    params = COLUMNS[kind]
    devices = (
        permissions.visible_devices(user)
        .filter(kind=kind, retired_at__isnull=True)
        .select_related("project__jurisdiction")
        .only(*SHOWN)  # thousands of rows are ranked: no JSON, keys or other columns the page does not show
        .annotate(open_alarms=Count("alarms", filter=Q(alarms__state__in=alarm_search.OPEN_STATES)))
    )
    if jurisdiction:
        devices = devices.filter(project__jurisdiction__code=jurisdiction)
    if q:
        devices = devices.filter(Q(project__name__icontains=q) | Q(project__code__icontains=q) | Q(name__icontains=q))
    levels = alarms.warning_levels(kind, params)  # every district's limits in one query, not one per district
    latest = latest_values(kind)
    nothing = (None,) * (2 * len(params))
    rows = []
    for device in devices:
        row = Row(device, open_alarms=device.open_alarms)
        values = latest.get(device.pk, nothing)
        for i, parameter in enumerate(params):
            value, stamp = values[2 * i], values[2 * i + 1]
            if value is None:
                row.values[parameter] = None
                continue
            ts = dt.datetime.fromtimestamp(stamp, dt.UTC)
            row.values[parameter] = Value(value, ts, _over(levels, device, parameter, value, ts))
        rows.append(row)
    total, online = len(rows), sum(r.device.online for r in rows)
    over, alarmed = sum(r.over for r in rows), sum(bool(r.open_alarms) for r in rows)
    keep = {
        "over": lambda r: r.over,
        "alarm": lambda r: r.open_alarms > 0,
        "online": lambda r: r.device.online,
        "offline": lambda r: not r.device.online,
    }.get(status)
    if keep is not None:
        rows = [r for r in rows if keep(r)]
    first = params[0]
    rows.sort(
        key=lambda r: (
            not r.over,
            -r.open_alarms,
            not r.device.online,
            -(r.values[first].value if r.values[first] else -1.0),
            r.device.project.name,
        )
    )
    columns = [(p, alarm_search.PARAMETER_LABELS.get(p, p)) for p in params]
    query = {"kind": kind, "jurisdiction": jurisdiction, "q": q, "status": status}
    sharing.note_read(user, permissions.MONITORING, what="监测总览", count=len(rows), query=query)
    return Overview(kind, columns, rows, total, online, over, alarmed)
