"""The review room's API: thin handlers over services, signoffs, permits, starts and queue.

Statuses (every error as {code, detail}): 401 `unauthenticated`; 403 `forbidden` (readable but not allowed: not
the project's regulator, the 审批 by the 审核's signer where two are required, the enterprise side on a review
action); 404 `not_found` (not readable: another district's project, a department without the documents part);
409 (the state does not allow it now: `wrong_state`, `precondition` with what still blocks, `already_signed`,
`already_closed`, `already_reported`, `already_decided`); 422 `invalid` (a missing opinion, comment or reason)."""

import datetime as dt
from typing import Literal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from jianguan.core.pagination import BoundedPageNumberPagination
from jianguan.core.permissions import require
from jianguan.core.schemas import ApiError as ErrorOut
from jianguan.core.schemas import Id, IsoDate
from jianguan.projects import services as project_services

from . import certificate, checklist, clocks, permissions, permits, queue, services, signoffs, starts
from .models import Permit, SignOff, StartReport

router = Router(tags=["审查与许可"])
public_router = Router(tags=["信息公开"])


E403_404 = {403: ErrorOut, 404: ErrorOut}
WRITE = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _name(user) -> str | None:
    return user.get_full_name() if user is not None else None


# --- the queue -------------------------------------------------------------------------------------------------


class QueueQuery(Schema):
    tab: Literal["bureau", "enterprise"] = "bureau"
    q: str = Field("", max_length=100)
    jurisdiction: str = Field("", max_length=12)
    assignee: str = Field("", max_length=12, description="me、none 或用户 id")
    stage: Literal["", "review", "approve", "start"] = ""
    overdue: bool = False
    sort: Literal["waiting", "received", "problems", "comments"] = "waiting"


def _row(obj) -> queue.Row:
    """The row's clock and stage, computed once per project from its annotations (no query)."""
    if not hasattr(obj, "_queue_row"):
        obj._queue_row = queue.row(obj)
    return obj._queue_row


class QueueRowOut(Schema):
    project_id: int = Field(alias="pk")
    name: str
    code: str
    jurisdiction: str
    applicant: str
    state: str
    stage: str = Field(description="review 待审核、approve 待审批、start 开工待确认、enterprise 待企业补正")
    received_at: dt.datetime | None
    complete_at: dt.datetime | None
    waiting_days: int
    limit_days: int
    limit_count: str = Field(description="calendar 自然日 或 working 工作日")
    due: dt.date | None
    overdue: bool
    prereview_problems: int = Field(alias="problems")
    open_comments: int
    assignee: str | None

    @staticmethod
    def resolve_jurisdiction(obj):
        return obj.jurisdiction.name

    @staticmethod
    def resolve_applicant(obj):
        return obj.applicant.name

    @staticmethod
    def resolve_stage(obj):
        return _row(obj).stage

    @staticmethod
    def resolve_complete_at(obj):
        return obj.complete_at if _row(obj).clock else None

    @staticmethod
    def resolve_waiting_days(obj):
        row = _row(obj)
        return row.clock.elapsed if row.clock else row.waiting_days

    @staticmethod
    def resolve_limit_days(obj):
        return clocks.decision_limit().days

    @staticmethod
    def resolve_limit_count(obj):
        return clocks.decision_limit().count

    @staticmethod
    def resolve_due(obj):
        row = _row(obj)
        return row.clock.due if row.clock else None

    @staticmethod
    def resolve_overdue(obj):
        row = _row(obj)
        return bool(row.clock and row.clock.overdue)

    @staticmethod
    def resolve_assignee(obj):
        return _name(_row(obj).assignee)


