"""The real-name register of a site (实名制): who works there for which employer, and the day's attendance."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from jianguan.core import audit
from jianguan.core.permissions import require
from jianguan.projects.models import Project
from jianguan.registry.models import Enterprise

from .. import permissions
from ..models import Device, SiteWorker
from . import gates


@transaction.atomic
def register_worker(
    user, project: Project, *, person_id: int, employer_id: int, trade: str = "", required_operation: str = ""
) -> SiteWorker:
    """Adds (or re-activates) a person on the project's real-name register. Only an employee of a participant
    is accepted (SiteWorker.clean); any other id, existing or not, gets the same refusal."""
    require(permissions.may_manage_workers(user, project), "只有施工总承包单位或监管部门可以登记实名制人员")
    person = SiteWorker.eligible_people(project, employer_id).filter(pk=person_id).first()
    if person is None:
        if not project.participants.filter(enterprise_id=employer_id).exists():
            raise ValidationError({"employer_id": "用工单位须为本项目的参建单位"})
        raise ValidationError({"person_id": SiteWorker.NOT_ELIGIBLE})
    worker = SiteWorker.objects.filter(project=project, person=person).first() or SiteWorker(
        project=project, person=person
    )
    worker.employer = Enterprise.objects.get(pk=employer_id)
    worker.trade, worker.required_operation, worker.active = trade, required_operation, True
    worker.full_clean()
    worker.save()
    audit.record(user, "create", worker, project=project, changes={"trade": trade, "employer": worker.employer.name})
    return worker


def gate_summary_for(project: Project, day: dt.date | None = None) -> dict | None:
    """A day's (default: today's) real-name attendance and 挂靠/转包 signals for the project page (None
    without a gate). A day in the future is today."""
    if not Device.objects.filter(project=project, kind=Device.Kind.GATE).exists():
        return None
    today = timezone.localdate()
    return gates.project_summary(project, min(day or today, today))
