"""The review's rules, shared by the workspace page and the API: verdicts per document, comments that carry over to
new versions until closed, the enterprise's replies, the reviewer's checklist, the opinion's draft, assignment.

Objects are looked up in what the user may read (404 otherwise) and actions asked of permissions.py (403); a step
the project's state does not allow now is a ReviewConflict (409); bad input a ValidationError (422)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from jianguan.accounts.models import User
from jianguan.core import audit
from jianguan.core.permissions import require
from jianguan.projects import services as project_services
from jianguan.projects.lifecycle import TransitionError
from jianguan.projects.models import Document, DocumentVersion, Project, State
from jianguan.projects.permissions import Part
from jianguan.projects.prereview import missing_documents
from jianguan.projects.requirements import filing_requirements

from . import checklist, clocks, notices, permissions
from .models import (
    ChecklistMark,
    CommentReply,
    DocumentVerdict,
    ReviewCase,
    ReviewComment,
    SignOff,
    StartReport,
    Verdict,
)

# While the bureau reads a filing it may give verdicts and comments: under review, and before a pre-review override.
REVIEWABLE = {State.SUBMITTED, State.UNDER_REVIEW, State.PREREVIEW_FAILED}


class ReviewConflict(TransitionError):
    """The step cannot be taken in the project's present state (409 on the API, a message on the pages)."""


# --- looking things up -------------------------------------------------------------------------------------


def get_project_for_review(user, pk: int) -> Project:
    """The project if readable (else Project.DoesNotExist: 404) and the user reviews it (else PermissionDenied)."""
    project = project_services.get_project_for(user, pk, Part.PROJECT_DOCUMENTS, what="审查工作台")
    require(permissions.may_review(user, project), "只有本项目的监管人员可以审查")
    return project


def get_comment_for(user, pk: int) -> ReviewComment:
    """A comment the user may read (with its project's documents), else ReviewComment.DoesNotExist (404)."""
    return permissions.visible_comments(user).select_related("project", "document").get(pk=pk)


def get_document_for_review(user, pk: int) -> Document:
    document = project_services.get_document_for(user, pk)
    require(permissions.may_review(user, document.project), "只有本项目的监管人员可以审查")
    return document


def current_round(project: Project) -> int:
    """The submission the review is about: the number of times the project was submitted."""
    return project.transitions.filter(name="submit").count()


def case_for(project: Project) -> ReviewCase:
    return ReviewCase.objects.get_or_create(project=project)[0]


# --- verdicts and comments -----------------------------------------------------------------------------------


def _require_reviewable(project: Project) -> None:
    if project.state not in REVIEWABLE:
        raise ReviewConflict(f"项目当前状态为“{project.get_state_display()}”，不在审查中", "wrong_state")


def _clean_text(text: str, field_name: str, message: str, limit: int = 2000) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field_name: message})
    if len(text) > limit:
        raise ValidationError({field_name: f"不能超过 {limit} 字"})
    return text


@transaction.atomic
def set_verdict(user: User, document: Document, verdict: str, comment: str = "") -> DocumentVerdict:
    """The reviewer's verdict on the document's latest version: 合格, or 需补正 with a comment (which stays open
    until a reviewer closes it, whatever versions follow)."""
    project = Project.objects.select_for_update().get(pk=document.project_id)  # its state now, not as read before
    require(permissions.may_review(user, project), "只有本项目的监管人员可以审查")
    if verdict not in Verdict.values:
        raise ValidationError({"verdict": f"未知结论：{verdict}"})
    _require_reviewable(project)
    version = document.versions.order_by("-number").first()
    if version is None:
        raise ReviewConflict("该文件尚无上传的版本", "no_version")
    text = comment.strip()
    if verdict == Verdict.NEEDS_FIX:
        text = _clean_text(comment, "comment", "“需补正”须写明审查意见")
    row = DocumentVerdict.objects.create(document=document, version=version, verdict=verdict, reviewer=user)
    audit.record(
        user,
        "update",
        row,
        project=project,
        label=f"审查结论：{document} v{version.number} {row.get_verdict_display()}",
        changes={"document": document.pk, "version": version.number, "verdict": verdict},
    )
    if text:
        _new_comment(user, project, text, document, version)
    return row


def _new_comment(user, project: Project, body: str, document: Document | None, version) -> ReviewComment:
    comment = ReviewComment.objects.create(project=project, document=document, version=version, author=user, body=body)
    audit.record(
        user,
        "create",
        comment,
        project=project,
        label=f"审查意见：{document or '申报材料'}",
        changes={"document": document.pk if document else None, "body": body},
    )
    notices.comment_raised(comment)
    return comment


