"""The limits as configured: calendar days by default, China's working days (holidays and make-up weekends from the
`holidays` calendar) when the bureau sets PERMIT_DAY_COUNT=working; the pages say which is used."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from jianguan.review import clocks

BEFORE_NATIONAL_DAY = timezone.make_aware(dt.datetime(2025, 9, 26, 10, 0))  # a Friday


def test_calendar_days_move_a_last_day_in_the_national_day_holiday_to_the_next_working_day():
    clock = clocks.decision_clock(BEFORE_NATIONAL_DAY, today=dt.date(2025, 10, 8))
    assert clock.due == dt.date(2025, 10, 9)  # 3 October is a holiday; 1-8 October off in 2025
    assert (clock.elapsed, clock.overdue) == (12, False)


def test_working_days_count_the_make_up_weekends_and_skip_the_holiday(settings):
    settings.PERMIT_DAY_COUNT = "working"
    clock = clocks.decision_clock(BEFORE_NATIONAL_DAY, today=dt.date(2025, 10, 9))
    # 28 Sep (a worked Sunday), 29, 30 Sep, 9, 10, 11 (a worked Saturday), 13 Oct.
    assert clock.due == dt.date(2025, 10, 13)
    assert (clock.elapsed, clock.remaining, clock.overdue) == (4, 3, False)
    assert clocks.decision_limit().text == "7 个工作日"


def test_the_queue_says_how_days_are_counted(settings, lanshan_regulator):
    client = Client()
    client.force_login(lanshan_regulator)
    assert "7 个自然日" in client.get("/projects/review/").content.decode()
    settings.PERMIT_DAY_COUNT = "working"
    settings.PERMIT_DECISION_DAYS = 15
    page = client.get("/projects/review/").content.decode()
    assert "15 个工作日" in page and "当前按工作日计算" in page
