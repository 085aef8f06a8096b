"""Readings at volume: hourly and daily aggregates, raw-data retention, daily digests in the evidence log.

- Roll-up: one set-based GROUP BY per window. An hour is computed from the raw readings in [start, start+1h);
  a (local) day from its 24 hourly aggregates, so the day costs a few hundred thousand aggregate rows at city
  scale, not tens of millions of readings. Both are upserts on the bucket's unique key: re-running a window
  is idempotent, and late data (a device spooled and replayed) is taken in by re-rolling the windows it
  touched; the periodic job re-rolls the last READINGS_ROLLUP_LOOKBACK_HOURS every 10 minutes.
- Hour buckets are UTC-aligned, day buckets start at local midnight (TIME_ZONE: the bureau's day). Days are
  built from hours, which is exact for whole-hour UTC offsets such as China's.
- Retention: raw readings of days older than READINGS_RETENTION_DAYS are deleted, an hour window at a time,
  after the day is re-rolled, and only rows whose (device, parameter, series) has that day's aggregate; the
  day is then marked purged (ReadingPurge). A purged day, or one past the horizon, is never re-rolled from raw
  data: what is left there (a straggler replayed months late) would overwrite the aggregate that is now the
  day's only record. Stragglers in purged days are deleted uncounted and reported.
- Digest: per project and local day, one `sites.daily_digest` evidence-log entry with the day's figures and
  alarm count, appended once (ReadingDigest marks it), after the late-data window has passed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, Min, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from jianguan.ledger import services as ledger

from ..alarms import rules as alarms
from ..models import Alarm, Reading, ReadingAggregate, ReadingDigest, ReadingPurge

log = logging.getLogger(__name__)

HOUR = dt.timedelta(hours=1)
DIGEST_KIND = "sites.daily_digest"
DIGEST_RECORD_TYPE = "sites.daily_digest"
DIGEST_CATCH_UP_DAYS = 3  # a digest job that was down this long still writes the missed days

Progress = Callable[[str], None] | None


# --- time buckets ------------------------------------------------------------------------------------


def local_tz():
    return timezone.get_default_timezone()


def local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(local_tz()).date()


def day_start(day: dt.date) -> dt.datetime:
    """Local midnight of `day`, as a UTC instant."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=local_tz()).astimezone(dt.UTC)


def day_end(day: dt.date) -> dt.datetime:
    return day_start(day + dt.timedelta(days=1))


