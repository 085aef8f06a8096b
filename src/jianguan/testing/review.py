"""Test helpers for the review room: a project through review to its permit, as the workspace would take it."""

from __future__ import annotations

from jianguan.review import checklist, services, signoffs
from jianguan.review.models import Verdict


def clear_for_review(project, reviewer) -> None:
    """Every document's latest version found 合格, every open comment closed, every checklist point marked."""
    for document in project.documents.all():
        if document.versions.exists():
            services.set_verdict(reviewer, document, Verdict.OK)
    for comment in project.review_comments.filter(status="open"):
        services.close_comment(reviewer, comment, "已补正")
    for point in checklist.POINTS:
        result = checklist.Mark.NOT_APPLICABLE if point.code == "demolition" else checklist.Mark.OK
        services.mark_point(reviewer, project, point.code, result)


def issue_permit(project, reviewer, approver, *, opinion: str = "材料齐全，符合施工许可条件。"):
    """审核 by `reviewer`, 审批 by `approver` (a different regulator of the project): the permit is issued."""
    clear_for_review(project, reviewer)
    signoffs.sign_review(reviewer, project, opinion)
    signoffs.sign_approval(approver, project, "同意核发施工许可证。")
    project.refresh_from_db()
    return project.permit