@router.get("/review/queue", response={200: list[QueueRowOut], 403: ErrorOut})
@paginate(BoundedPageNumberPagination, page_size=20)
def review_queue(request, filters: Query[QueueQuery]):
    """The reviewer's queue: the bureau's move (applications under review, reported starts of works) or the
    enterprise's (filings sent back), with days waiting against the statutory limit (`limit_days` counted as
    `limit_count`, settings PERMIT_DECISION_DAYS / PERMIT_DAY_COUNT). 403 for those who do not review
    (inspectors, other departments, enterprises)."""
    require(permissions.may_see_queue(request.user), "审查待办仅供审查许可的监管人员使用")
    return queue.queue(request.user, **filters.dict())


# --- the workspace ---------------------------------------------------------------------------------------------


class ReplyOut(Schema):
    id: int
    author: str
    body: str
    version: int | None
    at: dt.datetime

    @staticmethod
    def resolve_author(obj):
        return obj.author.get_full_name()

    @staticmethod
    def resolve_version(obj):
        return obj.version.number if obj.version_id else None


class CommentOut(Schema):
    id: int
    document_id: int | None
    document: str | None
    raised_on_version: int | None
    author: str
    body: str
    created_at: dt.datetime
    status: str
    closed_by: str | None
    closed_at: dt.datetime | None
    close_note: str
    replies: list[ReplyOut]

    @staticmethod
    def resolve_document(obj):
        return str(obj.document) if obj.document_id else None

    @staticmethod
    def resolve_raised_on_version(obj):
        return obj.version.number if obj.version_id else None

    @staticmethod
    def resolve_author(obj):
        return obj.author.get_full_name()

    @staticmethod
    def resolve_closed_by(obj):
        return _name(obj.closed_by) if obj.closed_by_id else None

    @staticmethod
    def resolve_replies(obj):
        return list(obj.replies.all())


class DocumentReviewOut(Schema):
    document_id: int
    kind: str
    kind_label: str
    category: str
    latest_version: int | None
    state: str = Field(description="ok 合格、needs_fix 需补正、new_version 新版本待复核、pending 待审查、empty 未上传")
    verdict: str | None
    verdict_version: int | None
    verdict_by: str | None
    open_comments: int


class PointOut(Schema):
    code: str
    label: str
    guidance: str
    result: str | None
    note: str
    marked_by: str | None


class RequirementOut(Schema):
    label: str
    reason: str
    satisfied: bool


class SignOffOut(Schema):
    stage: str
    stage_label: str
    signer: str
    opinion: str
    round: int
    at: dt.datetime
    ledger_index: int | None

    @staticmethod
    def resolve_stage_label(obj):
        return obj.get_stage_display()

    @staticmethod
    def resolve_signer(obj):
        return obj.signer.get_full_name()


class ClockOut(Schema):
    start: dt.date
    due: dt.date
    elapsed: int
    remaining: int
    overdue: bool


class WorkspaceOut(Schema):
    project_id: int
    state: str
    round: int
    assignee: str | None
    opinion_draft: str
    received_at: dt.datetime | None
    complete_at: dt.datetime | None
    decision_clock: ClockOut | None
    documents: list[DocumentReviewOut]
    requirements: list[RequirementOut]
    checklist: list[PointOut]
    comments: list[CommentOut]
    signoffs: list[SignOffOut]
    review_blockers: list[str]
    second_signoff_required: bool