def hour_floor(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _hours(since: dt.datetime, until: dt.datetime) -> list[dt.datetime]:
    out, hour = [], hour_floor(since)
    while hour < until:
        out.append(hour)
        hour += HOUR
    return out


# --- SQL -------------------------------------------------------------------------------------------------

# Valid values (a value and a normal flag, as the alarm engine counts them) make count/total/min/max/last;
# the rest are counted as flagged. The GROUP BY needs no sort (a hash aggregate on PostgreSQL); the last value
# is one primary-key probe per group (device, parameter, series, ts = the group's latest valid time).
# Portable SQL: SQLite stores times as fixed-format UTC text, so MAX(ts) is the latest there too.
_HOUR_SQL = """
SELECT g.device_id, g.parameter, g.series, g.n, g.total, g.low, g.high, r.value, g.last_ts, g.flagged
FROM (
    SELECT device_id, parameter, series,
           SUM(CASE WHEN ok THEN 1 ELSE 0 END) AS n,
           COALESCE(SUM(CASE WHEN ok THEN value END), 0) AS total,
           MIN(CASE WHEN ok THEN value END) AS low,
           MAX(CASE WHEN ok THEN value END) AS high,
           MAX(CASE WHEN ok THEN ts END) AS last_ts,
           SUM(CASE WHEN ok THEN 0 ELSE 1 END) AS flagged
    FROM (
        SELECT device_id, parameter, series, ts, value, (value IS NOT NULL AND flag IN ('', 'N')) AS ok
        FROM {reading}
        WHERE ts >= %s AND ts < %s
    ) AS raw
    GROUP BY device_id, parameter, series
) AS g
LEFT JOIN {reading} r
    ON r.device_id = g.device_id AND r.parameter = g.parameter AND r.series = g.series AND r.ts = g.last_ts
ORDER BY g.device_id, g.parameter, g.series
"""

# A day from its hours: sums, extremes, and the last value of the hour holding the day's latest valid time.
_DAY_SQL = """
SELECT g.device_id, g.parameter, g.series, g.n, g.total, g.low, g.high, h.last_value, g.last_ts, g.flagged,
       g.over
FROM (
    SELECT device_id, parameter, series, SUM({count}) AS n, SUM(total) AS total, MIN(min_value) AS low,
           MAX(max_value) AS high, MAX(last_ts) AS last_ts, SUM(flagged) AS flagged, SUM({over}) AS over
    FROM {aggregate}
    WHERE bucket = 'hour' AND {start} >= %s AND {start} < %s
    GROUP BY device_id, parameter, series
) AS g
LEFT JOIN {aggregate} h
    ON h.device_id = g.device_id AND h.parameter = g.parameter AND h.series = g.series AND h.bucket = 'hour'
   AND h.{start} >= %s AND h.{start} < %s AND h.last_ts = g.last_ts
ORDER BY g.device_id, g.parameter, g.series
"""

# Exceedances of one hour: valid values above the warning level of each (device, parameter), given as a
# VALUES list (a CTE with column names: the form both SQLite and PostgreSQL take).
_OVER_SQL = """
WITH limits(device_id, parameter, warning) AS (VALUES {values})
SELECT r.device_id, r.parameter, r.series, COUNT(*)
FROM {reading} r JOIN limits l ON l.device_id = r.device_id AND l.parameter = r.parameter
WHERE r.ts >= %s AND r.ts < %s AND r.value IS NOT NULL AND r.flag IN ('', 'N') AND r.value > l.warning
GROUP BY r.device_id, r.parameter, r.series
"""
OVER_CHUNK = 2000  # limits per query (3 parameters each: well within SQLite's 32,766)

# Raw rows of one window whose (device, parameter, series) has the day's aggregate.
_DELETE_SQL = """
DELETE FROM {reading}
WHERE ts >= %s AND ts < %s AND EXISTS (
    SELECT 1 FROM {aggregate} a
    WHERE a.device_id = {reading}.device_id AND a.parameter = {reading}.parameter
      AND a.series = {reading}.series AND a.bucket = 'day' AND a.{start} = %s
)
"""


def _sql(template: str) -> str:
    q = connection.ops.quote_name
    return template.format(
        reading=q(Reading._meta.db_table),
        aggregate=q(ReadingAggregate._meta.db_table),
        count=q("count"),
        start=q("start"),
        over=q("over"),
        values="{values}",
    )


def _db(value: dt.datetime):
    """A datetime as the backend stores it (SQLite: naive UTC text, the same format the ORM writes)."""
    return connection.ops.adapt_datetimefield_value(value)


def _aware(value) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _fetch(template: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(_sql(template), params)
        return cursor.fetchall()


_UPDATE_FIELDS = [
    "count",
    "total",
    "min_value",
    "max_value",
    "last_value",
    "last_ts",
    "flagged",
    "over",
    "computed_at",
]


def _warning_levels(pairs: set[tuple[int, str]], hour: dt.datetime) -> dict[tuple[int, str], float]:
    """The warning level of each (device, parameter) in the hour: the lowest of the rules the alarm engine
    applies (district before city, device kind, day or night; an hour is all day or all night, the offset
    being whole hours). Pairs without a rule are left out."""
    devices = alarms.device_rule_keys({device_id for device_id, _ in pairs})
    period = alarms.period_of(hour)
    levels = {}
    for device_id, parameter in pairs:
        level = alarms.warning_level(*devices[device_id], parameter, period) if device_id in devices else None
        if level is not None:
            levels[(device_id, parameter)] = level
    return levels


def _exceedances(start: dt.datetime, pairs: set[tuple[int, str]]) -> dict[tuple[int, str, int], int]:
    levels = sorted(_warning_levels(pairs, start).items())
    counts: dict[tuple[int, str, int], int] = {}
    for i in range(0, len(levels), OVER_CHUNK):
        chunk = levels[i : i + OVER_CHUNK]
        params = [x for (device_id, parameter), warning in chunk for x in (device_id, parameter, warning)]
        sql = _sql(_OVER_SQL).format(values=", ".join(["(%s, %s, %s)"] * len(chunk)))
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, _db(start), _db(start + HOUR)])
            counts.update({(d, p, series): n for d, p, series, n in cursor.fetchall()})
    return counts


