"""Statutory time limits of a permit application, counted in calendar or working days. Pure: no Django.

The limits themselves are data (`Limit`: days, how they are counted, and their source), configured in
settings.py (PERMIT_DECISION_DAYS, PERMIT_INCOMPLETE_NOTICE_DAYS, PERMIT_DAY_COUNT) and shown on the pages with
their source. Working days are Monday to Friday unless `is_workday` says otherwise (the caller passes the
country's holiday calendar, with its make-up working weekends).

Day arithmetic follows the general rules on periods (民法典 第二百零一条至第二百零四条, which administrative
practice follows): the day of receipt is not counted, so a 7-day limit from 3 March ends at the end of 10 March;
when the last day is not a working day, the period ends on the next working day. Counted in working days, only
working days count at all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

CALENDAR = "calendar"
WORKING = "working"
DAY_COUNTS = {CALENDAR: "自然日", WORKING: "工作日"}

Workday = Callable[[dt.date], bool]


def weekdays(day: dt.date) -> bool:
    """Monday to Friday (no holiday calendar)."""
    return day.weekday() < 5


@dataclass(frozen=True)
class Limit:
    """A time limit: `days` counted as `count` (CALENDAR or WORKING), with its source in words."""

    label: str
    days: int
    count: str
    source: str

    @property
    def count_label(self) -> str:
        return DAY_COUNTS[self.count]

    @property
    def text(self) -> str:
        return f"{self.days} 个{self.count_label}"


def add_days(start: dt.date, limit: Limit, is_workday: Workday = weekdays) -> dt.date:
    """The last day of `limit` counted from `start` (the day of receipt not counted; a last day off work moves to
    the next working day)."""
    if limit.count == CALENDAR:
        day = start + dt.timedelta(days=limit.days)
        while not is_workday(day):  # a last day off work moves to the next working day
            day += dt.timedelta(days=1)
        return day
    day, left = start, limit.days
    while left > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def days_between(start: dt.date, today: dt.date, count: str, is_workday: Workday = weekdays) -> int:
    """How many days (of the kind `count`) have passed since `start`, `start` itself not counted."""
    if today <= start:
        return 0
    if count == CALENDAR:
        return (today - start).days
    return sum(1 for n in range(1, (today - start).days + 1) if is_workday(start + dt.timedelta(days=n)))


def is_overdue(start: dt.date, today: dt.date, limit: Limit, is_workday: Workday = weekdays) -> bool:
    return today > add_days(start, limit, is_workday)


def earliest_start_on_time(today: dt.date, limit: Limit, is_workday: Workday = weekdays) -> dt.date:
    """The earliest start date whose limit has not yet run out on `today`: a case that started before it is
    overdue (so a database filter on the start date finds the overdue ones). The last day is monotonic in the
    start, so this walks back from today until the limit would be over."""
    day = today
    for _ in range(limit.days * 3 + 60):  # bounded: a limit in working days spans at most ~3x as many days
        before = day - dt.timedelta(days=1)
        if is_overdue(before, today, limit, is_workday):
            return day
        day = before
    return day


@dataclass(frozen=True)
class Clock:
    """Where one application stands against a limit."""

    start: dt.date
    due: dt.date
    elapsed: int
    remaining: int  # days of the limit's kind left (negative: overdue by that many)
    overdue: bool


def clock(start: dt.date, today: dt.date, limit: Limit, is_workday: Workday = weekdays) -> Clock:
    due = add_days(start, limit, is_workday)
    elapsed = days_between(start, today, limit.count, is_workday)
    if today <= due:
        remaining = days_between(today, due, limit.count, is_workday)
    else:
        remaining = -days_between(due, today, limit.count, is_workday)
    return Clock(start=start, due=due, elapsed=elapsed, remaining=remaining, overdue=today > due)