@transaction.atomic
def add_comment(user: User, project: Project, body: str, document: Document | None = None) -> ReviewComment:
    require(permissions.may_review(user, project), "只有本项目的监管人员可以提出审查意见")
    _require_reviewable(project)
    if document is not None and document.project_id != project.pk:
        raise ValidationError({"document_id": "文件不属于该项目"})
    body = _clean_text(body, "body", "请填写审查意见")
    version = document.versions.order_by("-number").first() if document is not None else None
    return _new_comment(user, project, body, document, version)


@transaction.atomic
def close_comment(user: User, comment: ReviewComment, note: str = "") -> ReviewComment:
    require(permissions.may_review(user, comment.project), "只有本项目的监管人员可以关闭审查意见")
    comment = ReviewComment.objects.select_for_update().get(pk=comment.pk)
    if comment.status == ReviewComment.Status.CLOSED:
        raise ReviewConflict("该意见已关闭", "already_closed")
    comment.status = ReviewComment.Status.CLOSED
    comment.closed_by, comment.closed_at, comment.close_note = user, timezone.now(), (note or "").strip()[:500]
    comment.save(update_fields=["status", "closed_by", "closed_at", "close_note"])
    audit.record(
        user,
        "update",
        comment,
        project=comment.project,
        label=f"关闭审查意见：{comment.body[:40]}",
        changes={"status": "closed", "note": comment.close_note},
    )
    return comment


@transaction.atomic
def reply(user: User, comment: ReviewComment, body: str) -> CommentReply:
    """The enterprise's answer (or a reviewer's note) to an open comment, pointing at the document's version now."""
    require(permissions.may_reply(user, comment), "只有本项目的参建单位可以回复审查意见")
    if comment.status != ReviewComment.Status.OPEN:
        raise ReviewConflict("该意见已关闭，不能再回复", "already_closed")
    body = _clean_text(body, "body", "请填写回复内容")
    version = comment.document.versions.order_by("-number").first() if comment.document_id else None
    row = CommentReply.objects.create(comment=comment, author=user, body=body, version=version)
    audit.record(
        user,
        "create",
        row,
        project=comment.project,
        label=f"回复审查意见：{comment.body[:40]}",
        changes={"comment": comment.pk, "body": body, "version": version.number if version else None},
    )
    if not permissions.may_review(user, comment.project):
        notices.comment_answered(comment, row)
    return row


# --- the reviewer's checklist, opinion and assignment --------------------------------------------------------


@transaction.atomic
def mark_point(user: User, project: Project, point: str, result: str, note: str = "") -> ChecklistMark:
    require(permissions.may_review(user, project), "只有本项目的监管人员可以填写审查要点")
    _require_reviewable(project)
    spec = checklist.BY_CODE.get(point)
    if spec is None:
        raise ValidationError({"point": f"未知审查要点：{point}"})
    if result not in checklist.Mark.LABELS:
        raise ValidationError({"result": f"未知结论：{result}"})
    note = (note or "").strip()[:500]
    if result == checklist.Mark.PROBLEM and not note:
        raise ValidationError({"note": "“不符合”须说明问题"})
    if result == checklist.Mark.NOT_APPLICABLE and not spec.may_not_apply:
        raise ValidationError({"result": f"“{spec.label}”不能标为不适用"})
    mark, _ = ChecklistMark.objects.update_or_create(
        project=project, point=point, defaults={"result": result, "note": note, "marked_by": user}
    )
    audit.record(
        user,
        "update",
        mark,
        project=project,
        label=f"审查要点：{spec.label} {checklist.Mark.LABELS[result]}",
        changes={"point": point, "result": result, "note": note},
    )
    return mark


@transaction.atomic
def save_opinion(user: User, project: Project, opinion: str) -> ReviewCase:
    require(permissions.may_review(user, project), "只有本项目的监管人员可以撰写审查意见")
    _require_reviewable(project)
    opinion = (opinion or "").strip()
    if len(opinion) > 4000:
        raise ValidationError({"opinion": "审查意见不能超过 4000 字"})
    case = case_for(project)
    case.opinion, case.opinion_by, case.opinion_at = opinion, user, timezone.now()
    case.save(update_fields=["opinion", "opinion_by", "opinion_at"])
    audit.record(user, "update", case, project=project, label="审查意见（草稿）", changes={"opinion": opinion})
    return case


@transaction.atomic
def assign(user: User, project: Project, assignee: User | None) -> ReviewCase:
    require(permissions.may_review(user, project), "只有本项目的监管人员可以分配审查")
    if assignee is not None and not permissions.reviewers_for(project).filter(pk=assignee.pk).exists():
        raise ValidationError({"assignee": "承办人须为本项目的监管人员"})
    case = case_for(project)
    case.assignee, case.assigned_by, case.assigned_at = assignee, user, timezone.now()
    case.save(update_fields=["assignee", "assigned_by", "assigned_at"])
    audit.record(
        user,
        "update",
        case,
        project=project,
        label=f"分配承办人：{assignee.get_full_name() if assignee else '（取消分配）'}",
        changes={"assignee": assignee.pk if assignee else None},
    )
    if assignee is not None and assignee != user:
        notices.assigned(project, assignee)
    return case


