"""Who hears of the review's decisions, and what they read: in-app notifications plus the outbox channels
(email, the jurisdiction's group robots) through jianguan.notify. Topics: review.comment, review.reply,
review.assigned, review.signoff, permit.issued, works.start_reported, works.start_confirmed, works.start_declined."""

from __future__ import annotations

from django.urls import reverse

from jianguan.accounts.models import User
from jianguan.notify.services import notify
from jianguan.projects import notices as project_notices
from jianguan.projects.models import Project


def enterprise_users(project: Project):
    """The applicant's and the participants' users."""
    enterprises = set(project.participants.values_list("enterprise_id", flat=True)) | {project.applicant_id}
    return User.objects.filter(role=User.Role.ENTERPRISE_USER, enterprise_id__in=enterprises, is_active=True)


def project_url(project: Project) -> str:
    return reverse("projects:detail", args=[project.pk]) + "#review-block"


def workspace_url(project: Project) -> str:
    return reverse("review:workspace", args=[project.pk])


def comment_raised(comment) -> None:
    """The enterprise hears of a reviewer's comment (in-app and by email, as every decision on its filing)."""
    project, document = comment.project, comment.document
    about = str(document) if document else "申报材料"
    project_notices.review_comment(
        project, subject=about, comment=comment.body, url=project_url(project), also=enterprise_users(project)
    )


def comment_answered(comment, reply) -> None:
    project = comment.project
    readers = [comment.author]
    case = getattr(project, "review_case", None)
    if case is not None and case.assignee_id:
        readers.append(case.assignee)
    notify(
        readers,
        topic="review.reply",
        title=f"{project.name}：企业回复了审查意见",
        body=f"意见：{comment.body[:100]}\n回复：{reply.body}",
        url=workspace_url(project),
        project=project,
        channels=(),
    )


def assigned(project: Project, assignee) -> None:
    notify(
        [assignee],
        topic="review.assigned",
        title=f"请承办：{project.name}的施工许可审查",
        url=workspace_url(project),
        project=project,
        channels=(),
    )


def awaiting_approval(project: Project, signoff, approvers) -> None:
    notify(
        [u for u in approvers if u.pk != signoff.signer_id],
        topic="review.signoff",
        title=f"待审批：{project.name}（审核人 {signoff.signer.get_full_name()}）",
        body=signoff.opinion[:500],
        url=workspace_url(project),
        project=project,
        channels=(),
    )


def permit_issued(permit) -> None:
    """The enterprise hears of its permit: the number and where to get the certificate."""
    project_notices.permit_issued(permit.project, also=enterprise_users(permit.project))


def start_reported(report, regulators) -> None:
    project = report.project
    notify(
        regulators,
        topic="works.start_reported",
        title=f"开工报告待确认：{project.name}（{report.started_on:%Y-%m-%d}）",
        body=report.note,
        url=project_url(project),
        project=project,
        channels=(),
    )


def start_decided(report) -> None:
    project = report.project
    confirmed = report.decision == report.Decision.CONFIRMED
    notify(
        enterprise_users(project),
        topic="works.start_confirmed" if confirmed else "works.start_declined",
        title=f"{project.name}：开工报告{'已确认' if confirmed else '未予确认'}",
        body=report.decision_note,
        url=project_url(project),
        project=project,
    )