def _upsert(bucket: str, start: dt.datetime, rows: list[tuple]) -> int:
    now = timezone.now()
    objs = [
        ReadingAggregate(
            device_id=device_id,
            parameter=parameter,
            series=series,
            bucket=bucket,
            start=start,
            count=count or 0,
            total=total or 0.0,
            min_value=low,
            max_value=high,
            last_value=last_value,
            last_ts=_aware(last_ts),
            flagged=flagged or 0,
            over=over or 0,
            computed_at=now,
        )
        for device_id, parameter, series, count, total, low, high, last_value, last_ts, flagged, over in rows
    ]
    if objs:
        ReadingAggregate.objects.bulk_create(
            objs,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["device", "parameter", "series", "bucket", "start"],
            update_fields=_UPDATE_FIELDS,
        )
    return len(objs)


# --- roll-up -----------------------------------------------------------------------------------------------


def roll_hour(start: dt.datetime) -> int:
    """(Re)compute the hour buckets of [start, start+1h) from the raw readings; returns the buckets written."""
    start = hour_floor(start)
    with transaction.atomic():
        rows = _fetch(_HOUR_SQL, [_db(start), _db(start + HOUR)])
        over = _exceedances(start, {(row[0], row[1]) for row in rows}) if rows else {}
        rows = [(*row, over.get((row[0], row[1], row[2]), 0)) for row in rows]
        return _upsert(ReadingAggregate.Bucket.HOUR, start, rows)


def roll_day(day: dt.date) -> int:
    """(Re)compute the local day's buckets from its hourly aggregates."""
    lo, hi = day_start(day), day_end(day)
    with transaction.atomic():
        return _upsert(ReadingAggregate.Bucket.DAY, lo, _fetch(_DAY_SQL, [_db(lo), _db(hi), _db(lo), _db(hi)]))


@dataclass
class RollupResult:
    hours: int = 0
    days: int = 0
    buckets: int = 0


def _roll(since: dt.datetime, until: dt.datetime, progress: Progress = None) -> RollupResult:
    result = RollupResult()
    by_day: dict[dt.date, list[dt.datetime]] = defaultdict(list)
    for hour in _hours(since, until):
        by_day[local_day(hour)].append(hour)
    purged = set(ReadingPurge.objects.filter(day__in=list(by_day)).values_list("day", flat=True))
    for day, hours in sorted(by_day.items()):
        if day in purged:
            if progress:
                progress(f"{day}：原始数据已清理，汇总为最终值，跳过")
            continue
        written = sum(roll_hour(hour) for hour in hours)
        written += roll_day(day)
        result.hours += len(hours)
        result.days += 1
        result.buckets += written
        if progress:
            progress(f"{day}：{len(hours)} 个小时窗，写入 {written} 条汇总")
    return result


def rollup(since: dt.datetime, until: dt.datetime, *, progress: Progress = None) -> RollupResult:
    """Recompute the hour buckets overlapping [since, until) and the local days that contain them.

    Windows before the retention horizon and purged days are skipped: their raw readings are gone, and
    re-rolling them from what is left (a straggler) would overwrite the aggregate that is now their record."""
    floor = retention_cutoff()
    if floor is not None and since < floor:
        since = floor
    if since >= until:
        return RollupResult()
    return _roll(since, until, progress)


def rollup_recent(now: dt.datetime | None = None) -> RollupResult:
    """The periodic job: the current hour and the last READINGS_ROLLUP_LOOKBACK_HOURS (late data lands there);
    the days they fall in, so the previous day is finished during the first hours after midnight."""
    now = now or timezone.now()
    return rollup(now - dt.timedelta(hours=max(settings.READINGS_ROLLUP_LOOKBACK_HOURS, 1)), now)


# --- retention ---------------------------------------------------------------------------------------------


