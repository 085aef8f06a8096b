import pytest
from hypothesis import given
from hypothesis import strategies as st

from jianguan.sites.alarms.engine import EventKind, Limit, RuleState, Severity, step

PM25 = Limit(warning=75, critical=150, sustain=3, clear_ratio=0.9, clear_count=2)


def run(limit, values):
    state, events = RuleState(), []
    for v in values:
        state, event = step(limit, state, v)
        if event:
            events.append((event.kind, event.severity))
    return state, events


def test_raise_only_when_sustained():
    _, events = run(PM25, [80, 90, 60, 80, 80])
    assert events == []
    _, events = run(PM25, [80, 90, 95])
    assert events == [(EventKind.RAISE, Severity.WARNING)]


def test_escalate_and_clear_with_hysteresis():
    state, events = run(PM25, [80, 80, 80, 160, 74, 70, 60, 50])
    # 74 is under the limit but above the clear level 67.5: it does not count toward clearing.
    assert events == [
        (EventKind.RAISE, Severity.WARNING),
        (EventKind.ESCALATE, Severity.CRITICAL),
        (EventKind.CLEAR, Severity.CRITICAL),
    ]
    assert state == RuleState()


def test_one_alarm_per_episode():
    _, events = run(PM25, [80] * 20)
    assert [k for k, _ in events].count(EventKind.RAISE) == 1


def test_bad_limits_rejected():
    with pytest.raises(ValueError):
        Limit(warning=10, critical=5)
    with pytest.raises(ValueError):
        Limit(warning=10, sustain=0)


@given(st.lists(st.floats(0, 400, allow_nan=False), max_size=200))
def test_raise_and_clear_alternate(values):
    _, events = run(PM25, values)
    opens = 0
    for kind, _ in events:
        if kind == EventKind.RAISE:
            assert opens == 0
            opens = 1
        elif kind == EventKind.CLEAR:
            assert opens == 1
            opens = 0
        else:
            assert opens == 1
