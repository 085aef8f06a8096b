"""The statutory clock: a limit counted in calendar or working days from the day after receipt, the last day moved
past days off, and the overdue threshold a database filter uses."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from jianguan.review import timelimits as tl

D = dt.date
SEVEN = tl.Limit("审查决定时限", 7, tl.CALENDAR, "test")
SEVEN_WORKING = tl.Limit("审查决定时限", 7, tl.WORKING, "test")
# The 2025 National Day holiday (1-8 October off, Sunday 28 September and Saturday 11 October worked).
NATIONAL_DAY_OFF = {D(2025, 10, d) for d in range(1, 9)}
NATIONAL_DAY_WORKED = {D(2025, 9, 28), D(2025, 10, 11)}


def china_2025(day: dt.date) -> bool:
    if day in NATIONAL_DAY_WORKED:
        return True
    return day.weekday() < 5 and day not in NATIONAL_DAY_OFF


def test_a_calendar_limit_does_not_count_the_day_of_receipt():
    assert tl.add_days(D(2026, 3, 3), SEVEN) == D(2026, 3, 10)  # a Tuesday: its last day is a Tuesday


def test_a_calendar_limit_ending_on_a_day_off_ends_on_the_next_working_day():
    assert tl.add_days(D(2026, 3, 7), SEVEN) == D(2026, 3, 16)  # Saturday + 7 = Saturday → Monday
    assert tl.add_days(D(2025, 9, 26), SEVEN, china_2025) == D(2025, 10, 9)  # 3 Oct in the holiday → 9 Oct


def test_a_working_day_limit_skips_weekends_and_holidays_and_counts_make_up_days():
    assert tl.add_days(D(2026, 3, 6), SEVEN_WORKING) == D(2026, 3, 17)  # Friday + 7 working days
    # From Friday 26 Sep 2025: 28 Sep (worked Sunday), 29, 30 Sep, then 9, 10, 11 (worked Saturday), 13 Oct.
    assert tl.add_days(D(2025, 9, 26), SEVEN_WORKING, china_2025) == D(2025, 10, 13)


def test_the_clock_says_elapsed_remaining_and_overdue():
    on_time = tl.clock(D(2026, 3, 3), D(2026, 3, 8), SEVEN)
    assert (on_time.elapsed, on_time.remaining, on_time.overdue, on_time.due) == (5, 2, False, D(2026, 3, 10))
    last_day = tl.clock(D(2026, 3, 3), D(2026, 3, 10), SEVEN)
    assert (last_day.remaining, last_day.overdue) == (0, False)
    late = tl.clock(D(2026, 3, 3), D(2026, 3, 13), SEVEN)
    assert (late.elapsed, late.remaining, late.overdue) == (10, -3, True)


def test_working_days_elapsed_count_only_working_days():
    assert tl.days_between(D(2026, 3, 6), D(2026, 3, 9), tl.WORKING) == 1  # Sat, Sun, Mon
    assert tl.days_between(D(2026, 3, 6), D(2026, 3, 9), tl.CALENDAR) == 3
    assert tl.days_between(D(2026, 3, 9), D(2026, 3, 6), tl.CALENDAR) == 0


@given(
    today=st.dates(min_value=D(2024, 1, 1), max_value=D(2027, 12, 31)),
    limit=st.sampled_from([SEVEN, SEVEN_WORKING, tl.Limit("x", 15, tl.CALENDAR, ""), tl.Limit("x", 5, tl.WORKING, "")]),
    back=st.integers(min_value=0, max_value=60),
)
def test_the_overdue_threshold_separates_overdue_starts_from_those_on_time(today, limit, back):
    """What a database filter relies on: a start before the threshold is overdue today, one on or after it is not."""
    threshold = tl.earliest_start_on_time(today, limit, china_2025)
    start = today - dt.timedelta(days=back)
    assert tl.is_overdue(start, today, limit, china_2025) == (start < threshold)
