"""Scheduled smart-site jobs."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from jianguan.core.schedule import utc_hour

from .actuators import commands as actuators
from .alarms import notices, offline
from .readings import aggregates

log = logging.getLogger(__name__)


@db_task(retries=3, retry_delay=10)
def announce_alarm_events(events: list[tuple[int, str]], attempt: int = 0):
    """Notifications of the alarms an ingest batch raised, escalated or cleared. Queued inside the ingest
    transaction: alarms not visible yet are retried shortly (a rolled-back batch's run out quietly)."""
    missing = set(notices.announce_events(events))
    if missing and attempt < 30:  # a minute: longer than any ingest transaction
        announce_alarm_events.schedule(([e for e in events if e[0] in missing], attempt + 1), delay=2)


@db_periodic_task(crontab(minute="*"))
def watch_silent_devices():
    """设备离线: raise an alarm for each monitor silent too long, clear it when its data resumes (offline.py)."""
    raised, cleared = offline.check()
    if raised or cleared:
        log.info("silent monitors: %s alarms raised, %s cleared", raised, cleared)


@db_periodic_task(crontab(minute="*"))
def retry_actuator_commands():
    actuators.retry_overdue()


@db_periodic_task(crontab(minute="*/10"))
def rollup_readings():
    """Hourly and daily aggregates of the last READINGS_ROLLUP_LOOKBACK_HOURS (late data included)."""
    result = aggregates.rollup_recent()
    log.info("readings roll-up: %s hours, %s days, %s buckets", result.hours, result.days, result.buckets)


@db_periodic_task(crontab(minute="40"))
def digest_readings():
    """Each finished day's per-project sensor digest into the evidence log (once per project and day)."""
    appended = aggregates.digest_pending()
    if appended:
        log.info("readings digest: %s evidence-log entries", appended)


@db_periodic_task(crontab(minute="20", hour=utc_hour(3)))
def readings_retention():
    """Nightly at 03:20 local time: delete raw readings past READINGS_RETENTION_DAYS (aggregates stay)."""
    result = aggregates.apply_retention()
    log.info(
        "readings retention: %s days, %s raw rows, %s hourly aggregates deleted",
        result.days,
        result.readings,
        result.hourly,
    )
