"""Limits evaluated on every stored real-time reading; alarms raised, escalated and cleared by the pure
engine (alarm_engine.py); the district bureau and the general contractor's users are notified."""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from jianguan.accounts.models import User
from jianguan.core import audit
from jianguan.ledger import services as ledger
from jianguan.notify.services import notify
from jianguan.projects import permissions as project_permissions
from jianguan.projects.models import ParticipantRole

from . import actuators
from . import alarm_engine as engine
from .models import Alarm, Device, LimitRule, Reading, RuleState

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


def rules_for(device: Device, parameter: str, ts: dt.datetime) -> list[LimitRule]:
    """The most specific active rules: the jurisdiction's own replace the city-wide default.
    Cached per process (rules change rarely; saving one clears the cache)."""
    jurisdiction_id = device.project.jurisdiction_id
    key = (jurisdiction_id, parameter, device.kind, period_of(ts))
    cached = _rules_cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < RULES_TTL:
        return cached[1]
    rules = list(
        LimitRule.objects.filter(active=True, parameter=parameter)
        .filter(Q(jurisdiction_id=jurisdiction_id) | Q(jurisdiction__isnull=True))
        .filter(Q(device_kind="") | Q(device_kind=device.kind))
        .filter(period__in=[LimitRule.Period.ALL, key[3]])
    )
    local = [r for r in rules if r.jurisdiction_id == jurisdiction_id]
    _rules_cache[key] = (time.monotonic(), local or rules)
    return local or rules


post_save.connect(invalidate_rules, sender=LimitRule)
post_delete.connect(invalidate_rules, sender=LimitRule)


def _limit(rule: LimitRule) -> engine.Limit:
    return engine.Limit(rule.warning, rule.critical, rule.sustain, rule.clear_ratio, rule.clear_count)


def recipients(project) -> list[User]:
    """Who hears of a site alarm: the district bureau's regulators and the general contractor's users."""
    regulators = User.objects.filter(
        is_active=True, role=User.Role.DISTRICT_REGULATOR, department__jurisdiction=project.jurisdiction
    )
    contractors = User.objects.filter(
        is_active=True,
        role=User.Role.ENTERPRISE_USER,
        enterprise__participations__project=project,
        enterprise__participations__role=ParticipantRole.GENERAL_CONTRACTOR,
    )
    return list(regulators) + list(contractors)


def _announce(alarm: Alarm, kind: str) -> None:
    verb = {"raise": "超标告警", "escalate": "告警升级为严重", "clear": "告警已恢复"}[kind]
    rule = alarm.rule
    notify(
        recipients(alarm.project),
        topic=f"alarm.{kind}",
        title=f"【{verb}】{alarm.project.name} {rule.name}",
        body=(
            f"{alarm.device.name}：{rule.name} 当前 {alarm.last_value:g}{rule.unit}，"
            f"峰值 {alarm.peak_value:g}{rule.unit}，"
            f"限值 {rule.warning:g}{rule.unit}（{rule.source}{'' if rule.confirmed else '，默认值待确认'}）"
        ),
        url=f"/projects/{alarm.project_id}/",
    )


def _record_evidence(alarm: Alarm, kind: str) -> None:
    """Alarms go into the evidence log, so a raised or cleared exceedance cannot be edited away later."""
    ledger.append(
        f"alarm.{kind}",
        "sites.alarm",
        alarm.pk,
        {
            "project": alarm.project.code,
            "device": alarm.device.mn or str(alarm.device_id),
            "parameter": alarm.parameter,
            "rule": alarm.rule.name,
            "limit": alarm.rule.warning,
            "severity": alarm.severity,
            "value": alarm.last_value,
            "peak": alarm.peak_value,
            "raised_at": alarm.raised_at.isoformat(),
        },
        scope=f"project:{alarm.project_id}",
    )