def retention_cutoff(now: dt.datetime | None = None) -> dt.datetime | None:
    """Raw readings before this instant (local midnight, READINGS_RETENTION_DAYS ago) are deleted; None = keep."""
    days = settings.READINGS_RETENTION_DAYS
    if days <= 0:
        return None
    return day_start(local_day(now or timezone.now()) - dt.timedelta(days=days))


def hourly_cutoff(now: dt.datetime | None = None) -> dt.datetime | None:
    days = settings.READINGS_HOURLY_RETENTION_DAYS
    if days <= 0:
        return None
    return day_start(local_day(now or timezone.now()) - dt.timedelta(days=days))


@dataclass
class RetentionResult:
    days: int = 0
    readings: int = 0  # raw rows deleted (dry run: that would be deleted)
    already_aggregated: int = 0  # dry run: of those, rows whose day aggregate exists already
    stragglers: int = 0  # of those, rows that arrived for an already purged day (deleted uncounted)
    hourly: int = 0  # hourly aggregates deleted (dry run: that would be)


def _day_rows(day: dt.date):
    return Reading.objects.filter(ts__gte=day_start(day), ts__lt=day_end(day))


def _delete_day(day: dt.date, *, only_covered: bool = True) -> int:
    """Delete the day's raw rows that its daily aggregates cover (or, for a purged day's stragglers, all of them),
    one hour window per statement: an hour is either whole or gone, so an interrupted run resumes safely."""
    lo, hi = day_start(day), day_end(day)
    deleted = 0
    for hour in _hours(lo, hi):
        end = min(hour + HOUR, hi)
        if only_covered:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(_sql(_DELETE_SQL), [_db(hour), _db(end), _db(lo)])
                deleted += max(cursor.rowcount, 0)
        else:
            deleted += Reading.objects.filter(ts__gte=hour, ts__lt=end).delete()[0]
    return deleted


def apply_retention(
    *, dry_run: bool = False, now: dt.datetime | None = None, progress: Progress = None
) -> RetentionResult:
    """Delete raw readings of the days before the retention horizon, a day at a time, oldest first. Each day is
    re-rolled first, so its aggregates hold everything that is deleted. Then prune old hourly aggregates."""
    now = now or timezone.now()
    result = RetentionResult()
    cutoff = retention_cutoff(now)
    if cutoff is not None:
        first = Reading.objects.filter(ts__lt=cutoff).aggregate(first=Min("ts"))["first"]
        while first is not None:
            day = local_day(first)
            purged = ReadingPurge.objects.filter(day=day).first()
            if dry_run and purged is not None:
                total = _day_rows(day).count()
                result.readings += total
                result.stragglers += total
                message = f"{day}：已清理过；迟到数据 {total} 条将删除（不计入汇总）"
            elif dry_run:
                rows = _day_rows(day)
                total = rows.count()
                covered = rows.filter(
                    Exists(
                        ReadingAggregate.objects.filter(
                            device=OuterRef("device"),
                            parameter=OuterRef("parameter"),
                            series=OuterRef("series"),
                            bucket=ReadingAggregate.Bucket.DAY,
                            start=day_start(day),
                        )
                    )
                ).count()
                result.readings += total
                result.already_aggregated += covered
                message = f"{day}：将删除原始数据 {total} 条（已有日汇总 {covered} 条，其余删除前先补算汇总）"
            elif purged is None:
                _roll(day_start(day), day_end(day))
                deleted = _delete_day(day)
                ReadingPurge.objects.create(day=day, rows=deleted)
                result.readings += deleted
                message = f"{day}：已汇总并删除原始数据 {deleted} 条"
            else:
                deleted = _delete_day(day, only_covered=False)
                result.readings += deleted
                result.stragglers += deleted
                ReadingPurge.objects.filter(pk=purged.pk).update(rows=purged.rows + deleted)
                message = f"{day}：已清理过；删除迟到数据 {deleted} 条（不计入汇总）"
                log.warning("readings retention: %s rows arrived for %s after it was purged; deleted", deleted, day)
            result.days += 1
            if progress:
                progress(message)
            first = Reading.objects.filter(ts__gte=day_end(day), ts__lt=cutoff).aggregate(first=Min("ts"))["first"]
    h_cutoff = hourly_cutoff(now)
    if h_cutoff is not None:
        old_hours = ReadingAggregate.objects.filter(bucket=ReadingAggregate.Bucket.HOUR, start__lt=h_cutoff)
        result.hourly = old_hours.count() if dry_run else old_hours.delete()[0]
        if progress and result.hourly:
            verb = "将删除" if dry_run else "已删除"
            progress(f"{h_cutoff.astimezone(local_tz()):%Y-%m-%d} 之前的小时汇总：{verb} {result.hourly} 条")
    return result