def find_assignee(project: Project, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    found = permissions.reviewers_for(project).filter(pk=user_id).first()
    if found is None:
        raise ValidationError({"assignee": "承办人须为本项目的监管人员"})
    return found


# --- what the workspace shows ------------------------------------------------------------------------------------


@dataclass
class DocumentRow:
    document: Document
    versions: list[DocumentVersion]
    verdict: DocumentVerdict | None  # the latest verdict, on whatever version
    comments: list[ReviewComment]

    @property
    def latest(self) -> DocumentVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def verdict_current(self) -> bool:
        """The latest verdict is about the latest version (else the new version waits for review)."""
        return self.verdict is not None and self.latest is not None and self.verdict.version_id == self.latest.pk

    @property
    def state(self) -> str:
        if self.latest is None:
            return "empty"
        if not self.verdict_current:
            return "new_version" if self.verdict is not None else "pending"
        return self.verdict.verdict

    @property
    def open_comments(self) -> int:
        return sum(1 for c in self.comments if c.status == ReviewComment.Status.OPEN)


@dataclass
class Workspace:
    project: Project
    rows: list[DocumentRow]
    general_comments: list[ReviewComment]
    requirements: list[tuple[Any, bool]]
    prereview: Any
    points: list[tuple[checklist.Point, ChecklistMark | None]]
    case: ReviewCase | None
    signoffs: dict[str, SignOff]
    round: int
    received_at: Any
    complete_at: Any
    decision_clock: Any
    notice_clock: Any
    start_reports: list[StartReport] = field(default_factory=list)

    @property
    def open_comments(self) -> int:
        return sum(r.open_comments for r in self.rows) + sum(
            1 for c in self.general_comments if c.status == ReviewComment.Status.OPEN
        )


def comments_queryset() -> QuerySet[ReviewComment]:
    replies = CommentReply.objects.select_related("author", "version")
    return ReviewComment.objects.select_related("author", "closed_by", "version", "document").prefetch_related(
        Prefetch("replies", queryset=replies)
    )


def workspace(project: Project) -> Workspace:
    """Everything the workspace shows, in a fixed number of queries whatever the documents and comments."""
    documents = list(
        project.documents.prefetch_related(
            Prefetch("versions", queryset=DocumentVersion.objects.select_related("uploaded_by").order_by("number")),
            Prefetch("verdicts", queryset=DocumentVerdict.objects.select_related("reviewer", "version")),
        )
    )
    comments = list(comments_queryset().filter(project=project))
    by_document: dict[int | None, list[ReviewComment]] = {}
    for comment in comments:
        by_document.setdefault(comment.document_id, []).append(comment)
    rows = [
        DocumentRow(d, list(d.versions.all()), next(iter(d.verdicts.all()), None), by_document.get(d.pk, []))
        for d in documents
    ]
    reqs = filing_requirements(project.project_type, project.parameters or {})
    missing = {id(r) for r in missing_documents(project, reqs)}
    marks = {m.point: m for m in project.checklist_marks.select_related("marked_by")}
    transitions = list(project.transitions.order_by("at", "id"))
    submits = [t for t in transitions if t.name == "submit"]
    received_at = submits[-1].at if submits else None
    complete = [t for t in transitions if t.to_state == State.UNDER_REVIEW]
    complete_at = complete[-1].at if complete and project.state == State.UNDER_REVIEW else None
    round_ = len(submits)
    signed = {s.stage: s for s in project.signoffs.filter(round=round_).select_related("signer")}
    return Workspace(
        project=project,
        rows=rows,
        general_comments=by_document.get(None, []),
        requirements=[(r, id(r) not in missing) for r in reqs],
        prereview=project.prereviews.first(),
        points=[(p, marks.get(p.code)) for p in checklist.POINTS],
        case=ReviewCase.objects.select_related("assignee", "opinion_by").filter(project=project).first(),
        signoffs=signed,
        round=round_,
        received_at=received_at,
        complete_at=complete_at,
        decision_clock=clocks.decision_clock(complete_at),
        notice_clock=clocks.notice_clock(received_at) if project.state in REVIEWABLE else None,
        start_reports=list(project.start_reports.select_related("reported_by", "enterprise", "decided_by")),
    )


def comments_for(user, project: Project) -> QuerySet[ReviewComment]:
    """A project's review comments for a reader of its documents (the enterprise side included)."""
    if not permissions.may_preview(user, project):
        raise PermissionDenied("本部门的数据共享规则未授权查看该项目的申报文件")
    return comments_queryset().filter(project=project).order_by("created_at", "id")


def open_comments_for(user, project: Project) -> list[ReviewComment]:
    return [c for c in comments_for(user, project) if c.status == ReviewComment.Status.OPEN]
