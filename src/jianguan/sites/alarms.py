"""Limits evaluated on every stored real-time reading; alarms raised, escalated and cleared by the pure
engine (alarm_engine.py); the district bureau and the general contractor's users are notified."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
import zoneinfo
from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from jianguan.accounts.models import User
from jianguan.core import audit
from jianguan.ledger import services as ledger
from jianguan.notify.services import notify
from jianguan.projects import permissions as project_permissions
from jianguan.projects.models import ParticipantRole

from . import actuators, cranes
from . import alarm_engine as engine
from .models import Alarm, Device, LimitRule, Reading, RuleState

log = logging.getLogger(__name__)
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


def _limit(rule: LimitRule) -> engine.Limit:
    return engine.Limit(rule.warning, rule.critical, rule.sustain, rule.clear_ratio, rule.clear_count)


def recipients(project) -> list[User]:
    """Who hears of a site alarm: the district bureau's regulators, the users who are the project's 项目经理
    and 专职安全员 (User.person is their key person), and the general contractor's users."""
    from jianguan.projects.models import KeyPostRole

    regulators = User.objects.filter(
        is_active=True, role=User.Role.DISTRICT_REGULATOR, department__jurisdiction=project.jurisdiction
    )
    key_people = User.objects.filter(
        is_active=True,
        person__key_posts__project=project,
        person__key_posts__role__in=[KeyPostRole.PROJECT_MANAGER, KeyPostRole.SAFETY_OFFICER],
    )
    contractors = User.objects.filter(
        is_active=True,
        role=User.Role.ENTERPRISE_USER,
        enterprise__participations__project=project,
        enterprise__participations__role=ParticipantRole.GENERAL_CONTRACTOR,
    )
    found = {u.pk: u for qs in (regulators, key_people, contractors) for u in qs}
    return list(found.values())


def _body(alarm: Alarm, kind: str) -> str:
    rule = alarm.rule
    if alarm.parameter == cranes.PARAMETER:  # a yes/no check: its reasons say more than its value
        check = getattr(alarm.device, "operator_check", None)
        if kind == "clear":
            return f"{alarm.device.name}：当前司机资格核验通过（{rule.source}）"
        reasons = "；".join(check.messages) if check is not None and not check.ok else "资格核验未通过"
        who = f"（{check.id_number_masked}）" if check is not None and check.id_number_masked else ""
        return f"{alarm.device.name}：塔机司机{who}{reasons}（{rule.source}）"
    return (
        f"{alarm.device.name}：{rule.name} 当前 {alarm.last_value:g}{rule.unit}，"
        f"峰值 {alarm.peak_value:g}{rule.unit}，"
        f"限值 {rule.warning:g}{rule.unit}（{rule.source}{'' if rule.confirmed else '，默认值待确认'}）"
    )


def _announce(alarm: Alarm, kind: str) -> None:
    verb = {"raise": "超标告警", "escalate": "告警升级为严重", "clear": "告警已恢复"}[kind]
    rule = alarm.rule
    notify(
        recipients(alarm.project),
        topic=f"alarm.{kind}",
        title=f"【{verb}】{alarm.project.name} {rule.name}",
        body=_body(alarm, kind),
        url=f"/projects/{alarm.project_id}/",
        project=alarm.project,  # the group robots of its district (and city-wide ones) hear of it too
    )


def _evidence(alarm: Alarm) -> dict:
    """Alarms go into the evidence log, so a raised or cleared exceedance cannot be edited away later.
    The content is the alarm as it is at the event (taken then: later readings of the batch move it)."""
    return {
        "project": alarm.project.code,
        "device": alarm.device.mn or str(alarm.device_id),
        "parameter": alarm.parameter,
        "rule": alarm.rule.name,
        "limit": alarm.rule.warning,
        "severity": alarm.severity,
        "value": alarm.last_value,
        "peak": alarm.peak_value,
        "raised_at": alarm.raised_at.isoformat(),
    }


def announce_events(events: list[tuple[int, str]]) -> list[int]:
    """Notifies the people of each (alarm id, event kind), in a task after the ingest transaction, so
    a burst of alarms never holds up the readings behind it. Returns the ids not found (not committed
    yet, or rolled back)."""
    found = Alarm.objects.select_related("project", "device", "rule").in_bulk([pk for pk, _ in events])
    for pk, kind in events:
        if pk in found:
            _announce(found[pk], kind)
    return [pk for pk, _ in events if pk not in found]


def _evaluable(sample) -> bool:
    return sample.series == Reading.Series.REALTIME and sample.value is not None and sample.flag in ("", "N")