@router.get("/projects/{project_id}/review", response={200: WorkspaceOut, **E403_404})
def workspace(request, project_id: Id):
    """The review workspace of a project, for its regulators (403 for other readers)."""
    from django.conf import settings

    project = services.get_project_for_review(request.user, project_id)
    space = services.workspace(project)
    return {
        "project_id": project.pk,
        "state": project.state,
        "round": space.round,
        "assignee": _name(space.case.assignee) if space.case and space.case.assignee_id else None,
        "opinion_draft": space.case.opinion if space.case else "",
        "received_at": space.received_at,
        "complete_at": space.complete_at,
        "decision_clock": space.decision_clock.__dict__ if space.decision_clock else None,
        "documents": [
            {
                "document_id": r.document.pk,
                "kind": r.document.kind,
                "kind_label": r.document.get_kind_display(),
                "category": r.document.category,
                "latest_version": r.latest.number if r.latest else None,
                "state": r.state,
                "verdict": r.verdict.verdict if r.verdict else None,
                "verdict_version": r.verdict.version.number if r.verdict else None,
                "verdict_by": _name(r.verdict.reviewer) if r.verdict else None,
                "open_comments": r.open_comments,
            }
            for r in space.rows
        ],
        "requirements": [{"label": r.label, "reason": r.reason, "satisfied": ok} for r, ok in space.requirements],
        "checklist": [
            {
                "code": p.code,
                "label": p.label,
                "guidance": p.guidance,
                "result": m.result if m else None,
                "note": m.note if m else "",
                "marked_by": _name(m.marked_by) if m else None,
            }
            for p, m in space.points
        ],
        "comments": [c for r in space.rows for c in r.comments] + space.general_comments,
        "signoffs": list(space.signoffs.values()),
        "review_blockers": signoffs.review_blockers(project) if "review" not in space.signoffs else [],
        "second_signoff_required": settings.PERMIT_SECOND_SIGNOFF,
    }


class VerdictIn(Schema):
    verdict: Literal["ok", "needs_fix"] = Field(description="ok 合格；needs_fix 需补正（须附 comment）")
    comment: str = Field("", max_length=2000)


class VerdictOut(Schema):
    document_id: int
    version: int
    verdict: str
    comment_id: int | None


@router.post("/documents/{document_id}/verdict", response={201: VerdictOut, **WRITE})
def set_verdict(request, document_id: Id, payload: VerdictIn):
    """The verdict on the document's latest version; 需补正 opens a comment that stays open until closed."""
    document = services.get_document_for_review(request.user, document_id)
    row = services.set_verdict(request.user, document, payload.verdict, payload.comment)
    comment = document.review_comments.order_by("-id").first() if payload.verdict == "needs_fix" else None
    return 201, {
        "document_id": document.pk,
        "version": row.version.number,
        "verdict": row.verdict,
        "comment_id": comment.pk if comment else None,
    }


@router.get("/projects/{project_id}/review-comments", response={200: list[CommentOut], **E403_404})
@paginate(BoundedPageNumberPagination, page_size=50)
def list_comments(request, project_id: Id):
    """The review comments of a project, for the readers of its documents (the enterprise side included)."""
    project = project_services.get_project_for(request.user, project_id)
    return services.comments_for(request.user, project)


class CommentIn(Schema):
    body: str = Field(min_length=1, max_length=2000)
    document_id: Id | None = None


@router.post("/projects/{project_id}/review-comments", response={201: CommentOut, **WRITE})
def add_comment(request, project_id: Id, payload: CommentIn):
    project = services.get_project_for_review(request.user, project_id)
    document = project.documents.get(pk=payload.document_id) if payload.document_id else None
    comment = services.add_comment(request.user, project, payload.body, document)
    return 201, services.comments_queryset().get(pk=comment.pk)


class ReplyIn(Schema):
    body: str = Field(min_length=1, max_length=2000)


@router.post("/review-comments/{comment_id}/replies", response={201: ReplyOut, **WRITE})
def reply(request, comment_id: Id, payload: ReplyIn):
    """The enterprise's reply to an open comment (e.g. after uploading a new version of the document)."""
    comment = services.get_comment_for(request.user, comment_id)
    return 201, services.reply(request.user, comment, payload.body)


class CloseIn(Schema):
    note: str = Field("", max_length=500)


@router.post("/review-comments/{comment_id}/close", response={200: CommentOut, **WRITE})
def close_comment(request, comment_id: Id, payload: CloseIn):
    comment = services.get_comment_for(request.user, comment_id)
    services.close_comment(request.user, comment, payload.note)
    return services.comments_queryset().get(pk=comment.pk)


class MarkIn(Schema):
    result: Literal["ok", "problem", "na"] = Field(description="ok 符合、problem 不符合（须说明）、na 不适用")
    note: str = Field("", max_length=500)


