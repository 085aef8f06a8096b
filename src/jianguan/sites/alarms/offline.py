"""设备离线: a monitor that goes silent raises an alarm, and the alarm clears when its data resumes.

A scheduled job (tasks.watch_silent_devices, every minute) looks at the active dust/noise monitors of projects
under construction. A monitor is silent when its last data (`Device.last_seen_at`; since its registration if it
never reported) is older than DEVICE_OFFLINE_INTERVALS × its real-time interval, and at least
DEVICE_OFFLINE_MIN_MINUTES; plus store.LAST_SEEN_EVERY, since a gateway writes `last_seen_at` at most that often.
The alarm is an ordinary `Alarm` of the rule "设备离线" (parameter `offline`): it shows in the alarm list, the live
feed and the project page, is announced like other alarms (notices.py) and goes into the evidence log (raise and
clear). Its values are minutes without data. One episode per device at a time (a partial unique constraint);
a regulator may resolve it meanwhile, and a new episode starts only after data resumed.

Why dust/noise monitors only: they run around the clock (night noise limits, continuous dust monitoring), so
silence means trouble. A tower crane's monitor is powered with the crane and goes quiet every evening; gates and
cameras report events, not intervals; sprinklers answer commands.

When no watched monitor at all reported within the floor, the platform's own ingest is down, not the sites: the
job raises nothing then (and logs it), so an outage of ours does not page every district. When reports come in
again, silence is counted from that moment (kept in the cache: Redis in production), so the monitors have their
whole allowance to reconnect after our outage, a restart of the demo, or a fresh installation.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from jianguan.ledger import services as ledger
from jianguan.projects.models import State

from ..ingest.store import LAST_SEEN_EVERY
from ..models import OFFLINE_PARAMETER, Alarm, Device, LimitRule
from .notices import announce_events

log = logging.getLogger(__name__)

WATCHED_KINDS = (Device.Kind.DUST_NOISE,)


def allowed_silence(device: Device) -> dt.timedelta:
    """How long the device may stay silent before it counts as offline."""
    seconds = max(settings.DEVICE_OFFLINE_INTERVALS * device.rtd_interval_s, settings.DEVICE_OFFLINE_MIN_MINUTES * 60)
    return dt.timedelta(seconds=seconds + LAST_SEEN_EVERY)


def watched():
    return Device.objects.filter(
        kind__in=WATCHED_KINDS, retired_at__isnull=True, project__state=State.UNDER_CONSTRUCTION
    ).select_related("project")


def _silent_since(device: Device) -> dt.datetime:
    return device.last_seen_at or device.created_at


def _minutes(span: dt.timedelta) -> float:
    return round(span.total_seconds() / 60, 1)


def check(now: dt.datetime | None = None) -> tuple[int, int]:
    """Raises the alarms of newly silent monitors, updates the open ones (minutes without data) and clears those
    whose data resumed. Returns (raised, cleared)."""
    now = now or timezone.now()
    rule = LimitRule.objects.filter(parameter=OFFLINE_PARAMETER, jurisdiction=None, active=True).first()
    if rule is None:
        return 0, 0  # switched off (its rule deactivated)
    open_alarms = {
        a.device_id: a
        for a in Alarm.objects.filter(rule=rule, cleared_at__isnull=True).select_related("device", "project", "rule")
    }
    events: list[tuple[Alarm, str]] = []
    raised = 0
    with transaction.atomic():  # an alarm, its evidence-log entry and its notices: all or nothing
        cleared = _clear_resumed(open_alarms, now, events)
        since = receiving_since(now)
        if since is not None:
            raised = _raise_silent(rule, open_alarms, now, since, events)
        if events:
            _record(events)
    return raised, cleared


RECEIVING_KEY = "sites:offline:receiving-since"


def receiving_since(now: dt.datetime) -> dt.datetime | None:
    """Since when the platform hears its monitors again (None: it hears none within the floor)."""
    latest = watched().aggregate(m=Max("last_seen_at"))["m"]
    if latest is None or now - latest > dt.timedelta(minutes=settings.DEVICE_OFFLINE_MIN_MINUTES):
        if cache.get(RECEIVING_KEY) is not None or latest is not None:
            log.warning("no monitor reported since %s: the ingest is down, not raising 设备离线 alarms", latest)
        cache.delete(RECEIVING_KEY)
        return None
    if cache.add(RECEIVING_KEY, now.isoformat(), timeout=None):
        return now
    return dt.datetime.fromisoformat(cache.get(RECEIVING_KEY, now.isoformat()))


def _clear_resumed(open_alarms: dict[int, Alarm], now: dt.datetime, events: list) -> int:
    """Clears the episodes whose device sent data since the alarm was raised; the others' minutes go on."""
    cleared = 0
    for device_id, alarm in list(open_alarms.items()):
        device = alarm.device
        if _resumed(alarm, device):
            alarm.cleared_at = device.last_seen_at
            if alarm.state != Alarm.State.RESOLVED:
                alarm.state = Alarm.State.CLEARED
            alarm.save(update_fields=["cleared_at", "state"])
            events.append((alarm, "clear"))
            del open_alarms[device_id]
            cleared += 1
        elif device.retired_at is None:
            minutes = _minutes(now - _silent_since(device))
            if minutes != alarm.last_value:
                alarm.last_value = alarm.peak_value = minutes
                alarm.save(update_fields=["last_value", "peak_value"])
    return cleared


def _resumed(alarm: Alarm, device: Device) -> bool:
    """Data arrived after the silence the alarm was raised for: the last data then was first_value minutes
    before the raise (rounded to 0.1 minute; the margin covers that and the last-seen write interval)."""
    if device.last_seen_at is None:
        return False
    last_then = alarm.raised_at - dt.timedelta(minutes=alarm.first_value)
    return device.last_seen_at > last_then + dt.timedelta(seconds=LAST_SEEN_EVERY)


def _raise_silent(rule: LimitRule, open_alarms: dict[int, Alarm], now: dt.datetime, since, events: list) -> int:
    floor = dt.timedelta(minutes=settings.DEVICE_OFFLINE_MIN_MINUTES)
    candidates = watched().filter(
        Q(last_seen_at__lt=now - floor) | Q(last_seen_at__isnull=True, created_at__lt=now - floor)
    )
    raised = 0
    for device in candidates.exclude(pk__in=list(open_alarms)):
        if now - max(_silent_since(device), since) <= allowed_silence(device):
            continue  # not silent long enough, or not since the platform hears its monitors again
        minutes = _minutes(now - _silent_since(device))
        alarm = Alarm(
            project=device.project,
            device=device,
            rule=rule,
            parameter=OFFLINE_PARAMETER,
            severity="warning",
            raised_at=now,
            first_value=minutes,
            last_value=minutes,
            peak_value=minutes,
        )
        try:
            with transaction.atomic():
                alarm.save()
        except IntegrityError:  # another run raised it meanwhile
            continue
        events.append((alarm, "raise"))
        raised += 1
    return raised


def _record(events: list[tuple[Alarm, str]]) -> None:
    """Evidence-log entries and the notices (in-app, email, group robots) of the raised and cleared alarms, in the
    run's transaction (the notices' outgoing copies are queued on its commit)."""
    items = [
        ledger.Item(f"alarm.{kind}", "sites.alarm", str(a.pk), a.evidence(), scope=f"project:{a.project_id}")
        for a, kind in events
    ]
    ledger.append_many(items, want_entries=False)
    announce_events([(a.pk, kind) for a, kind in events])
