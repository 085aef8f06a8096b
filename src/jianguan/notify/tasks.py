"""Outbox jobs: send a message's deliveries right after the commit; retry what is due every minute."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from . import services

log = logging.getLogger(__name__)


@db_task()
def deliver_message(message_id: int):
    services.deliver_due(message_id=message_id)


@db_periodic_task(crontab(minute="*"))
def retry_deliveries():
    counts = services.deliver_due()
    if any(counts.values()):
        log.info("notify outbox: %s", counts)