@router.put("/projects/{project_id}/review/checklist/{point}", response={200: PointOut, **WRITE})
def mark_point(request, project_id: Id, point: str, payload: MarkIn):
    """A point of the reviewer's checklist (review/checklist.py: land_use, planning_permit, demolition,
    contractor, funds_drawings, safety_measures, wages); 不符合 needs a note, 不适用 only where a point allows it."""
    project = services.get_project_for_review(request.user, project_id)
    mark = services.mark_point(request.user, project, point[:40], payload.result, payload.note)
    spec = checklist.BY_CODE[mark.point]
    return {
        "code": spec.code,
        "label": spec.label,
        "guidance": spec.guidance,
        "result": mark.result,
        "note": mark.note,
        "marked_by": _name(mark.marked_by),
    }


class OpinionIn(Schema):
    opinion: str = Field("", max_length=4000)


class CaseOut(Schema):
    assignee_id: int | None
    assignee: str | None
    opinion_draft: str


def _case_out(case):
    return {
        "assignee_id": case.assignee_id,
        "assignee": _name(case.assignee) if case.assignee_id else None,
        "opinion_draft": case.opinion,
    }


@router.put("/projects/{project_id}/review/opinion", response={200: CaseOut, **WRITE})
def save_opinion(request, project_id: Id, payload: OpinionIn):
    """The review opinion's draft (the 审核 signature copies the text it is given)."""
    project = services.get_project_for_review(request.user, project_id)
    return _case_out(services.save_opinion(request.user, project, payload.opinion))


class AssignIn(Schema):
    assignee_id: Id | None = Field(None, description="a regulator of the project; null: unassign")


@router.put("/projects/{project_id}/review/assignee", response={200: CaseOut, **WRITE})
def assign(request, project_id: Id, payload: AssignIn):
    project = services.get_project_for_review(request.user, project_id)
    assignee = services.find_assignee(project, payload.assignee_id)
    return _case_out(services.assign(request.user, project, assignee))


class SignIn(Schema):
    stage: Literal["review", "approve"] = Field(description="review 审核（书面审查意见）；approve 审批（核发许可证）")
    opinion: str = Field(min_length=1, max_length=4000)


@router.post("/projects/{project_id}/signoffs", response={201: SignOffOut, **WRITE})
def sign(request, project_id: Id, payload: SignIn):
    """审核 needs every document 合格, every comment closed and every checklist point marked (409 `precondition`
    says what is missing); 审批 by someone other than the 审核's signer where the bureau requires it (403), and
    issues the permit."""
    project = services.get_project_for_review(request.user, project_id)
    return 201, signoffs.sign(request.user, project, payload.stage, payload.opinion)


@router.get("/projects/{project_id}/signoffs", response={200: list[SignOffOut], **E403_404})
def list_signoffs(request, project_id: Id):
    """Every sign-off of the project, all submissions (the project's records part)."""
    from jianguan.projects.permissions import Part

    project = project_services.get_project_for(request.user, project_id, Part.PROJECT_RECORDS, what="签署记录")
    return SignOff.objects.filter(project=project).select_related("signer")


# --- the permit --------------------------------------------------------------------------------------------------


class PermitOut(Schema):
    number: str
    issued_at: dt.datetime
    issuer: str
    facts: dict
    verification_url: str
    certificate_url: str
    ledger_index: int | None


def _permit_out(request, permit: Permit) -> dict:
    return {
        "number": permit.number,
        "issued_at": permit.issued_at,
        "issuer": permit.issuer,
        "facts": permit.facts,
        "verification_url": permits.verification_url(permit, request),
        "certificate_url": f"/api/projects/{permit.project_id}/permit/certificate",
        "ledger_index": permit.ledger_index,
    }


@router.get("/projects/{project_id}/permit", response={200: PermitOut, 404: ErrorOut})
def get_permit(request, project_id: Id):
    project = project_services.get_project_for(request.user, project_id)
    return _permit_out(request, Permit.objects.get(project=project))


