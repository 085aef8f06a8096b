"""Which limit rules apply to a reading: the district's own active rules replace the city-wide defaults, by
device kind and time of day (GB 12523 day/night), cached per process and cleared when a rule is saved."""

from __future__ import annotations

import datetime as dt
import functools
import time
import zoneinfo
from collections.abc import Callable

from django.db.models import Q
from django.db.models.signals import post_delete, post_save

from ..models import OFFLINE_PARAMETER, Device, LimitRule
from . import engine

LOCAL = zoneinfo.ZoneInfo("Asia/Shanghai")
# GB 12523-2011: day 06:00–22:00, night 22:00–06:00 (unless the local government sets other hours).
DAY_START, DAY_END = dt.time(6), dt.time(22)


def period_of(ts: dt.datetime) -> str:
    local = ts.astimezone(LOCAL).time()
    return LimitRule.Period.DAY if DAY_START <= local < DAY_END else LimitRule.Period.NIGHT


# Per process, for RULES_TTL seconds: a rule edited in another process (the web pages) takes effect here
# within that time; in this process at once (signals).
RULES_TTL = 60.0
_rules_cache: dict[tuple, tuple[float, list[LimitRule]]] = {}


def invalidate_rules(**kwargs) -> None:
    _rules_cache.clear()
    _device_cache.clear()


def rules_for(device: Device, parameter: str, ts: dt.datetime) -> list[LimitRule]:
    return rules_in_period(device.project.jurisdiction_id, device.kind, parameter, period_of(ts))


def rules_in_period(jurisdiction_id: int, device_kind: str, parameter: str, period: str) -> list[LimitRule]:
    """The most specific active rules: the jurisdiction's own replace the city-wide default.
    Cached per process (rules change rarely; saving one clears the cache)."""
    key = (jurisdiction_id, parameter, device_kind, period)
    cached = _rules_cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < RULES_TTL:
        return cached[1]
    rules = list(
        LimitRule.objects.filter(active=True, parameter=parameter)
        .exclude(parameter=OFFLINE_PARAMETER)  # raised by the silence watch, never by a reading of that name
        .filter(Q(jurisdiction_id=jurisdiction_id) | Q(jurisdiction__isnull=True))
        .filter(Q(device_kind="") | Q(device_kind=device_kind))
        .filter(period__in=[LimitRule.Period.ALL, key[3]])
    )
    chosen = _most_specific(rules, jurisdiction_id)
    _rules_cache[key] = (time.monotonic(), chosen)
    return chosen


def _most_specific(rules: list[LimitRule], jurisdiction_id: int) -> list[LimitRule]:
    """Of the applicable rules, the jurisdiction's own if it has any, else the city-wide ones."""
    local = [r for r in rules if r.jurisdiction_id == jurisdiction_id]
    return local or rules


def warning_level(jurisdiction_id: int, device_kind: str, parameter: str, period: str) -> float | None:
    """The level above which a value counts as an exceedance of some applicable rule; None without a rule."""
    rules = rules_in_period(jurisdiction_id, device_kind, parameter, period)
    return min((rule.warning for rule in rules), default=None)


def warning_levels(device_kind: str, parameters: list[str]) -> Callable[[int, str, str], float | None]:
    """warning_level for many devices at once (the monitoring overview): the active rules of these parameters
    in one query, then (jurisdiction, parameter, period) → level without another."""
    rules = list(
        LimitRule.objects.filter(active=True, parameter__in=parameters).filter(
            Q(device_kind="") | Q(device_kind=device_kind)
        )
    )

    @functools.cache
    def level(jurisdiction_id: int, parameter: str, period: str) -> float | None:
        applicable = [
            r
            for r in rules
            if r.parameter == parameter
            and r.jurisdiction_id in (jurisdiction_id, None)
            and r.period in (LimitRule.Period.ALL, period)
        ]
        return min((r.warning for r in _most_specific(applicable, jurisdiction_id)), default=None)

    return level


# Device → (jurisdiction, kind) for the rules, cached like the rules (a moved device is seen within the TTL).
_device_cache: dict[int, tuple[float, int, str]] = {}


def device_rule_keys(device_ids: set[int]) -> dict[int, tuple[int, str]]:
    now = time.monotonic()
    missing = [d for d in device_ids if d not in _device_cache or now - _device_cache[d][0] >= RULES_TTL]
    if missing:
        for pk, jurisdiction_id, kind in Device.objects.filter(pk__in=missing).values_list(
            "pk", "project__jurisdiction_id", "kind"
        ):
            _device_cache[pk] = (now, jurisdiction_id, kind)
    return {d: _device_cache[d][1:] for d in device_ids if d in _device_cache}


post_save.connect(invalidate_rules, sender=LimitRule)
post_delete.connect(invalidate_rules, sender=LimitRule)


def limit_of(rule: LimitRule) -> engine.Limit:
    return engine.Limit(rule.warning, rule.critical, rule.sustain, rule.clear_ratio, rule.clear_count)
