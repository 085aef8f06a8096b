"""The review room's pieces in other rooms' pages: the navigation's 审查待办 (only for those who may act on it) and
the project page's block (workspace link, permit and certificate, review comments with the enterprise's reply form,
the start of works)."""

from __future__ import annotations

from django import template

from jianguan.projects.models import State

from .. import forms, permissions, services
from ..models import Permit, StartReport

register = template.Library()


@register.filter
def may_see_review_queue(user) -> bool:
    return permissions.may_see_queue(user)


@register.inclusion_tag("review/_project_block.html", takes_context=True)
def review_block(context, project):
    user = context["request"].user
    reviewer = permissions.may_review(user, project)
    readable = permissions.may_preview(user, project)  # comments are read with the documents
    comments = list(services.comments_for(user, project)) if readable else []
    permit = Permit.objects.filter(project=project).first()
    reports = list(project.start_reports.select_related("reported_by", "enterprise", "decided_by")[:5])
    pending = next((r for r in reports if r.decision == StartReport.Decision.PENDING), None)
    return {
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "project": project,
        "reviewer": reviewer,
        "workspace": reviewer and project.state != State.DRAFT,
        "comments": comments,
        "open_comments": [c for c in comments if c.status == c.Status.OPEN],
        "may_reply": readable and permissions.is_enterprise_side(user, project),
        "permit": permit,
        "reports": reports,
        "pending_report": pending,
        "may_report_start": project.state == State.PERMITTED
        and pending is None
        and permissions.may_report_start(user, project),
        "may_confirm_start": pending is not None and permissions.may_confirm_start(user, project),
        "start_form": forms.StartReportForm(),
        "shown": reviewer or comments or permit or reports or project.state == State.PERMITTED,
    }