@router.get("/projects/{project_id}/permit/certificate", response={200: None, 404: ErrorOut, 503: ErrorOut})
def get_certificate(request, project_id: Id):
    """The printable certificate (PDF); 503 when the server cannot render it (its reason in `detail`)."""
    project = project_services.get_project_for(request.user, project_id)
    permit = Permit.objects.get(project=project)
    try:
        pdf = certificate.render(permit, permits.verification_url(permit, request))
    except certificate.CertificateUnavailable as exc:
        return 503, {"code": "unavailable", "detail": str(exc)}
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="permit-{permit.number}.pdf"'
    return response


class VerifiedOut(Schema):
    number: str
    issued_at: dt.datetime
    issuer: str
    project_name: str
    address: str
    owner: str
    contractor: str
    supervisor: str
    project_state: str
    ledger_index: int | None
    leaf_hash: str | None
    bundle_url: str


@public_router.get("/permits/{code}", auth=None, response={200: VerifiedOut, 404: ErrorOut})
def verify(request, code: str):
    """Public: the permit a certificate's verification code names, with its evidence-log entry."""
    permit = permits.get_by_code(code[:32])
    entry = permits.ledger_entry(permit)
    f = permit.facts
    return {
        "number": permit.number,
        "issued_at": permit.issued_at,
        "issuer": permit.issuer,
        "project_name": f["project_name"],
        "address": f["address"],
        "owner": f["owner"],
        "contractor": f["contractor"],
        "supervisor": f["supervisor"],
        "project_state": permit.project.get_state_display(),
        "ledger_index": entry.index if entry else None,
        "leaf_hash": entry.leaf_hash if entry else None,
        "bundle_url": f"/permits/verify/{permit.verification_code}/evidence.json",
    }


# --- the start of works ------------------------------------------------------------------------------------------


class StartReportOut(Schema):
    id: int
    started_on: dt.date
    note: str
    enterprise: str
    reported_by: str
    at: dt.datetime
    decision: str
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str

    @staticmethod
    def resolve_enterprise(obj):
        return obj.enterprise.name

    @staticmethod
    def resolve_reported_by(obj):
        return obj.reported_by.get_full_name()

    @staticmethod
    def resolve_decided_by(obj):
        return _name(obj.decided_by) if obj.decided_by_id else None


class StartReportIn(Schema):
    started_on: IsoDate
    note: str = Field("", max_length=500)


@router.get("/projects/{project_id}/start-reports", response={200: list[StartReportOut], 404: ErrorOut})
def list_start_reports(request, project_id: Id):
    project = project_services.get_project_for(request.user, project_id)
    return StartReport.objects.filter(project=project).select_related("enterprise", "reported_by", "decided_by")


@router.post("/projects/{project_id}/start-reports", response={201: StartReportOut, **WRITE})
def report_start(request, project_id: Id, payload: StartReportIn):
    """The applicant or the general contractor reports that works started (the project must be permitted)."""
    project = project_services.get_project_for(request.user, project_id)
    return 201, starts.report_start(request.user, project, payload.started_on, payload.note)


class DecisionIn(Schema):
    note: str = Field("", max_length=500)


@router.post("/start-reports/{report_id}/confirm", response={200: StartReportOut, **WRITE})
def confirm_start(request, report_id: Id, payload: DecisionIn):
    """The regulator confirms the start: the project moves to 施工中."""
    return starts.decide(request.user, starts.get_report_for(request.user, report_id), True, payload.note)


@router.post("/start-reports/{report_id}/decline", response={200: StartReportOut, **WRITE})
def decline_start(request, report_id: Id, payload: DecisionIn):
    """The regulator declines the reported start, with a reason (422 without)."""
    return starts.decide(request.user, starts.get_report_for(request.user, report_id), False, payload.note)


__all__ = ["public_router", "router"]
