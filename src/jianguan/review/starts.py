"""The start of works (开工): reported by the applicant (建设单位) or the general contractor, with the day works
began; confirmed by the project's regulator, which takes the lifecycle's `start_construction` step (施工中), or
declined with a reason. The lifecycle's precondition asks `confirmation_blocker`: no pending report, no start."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from jianguan.accounts.models import User
from jianguan.core import audit
from jianguan.core.permissions import require
from jianguan.projects import lifecycle
from jianguan.projects import permissions as project_permissions
from jianguan.projects.models import Project, State

from . import notices, permissions
from .models import Permit, StartReport
from .services import ReviewConflict

Decision = StartReport.Decision


def pending_report(project: Project) -> StartReport | None:
    return project.start_reports.filter(decision=Decision.PENDING).first()


def confirmation_blocker(project: Project) -> str | None:
    if pending_report(project) is None:
        return "开工须由建设单位或施工总承包单位报告，监管部门确认（尚无待确认的开工报告）"
    return None


def get_report_for(user, pk: int) -> StartReport:
    """A report of a project the user may read, else StartReport.DoesNotExist (404)."""
    return StartReport.objects.select_related("project").get(
        pk=pk, project__in=project_permissions.visible_projects(user)
    )


@transaction.atomic
def report_start(user: User, project: Project, started_on: dt.date, note: str = "") -> StartReport:
    require(permissions.may_report_start(user, project), "开工由建设单位或施工总承包单位报告")
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.state != State.PERMITTED:
        raise ReviewConflict(f"项目当前状态为“{project.get_state_display()}”，不能报告开工", "wrong_state")
    if pending_report(project) is not None:
        raise ReviewConflict("已有待确认的开工报告", "already_reported")
    today = timezone.localdate()
    permit = Permit.objects.filter(project=project).first()
    issued_at = permit.issued_at if permit else project.permitted_at
    issued = timezone.localdate(issued_at) if issued_at else None
    if started_on > today:
        raise ValidationError({"started_on": "开工日期不能晚于今天（报告已开工的事实）"})
    if issued and started_on < issued:
        raise ValidationError({"started_on": f"开工日期不能早于施工许可证核发日期（{issued:%Y-%m-%d}）"})
    report = StartReport.objects.create(
        project=project,
        reported_by=user,
        enterprise=user.enterprise,
        started_on=started_on,
        note=(note or "").strip()[:500],
    )
    audit.record(
        user,
        "create",
        report,
        project=project,
        label=f"报告开工：{started_on:%Y-%m-%d}",
        changes={"started_on": started_on.isoformat(), "note": report.note},
    )
    regulators = [u for u in permissions.reviewers_for(project) if u.role != User.Role.BUREAU_ADMIN]
    notices.start_reported(report, regulators)
    return report


@transaction.atomic
def decide(user: User, report: StartReport, confirm: bool, note: str = "") -> StartReport:
    """The regulator confirms the reported start (the project moves to 施工中) or declines it with a reason."""
    project = report.project
    require(permissions.may_confirm_start(user, project), "开工报告由本项目的监管部门确认")
    report = StartReport.objects.select_for_update().get(pk=report.pk)
    if report.decision != Decision.PENDING:
        raise ReviewConflict(f"该开工报告已{report.get_decision_display()}", "already_decided")
    note = (note or "").strip()[:500]
    if not confirm and not note:
        raise ValidationError({"note": "不予确认须说明理由"})
    if confirm:
        reason = f"确认开工报告：实际开工日期 {report.started_on:%Y-%m-%d}" + (f"；{note}" if note else "")
        lifecycle.perform(project, "start_construction", user, reason)
    report.decision = Decision.CONFIRMED if confirm else Decision.DECLINED
    report.decided_by, report.decided_at, report.decision_note = user, timezone.now(), note
    report.save(update_fields=["decision", "decided_by", "decided_at", "decision_note"])
    audit.record(
        user,
        "update",
        report,
        project=project,
        label=f"开工报告{report.get_decision_display()}",
        changes={"decision": report.decision, "note": note},
    )
    notices.start_decided(report)
    return report
