"""Scheduled smart-site jobs."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import actuators


@db_periodic_task(crontab(minute="*"))
def retry_actuator_commands():
    actuators.retry_overdue()
