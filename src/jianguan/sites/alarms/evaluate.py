"""Limits evaluated on every stored real-time reading: the batch's rule states are advanced by the pure engine
(engine.py); raised, escalated and cleared alarms go into the evidence log, are announced (notices.py, in a
task) and a dust alarm switches the site's fog cannons on (actuators)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction

from jianguan.ledger import services as ledger

from .. import tasks
from ..actuators import commands as actuators
from ..models import Alarm, Device, LimitRule, Reading, RuleState
from . import engine
from .notices import announce_events
from .rules import device_rule_keys, limit_of, period_of, rules_in_period

log = logging.getLogger(__name__)


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
    state, event = engine.step(limit_of(rule), state, reading.value)
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
            events.append((alarm, "raise", alarm.evidence()))
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
                events.append((alarm, str(event.kind), alarm.evidence()))
    row.over, row.under, row.peak = state.over, state.under, state.peak
    row.active = state.active or ""
    row.alarm = alarm if state.active else None
    return alarm if event is not None else None