def evaluate(device: Device, readings: list[Reading]) -> list[Alarm]:
    """Feeds real-time readings with a valid flag (N or none) to the device's rules, in time order."""
    touched: list[Alarm] = []
    for reading in sorted(readings, key=lambda r: r.ts):
        if reading.series != Reading.Series.REALTIME or reading.value is None or reading.flag not in ("", "N"):
            continue
        for rule in rules_for(device, reading.parameter, reading.ts):
            alarm = _step(device, rule, reading)
            if alarm is not None:
                touched.append(alarm)
    return touched


@transaction.atomic
def _step(device: Device, rule: LimitRule, reading: Reading) -> Alarm | None:
    row = RuleState.objects.select_for_update().filter(device=device, rule=rule).first()
    if row is None:
        if reading.value <= rule.warning:
            return None  # nothing counted yet and nothing to count: the common case stays read-only
        row = RuleState(device=device, rule=rule)
    state = engine.RuleState(row.over, row.under, engine.Severity(row.active) if row.active else None, row.peak)
    state, event = engine.step(_limit(rule), state, reading.value)
    alarm = row.alarm
    if event is not None:
        if event.kind == engine.EventKind.RAISE:
            alarm = Alarm.objects.create(
                project=device.project,
                device=device,
                rule=rule,
                parameter=reading.parameter,
                severity=event.severity,
                raised_at=reading.ts,
                first_value=event.value,
                last_value=event.value,
                peak_value=event.peak,
            )
            _record_evidence(alarm, "raise")
            _announce(alarm, "raise")
            transaction.on_commit(lambda: actuators.on_alarm_raised(alarm))
        elif alarm is not None:
            alarm.last_value, alarm.peak_value, alarm.severity = event.value, event.peak, event.severity
            if event.kind == engine.EventKind.CLEAR:
                alarm.cleared_at = reading.ts
                if alarm.state != Alarm.State.RESOLVED:
                    alarm.state = Alarm.State.CLEARED
            alarm.save()
            if event.kind in (engine.EventKind.ESCALATE, engine.EventKind.CLEAR):
                _record_evidence(alarm, event.kind)
                _announce(alarm, event.kind)
    row.over, row.under, row.peak = state.over, state.under, state.peak
    row.active = state.active or ""
    row.alarm = alarm if state.active else None
    row.save()
    return alarm if event is not None else None


# --- the people's side of the lifecycle ----------------------------------------------------------------


def visible_alarms(user):
    return Alarm.objects.filter(project__in=project_permissions.visible_projects(user)).select_related(
        "project", "device", "rule"
    )


def acknowledge(user, alarm: Alarm, comment: str) -> Alarm:
    if not (
        project_permissions.is_regulator_of(user, alarm.project)
        or project_permissions.participant_roles(user, alarm.project)
    ):
        raise PermissionDenied("您无权确认该告警")
    if not comment.strip():
        raise ValidationError({"comment": "请填写处理意见"})
    if alarm.state != Alarm.State.ACTIVE:
        raise ValidationError({"state": f"告警当前为“{alarm.get_state_display()}”，不能确认"})
    alarm.state, alarm.acknowledged_by, alarm.acknowledged_at = Alarm.State.ACKNOWLEDGED, user, timezone.now()
    alarm.comment = comment.strip()
    alarm.save()
    audit.record(user, "update", alarm, project=alarm.project, changes={"state": "acknowledged", "comment": comment})
    return alarm


def resolve(user, alarm: Alarm, comment: str) -> Alarm:
    if not project_permissions.is_regulator_of(user, alarm.project):
        raise PermissionDenied("只有监管部门可以关闭告警")
    if alarm.state == Alarm.State.RESOLVED:
        raise ValidationError({"state": "告警已关闭"})
    alarm.state, alarm.resolved_at = Alarm.State.RESOLVED, timezone.now()
    alarm.comment = "\n".join(filter(None, [alarm.comment, comment.strip()]))
    alarm.save()
    audit.record(user, "update", alarm, project=alarm.project, changes={"state": "resolved", "comment": comment})
    return alarm