# --- daily digests in the evidence log --------------------------------------------------------------------


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def digest_content(project_code: str, day: dt.date, aggregates: list, alarms: list[dict]) -> dict:
    return {
        "project": project_code,
        "day": day.isoformat(),
        "time_zone": str(local_tz()),
        "readings": [
            {
                "device": agg.device.mn or str(agg.device_id),
                "parameter": agg.parameter,
                "series": agg.series,
                "count": agg.count,
                "mean": _round(agg.mean),
                "min": agg.min_value,
                "max": agg.max_value,
                "flagged": agg.flagged,
                "over": agg.over,
            }
            for agg in aggregates
        ],
        "alarms_raised": sum(a["count"] for a in alarms),
        "alarms": alarms,
    }


def digest_day(day: dt.date) -> int:
    """Append one `sites.daily_digest` entry per project with readings or alarms that day, unless done before.
    Returns the number of entries appended. Reads the daily aggregates as they stand: roll the day up first."""
    lo, hi = day_start(day), day_end(day)
    by_project: dict[int, list[ReadingAggregate]] = defaultdict(list)
    daily = ReadingAggregate.objects.filter(bucket=ReadingAggregate.Bucket.DAY, start=lo).select_related("device")
    # Sorted here, not in SQL: the order is part of the hashed content and must not depend on a collation.
    for agg in sorted(daily, key=lambda a: (a.device.mn or "", a.device_id, a.parameter, a.series)):
        by_project[agg.device.project_id].append(agg)
    alarms: dict[int, list[dict]] = defaultdict(list)
    raised = (
        Alarm.objects.filter(raised_at__gte=lo, raised_at__lt=hi)
        .values("project_id", "parameter", "severity")
        .annotate(count=Count("id"))
        .order_by()
    )
    for row in sorted(raised, key=lambda r: (r["project_id"], r["parameter"], r["severity"])):
        alarms[row.pop("project_id")].append(row)
    project_ids = sorted(set(by_project) | set(alarms))
    done = set(ReadingDigest.objects.filter(day=day, project_id__in=project_ids).values_list("project_id", flat=True))
    appended = 0
    for project_id in project_ids:
        if project_id in done:
            continue
        with transaction.atomic():
            # The marker's unique key is the guard: a concurrent run waits on it and then finds it taken.
            marker, created = ReadingDigest.objects.select_related("project").get_or_create(
                project_id=project_id, day=day
            )
            if not created:
                continue
            content = digest_content(marker.project.code, day, by_project[project_id], alarms[project_id])
            entry = ledger.append(
                DIGEST_KIND,
                DIGEST_RECORD_TYPE,
                f"{project_id}:{day.isoformat()}",
                content,
                scope=f"project:{project_id}",
            )
            marker.ledger_index = entry.index
            marker.save(update_fields=["ledger_index"])
        appended += 1
    return appended


def digest_pending(now: dt.datetime | None = None) -> int:
    """The periodic job: digest each of the last few days once its late-data window (the roll-up look-back)
    has passed. A day is re-rolled in full before its first digest, so the digest does not depend on the
    10-minute job having run."""
    now = now or timezone.now()
    settle = dt.timedelta(hours=max(settings.READINGS_ROLLUP_LOOKBACK_HOURS, 1))
    today = local_day(now)
    appended = 0
    for back in range(DIGEST_CATCH_UP_DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        if now < day_end(day) + settle:
            continue
        if not ReadingDigest.objects.filter(day=day).exists():
            rollup(day_start(day), day_end(day))
        appended += digest_day(day)
    return appended
