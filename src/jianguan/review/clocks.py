"""The statutory time limits as configured (settings.py, docs/configuration.md "Permits"), with their sources, and
where an application stands against them. The day arithmetic is timelimits.py (pure)."""

from __future__ import annotations

import datetime as dt
from functools import cache

from django.conf import settings
from django.utils import timezone

from . import timelimits
from .timelimits import Limit

DECISION_SOURCE = (
    "《中华人民共和国建筑法》（2019 年修正）：发证机关应当自收到申请之日起七日内，对符合条件的申请颁发施工许可证"
    "（按常见引用，未核对官方文本；1999 年《建筑工程施工许可管理办法》为十五日）"
)
NOTICE_SOURCE = (
    "《中华人民共和国行政许可法》第三十二条：申请材料不齐全的，应当当场或者在五日内一次告知申请人需要补正的全部内容；"
    "材料补齐之日起重新计算审查期限"
)


def decision_limit() -> Limit:
    return Limit("审查决定时限", settings.PERMIT_DECISION_DAYS, settings.PERMIT_DAY_COUNT, DECISION_SOURCE)


def notice_limit() -> Limit:
    return Limit("补正告知时限", settings.PERMIT_INCOMPLETE_NOTICE_DAYS, settings.PERMIT_DAY_COUNT, NOTICE_SOURCE)


@cache
def _china_holidays():
    import holidays

    return holidays.country_holidays("CN")  # statutory holidays and the make-up working weekends (调休)


def workday(day: dt.date) -> bool:
    """Whether `day` is a working day: a calendar-day limit's last day moves past weekends and holidays to the next
    working day; a working-day limit counts only these days."""
    return _china_holidays().is_working_day(day)


def local_day(when: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(when) if when is not None else None


def decision_clock(complete_at: dt.datetime | None, today: dt.date | None = None) -> timelimits.Clock | None:
    """Where an application complete since `complete_at` stands against the decision limit."""
    if complete_at is None:
        return None
    today = today or timezone.localdate()
    return timelimits.clock(local_day(complete_at), today, decision_limit(), workday)


def notice_clock(received_at: dt.datetime | None, today: dt.date | None = None) -> timelimits.Clock | None:
    if received_at is None:
        return None
    today = today or timezone.localdate()
    return timelimits.clock(local_day(received_at), today, notice_limit(), workday)


def overdue_before(today: dt.date | None = None) -> dt.datetime:
    """Applications complete before this moment are past the decision limit today (for database filters)."""
    today = today or timezone.localdate()
    first_on_time = timelimits.earliest_start_on_time(today, decision_limit(), workday)
    return timezone.make_aware(dt.datetime.combine(first_on_time, dt.time.min))
