"""A device's recent trend: its main parameters in time buckets (mean and maximum of the valid values) with
the limits that apply, and the latest value of each. Shared by the project page (latest values, the charts)
and `GET /api/devices/{id}/trend`.

Read from the raw readings, which hold the last READINGS_RETENTION_DAYS: a week at most is asked for, about
10,000 rows per parameter at one reading a minute, bucketed here rather than in SQL so SQLite and
PostgreSQL give the same buckets.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from operator import itemgetter

from django.utils import timezone

from ..alarms import rules as alarms
from ..alarms import search as alarm_search
from ..models import Device, LimitRule, Reading

# What is charted per kind of device, in this order; a parameter without data in the window is left out.
PARAMETERS = {
    Device.Kind.DUST_NOISE: ["a34004", "a34002", "a34001", "LA"],
    Device.Kind.CRANE: ["moment_pct", "load_pct", "a01007"],
}
MAX_HOURS = 168
WINDOWS = [(6, "6小时"), (24, "24小时"), (72, "3天"), (168, "7天")]  # the project page's choices
POINTS = 144  # buckets per chart: 10 minutes over a day
VALID_FLAGS = {"", "N"}
PERIOD_LABELS = {LimitRule.Period.DAY: "昼间", LimitRule.Period.NIGHT: "夜间"}
# The unit of a parameter without a limit rule (TSP has none by default).
UNITS = {
    "a34001": "µg/m³",
    "a34002": "µg/m³",
    "a34004": "µg/m³",
    "LA": "dB(A)",
    "a01007": "m/s",
    "moment_pct": "%",
    "load_pct": "%",
}


@dataclass
class Limit:
    label: str
    warning: float
    critical: float | None
    period: str = LimitRule.Period.ALL  # when it applies


@dataclass
class Series:
    parameter: str
    label: str
    unit: str
    limits: list[Limit] = field(default_factory=list)
    points: list[tuple[dt.datetime, float, float]] = field(default_factory=list)  # bucket start, mean, max
    latest_value: float | None = None
    latest_ts: dt.datetime | None = None

    @property
    def latest_over(self) -> bool:
        """Is the latest value above the warning level that applied at its time?"""
        if self.latest_value is None or self.latest_ts is None:
            return False
        period = alarms.period_of(self.latest_ts)
        return any(
            self.latest_value > lim.warning for lim in self.limits if lim.period in (LimitRule.Period.ALL, period)
        )


@dataclass
class Trend:
    device: Device
    since: dt.datetime
    until: dt.datetime
    bucket: dt.timedelta
    series: list[Series]


def charted(device: Device) -> bool:
    return device.kind in PARAMETERS


def limits_for(device: Device, parameter: str) -> tuple[list[Limit], str]:
    """The warning (and critical) levels that apply to the device's parameter, by time of day where they
    differ (noise: 昼间 / 夜间), and the rule's unit."""
    by_period = {
        period: alarms.rules_in_period(device.project.jurisdiction_id, device.kind, parameter, period)
        for period in (LimitRule.Period.DAY, LimitRule.Period.NIGHT)
    }
    unit = next((r.unit for rules in by_period.values() for r in rules if r.unit), UNITS.get(parameter, ""))
    levels = {
        period: (
            min(r.warning for r in rules),
            min((r.critical for r in rules if r.critical is not None), default=None),
        )
        for period, rules in by_period.items()
        if rules
    }
    if len(set(levels.values())) == 1:  # the same all day
        warning, critical = next(iter(levels.values()))
        return [Limit("限值", warning, critical)], unit
    return [Limit(f"{PERIOD_LABELS[p]}限值", w, c, p) for p, (w, c) in levels.items()], unit


def device_trend(device: Device, *, hours: int = 24, now: dt.datetime | None = None) -> Trend:
    hours = max(1, min(hours, MAX_HOURS))
    until = now or timezone.now()
    since = until - dt.timedelta(hours=hours)
    bucket = dt.timedelta(minutes=max(1, hours * 60 // POINTS))
    wanted = PARAMETERS.get(device.kind, [])
    rows = (
        Reading.objects.filter(
            device=device,
            parameter__in=wanted,
            series__in=[Reading.Series.REALTIME, Reading.Series.MINUTE],
            ts__gte=since,
            ts__lte=until,
        )
        .order_by("ts")
        .values_list("parameter", "series", "ts", "value", "flag")
    )
    # Per parameter and series: bucket index → valid values. A device may send both real-time and minute
    # data; the chart shows the real-time ones when there are any.
    buckets: dict[tuple[str, int], dict[int, list[float]]] = {}
    latest: dict[tuple[str, int], tuple[dt.datetime, float]] = {}
    for parameter, series, ts, value, flag in rows:
        if value is None or flag not in VALID_FLAGS:
            continue
        key = (parameter, series)
        buckets.setdefault(key, {}).setdefault(int((ts - since) / bucket), []).append(value)
        latest[key] = (ts, value)
    result = []
    for parameter in wanted:
        key = next(
            ((parameter, s) for s in (Reading.Series.REALTIME, Reading.Series.MINUTE) if (parameter, s) in buckets),
            None,
        )
        if key is None:
            continue
        limits, unit = limits_for(device, parameter)
        points = [
            (since + index * bucket, round(sum(values) / len(values), 2), max(values))
            for index, values in sorted(buckets[key].items())
        ]
        ts, value = latest[key]
        label = alarm_search.PARAMETER_LABELS.get(parameter, parameter)
        result.append(Series(parameter, label, unit, limits, points, value, ts))
    return Trend(device, since, until, bucket, result)


def with_latest(devices, project, *, hours: int = 2) -> list[Device]:
    """The project's devices, each charted one with `latest` (its series of the last hours: latest values)."""
    devices = list(devices)
    for device in devices:
        device.project = project  # the limits need its jurisdiction; all are the project's devices
        device.latest = device_trend(device, hours=hours).series if charted(device) and not device.retired else []
    return devices


EXPORT_MAX_DAYS = 31


def export_rows(device: Device, since: dt.datetime, until: dt.datetime):
    """The device's real-time and minute readings in [since, until) as a table for a spreadsheet: one row per
    time, one column per parameter (in the order of PARAMETERS, then by code), and a column naming the values
    whose flag is not N (e.g. "PM2.5:D"). Yields the header first; reads in chunks."""
    window = Reading.objects.filter(
        device=device, ts__gte=since, ts__lt=until, series__in=[Reading.Series.REALTIME, Reading.Series.MINUTE]
    )
    charted = PARAMETERS.get(device.kind, [])
    params = sorted(
        window.values_list("parameter", flat=True).distinct(),
        key=lambda p: (charted.index(p) if p in charted else len(charted), p),
    )
    labels = [alarm_search.PARAMETER_LABELS.get(p, p) for p in params]
    headers = [f"{label}（{UNITS[p]}）" if p in UNITS else label for p, label in zip(params, labels, strict=True)]
    yield ["时间", *headers, "异常标记"]
    column = {p: i for i, p in enumerate(params)}
    rows = window.order_by("ts", "series").values_list("ts", "parameter", "value", "flag").iterator(chunk_size=5000)
    for ts, readings in itertools.groupby(rows, key=itemgetter(0)):
        values, flags = [""] * len(params), []
        for _, parameter, value, flag in readings:
            values[column[parameter]] = "" if value is None else f"{value:g}"
            if flag not in VALID_FLAGS:
                flags.append(f"{labels[column[parameter]]}:{flag}")
        yield [timezone.localtime(ts).strftime("%Y-%m-%d %H:%M:%S"), *values, " ".join(flags)]