def evaluate_batch(batch) -> list[Alarm]:
    """Feeds a batch of (device id, samples) to the rules. The rule states of the batch's devices are read
    (and locked on PostgreSQL) in one query and written back in one; the common case (values under the
    limits, nothing counted) touches no state at all. Alarms are created, escalated and cleared as events
    happen, each announced, commanded and recorded in the evidence log."""
    work = []
    keys = device_rule_keys({device_id for device_id, samples in batch if samples})
    periods: dict[dt.datetime, str] = {}  # a packet's samples share their time
    for device_id, samples in batch:
        if device_id not in keys:
            continue
        jurisdiction_id, kind = keys[device_id]
        for sample in sorted(samples, key=lambda s: s.ts):
            if _evaluable(sample):
                period = periods.get(sample.ts)
                if period is None:
                    period = periods[sample.ts] = period_of(sample.ts)
                rules = rules_in_period(jurisdiction_id, kind, sample.parameter, period)
                if rules:
                    work.append((device_id, sample, rules))
    if not work:
        return []
    with transaction.atomic():
        locked = RuleState.objects.filter(device_id__in={w[0] for w in work}).select_related("alarm")
        if connection.features.has_select_for_update_of:
            locked = locked.select_for_update(of=("self",))  # the states, not their alarms
        states = {(row.device_id, row.rule_id): row for row in locked}
        # The devices that may raise an alarm in this batch (a reading over a limit), in one query.
        maybe = {d for d, sample, rules in work if any(sample.value > rule.warning for rule in rules)}
        devices: dict[int, Device] = Device.objects.select_related("project").in_bulk(maybe) if maybe else {}
        touched: list[Alarm] = []
        changed: dict[tuple[int, int], RuleState] = {}
        updated: dict[int, Alarm] = {}  # alarms whose values moved: written once, at the end
        created: list[Alarm] = []  # raised in this batch: inserted together, at the end
        events: list[tuple[Alarm, str, dict]] = []  # raised, escalated, cleared: evidence and news
        for device_id, sample, rules in work:
            for rule in rules:
                row = states.get((device_id, rule.pk))
                if row is None:
                    if sample.value <= rule.warning:
                        continue  # nothing counted yet and nothing to count: the common case stays read-only
                    row = states[(device_id, rule.pk)] = RuleState(device_id=device_id, rule=rule)
                before = (row.over, row.under, row.active, row.peak, row.alarm_id)
                alarm = _step(devices.get(device_id), rule, row, sample, updated, created, events)
                if alarm is not None:
                    touched.append(alarm)
                if (row.over, row.under, row.active, row.peak, row.alarm_id) != before or row.pk is None:
                    changed[(device_id, rule.pk)] = row
        if created:
            Alarm.objects.bulk_create(created)  # ids come back (RETURNING) before the states refer to them
        if updated:
            # One prepared statement for all (Django's bulk_update builds a CASE per row and field: slow).
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {Alarm._meta.db_table} SET last_value = %s, peak_value = %s, severity = %s WHERE id = %s",
                    [(a.last_value, a.peak_value, a.severity, a.pk) for a in updated.values()],
                )
        _save_states(list(changed.values()))
        if events:
            from . import tasks

            ledger.append_many(
                [
                    ledger.Item(
                        f"alarm.{kind}", "sites.alarm", str(alarm.pk), content, scope=f"project:{alarm.project_id}"
                    )
                    for alarm, kind, content in events
                ],
                want_entries=False,
            )
            news = [(alarm.pk, kind) for alarm, kind, _ in events]
            try:
                # Queued before the commit, so no crash after it can lose the news; the task waits for
                # the commit (it retries while the alarms are not visible yet).
                tasks.announce_alarm_events(news)
            except Exception:  # the queue is away: announce here, slower but nothing is lost
                log.exception("alarm announcements could not be queued; announcing inline")
                announce_events(news)
            for alarm, kind, _ in events:
                if kind == "raise":
                    transaction.on_commit(lambda a=alarm: actuators.on_alarm_raised(a))
    return touched


def _save_states(rows: list[RuleState]) -> None:
    """One upsert for new and changed states. Two gateways may count the same device after a reconnect:
    the later write wins, no error."""
    if rows:
        RuleState.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["device", "rule"],
            update_fields=["over", "under", "active", "peak", "alarm"],
        )


def _step(
    device: Device | None,
    rule: LimitRule,
    row: RuleState,
    reading,
    updated: dict[int, Alarm],
    created: list,
    events: list,
) -> Alarm | None:
    """Advances one rule state by one reading and acts on the event. `device` is loaded when the reading
    exceeds a limit (the only way to raise). The caller saves `row`, inserts the alarms in `created`, writes
    those in `updated` (a value update of an open alarm is written once per batch, not per reading), records
    `events` in the evidence log and announces them."""
    state = engine.RuleState(row.over, row.under, engine.Severity(row.active) if row.active else None, row.peak)
    state, event = engine.step(_limit(rule), state, reading.value)
    alarm = row.alarm  # loaded with the state, or raised earlier in this batch (not saved yet); else None
    if event is not None:
        if event.kind == engine.EventKind.RAISE:
            assert device is not None  # a raise needs a reading over the limit: its device was loaded
            alarm = Alarm(
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
            created.append(alarm)
            events.append((alarm, "raise", _evidence(alarm)))
        elif alarm is not None:
            moved = (alarm.last_value, alarm.peak_value, alarm.severity) != (event.value, event.peak, event.severity)
            alarm.last_value, alarm.peak_value, alarm.severity = event.value, event.peak, event.severity
            if event.kind == engine.EventKind.CLEAR:
                alarm.cleared_at = reading.ts
                if alarm.state != Alarm.State.RESOLVED:
                    alarm.state = Alarm.State.CLEARED
            if alarm.pk is None:
                pass  # raised in this batch: inserted at the end as it is then
            elif event.kind == engine.EventKind.UPDATE:
                if moved:  # a steady value writes nothing
                    updated[alarm.pk] = alarm
            else:
                alarm.save()
                updated.pop(alarm.pk, None)
            if event.kind != engine.EventKind.UPDATE:
                events.append((alarm, str(event.kind), _evidence(alarm)))
    row.over, row.under, row.peak = state.over, state.under, state.peak
    row.active = state.active or ""
    row.alarm = alarm if state.active else None
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
