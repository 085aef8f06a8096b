"""Alarm rules' state machine, pure: raise on sustained exceedance, escalate, clear with hysteresis.

Per (device, rule) a `RuleState` counts consecutive readings over the limit and under the clear level.
The caller persists the state and acts on the returned `Event`s (store the alarm, notify, command sprinklers).
Design after the IoT platforms' alarm rules (ThingsBoard: create/clear conditions with durations).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class Severity(StrEnum):
    WARNING = "warning"
    CRITICAL = "critical"


class EventKind(StrEnum):
    RAISE = "raise"
    ESCALATE = "escalate"
    UPDATE = "update"
    CLEAR = "clear"


@dataclass(frozen=True)
class Limit:
    warning: float  # a value above this counts as an exceedance
    critical: float | None = None  # above this the alarm is (or becomes) critical
    sustain: int = 3  # consecutive exceedances before raising (1 = at once)
    clear_ratio: float = 0.9  # hysteresis: clears once values stay below warning × ratio …
    clear_count: int = 3  # … for this many consecutive readings

    def __post_init__(self):
        if self.sustain < 1 or self.clear_count < 1 or not 0 < self.clear_ratio <= 1:
            raise ValueError("sustain and clear_count ≥ 1, 0 < clear_ratio ≤ 1")
        if self.critical is not None and self.critical < self.warning:
            raise ValueError("critical must not be below warning")

    @property
    def clear_level(self) -> float:
        return self.warning * self.clear_ratio


@dataclass(frozen=True)
class RuleState:
    over: int = 0  # consecutive readings above the warning level
    under: int = 0  # consecutive readings below the clear level (while active)
    active: Severity | None = None  # the open alarm's severity, if any
    peak: float | None = None


@dataclass(frozen=True)
class Event:
    kind: EventKind
    severity: Severity
    value: float
    peak: float


def _severity(limit: Limit, value: float) -> Severity:
    return Severity.CRITICAL if limit.critical is not None and value > limit.critical else Severity.WARNING


def step(limit: Limit, state: RuleState, value: float) -> tuple[RuleState, Event | None]:
    """Feed one valid reading (flag N). Returns the new state and what happened, if anything."""
    over = value > limit.warning
    under = value < limit.clear_level
    # The counts stop at what the rule needs: a steady state then stays equal, so nothing is written for it.
    state = replace(
        state,
        over=min(state.over + 1, limit.sustain) if over else 0,
        under=min(state.under + 1, limit.clear_count) if under else 0,
    )
    if state.active is None:
        if over and state.over >= limit.sustain:
            severity = _severity(limit, value)
            return replace(state, active=severity, peak=value, under=0), Event(EventKind.RAISE, severity, value, value)
        return state, None
    peak = max(state.peak if state.peak is not None else value, value)
    state = replace(state, peak=peak)
    if state.under >= limit.clear_count:
        event = Event(EventKind.CLEAR, state.active, value, peak)
        return RuleState(), event
    if over and state.active == Severity.WARNING and _severity(limit, value) == Severity.CRITICAL:
        return replace(state, active=Severity.CRITICAL), Event(EventKind.ESCALATE, Severity.CRITICAL, value, peak)
    if over:
        return state, Event(EventKind.UPDATE, state.active, value, peak)
    return state, None
