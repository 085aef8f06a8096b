"""The real-name register of a site (实名制): who works there for which employer, and the day's attendance."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from jianguan.core import audit
from jianguan.core.permissions import require
from jianguan.projects.models import Project
from jianguan.registry.models import Enterprise, Person

from .. import permissions
from ..models import Device, SiteWorker
from . import gates


@transaction.atomic
def register_worker(
    user, project: Project, *, person_id: int, employer_id: int, trade: str = "", required_operation: str = ""
):
    require(permissions.may_manage_workers(user, project), "只有施工总承包单位或监管部门可以登记实名制人员")
    worker, _ = SiteWorker.objects.update_or_create(
        project=project,
        person=Person.objects.get(pk=person_id),
        defaults={
            "employer": Enterprise.objects.get(pk=employer_id),
            "trade": trade,
            "required_operation": required_operation,
            "active": True,
        },
    )
    audit.record(user, "create", worker, project=project, changes={"trade": trade, "employer": worker.employer.name})
    return worker


def gate_summary_for(project: Project, day: dt.date | None = None) -> dict | None:
    """A day's (default: today's) real-name attendance and 挂靠/转包 signals for the project page (None
    without a gate). A day in the future is today."""
    if not Device.objects.filter(project=project, kind=Device.Kind.GATE).exists():
        return None
    today = timezone.localdate()
    return gates.project_summary(project, min(day or today, today))
