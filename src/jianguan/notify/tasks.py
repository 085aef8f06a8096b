"""Outbox jobs: send a message's deliveries right after the commit; retry what is due every minute; purge
finished rows nightly."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from jianguan.core.schedule import utc_hour

from . import outbox

log = logging.getLogger(__name__)


@db_task()
def deliver_message(message_id: int):
    outbox.deliver_due(message_id=message_id)


@db_periodic_task(crontab(minute="*"))
def retry_deliveries():
    counts = outbox.deliver_due()
    if any(counts.values()):
        log.info("notify outbox: %s", counts)


@db_periodic_task(crontab(hour=utc_hour(3), minute="40"))  # 03:40 local time
def purge_outbox():
    counts = outbox.purge_outbox()
    if any(counts.values()):
        log.info("notify outbox purged: %s", counts)
