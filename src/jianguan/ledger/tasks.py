"""Scheduled evidence-log jobs: signed checkpoints every few minutes, a nightly self-audit."""

import logging

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from jianguan.core.schedule import utc_hour

from . import services

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute=f"*/{settings.LEDGER_CHECKPOINT_MINUTES}"))
def sign_checkpoint_periodically():
    cp = services.sign_checkpoint()
    log.info("ledger checkpoint at tree size %s", cp.tree_size)


@db_periodic_task(crontab(hour=utc_hour(2), minute="30"))  # 02:30 local time
def nightly_self_audit():
    run = services.self_audit()
    if not run.ok:
        # Until the alarm room exists, an ERROR log line is the alarm (operators route ERROR to on-call).
        for problem in run.problems:
            log.error("ledger self-audit: %s", problem["message"])
