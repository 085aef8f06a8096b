"""Schedules of periodic jobs: huey reads crontabs in UTC (HUEY["utc"]), people think in local time."""

import datetime as dt

from django.utils import timezone


def utc_hour(local_hour: int) -> str:
    """The UTC hour, for a crontab, of a local wall-clock hour (TIME_ZONE; whole-hour offsets such as
    Asia/Shanghai's, without daylight saving)."""
    offset = dt.datetime.now(dt.UTC).astimezone(timezone.get_default_timezone()).utcoffset() or dt.timedelta()
    return str((local_hour - int(offset.total_seconds() // 3600)) % 24)
