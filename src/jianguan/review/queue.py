"""The review queue that triages: whose move it is (the bureau's: applications under review and reported starts of
works; the enterprise's: filings the pre-review or a reviewer sent back), since when, against the statutory limit
(clocks.py), the pre-review's problems, the open comments, the stage (审核 / 审批 / 开工确认) and the assignee.
One query for a page of rows whatever its length (tests/test_query_budgets.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from jianguan.projects.models import PreReview, Project, State, Transition

from . import clocks, permissions
from .models import ReviewComment, SignOff, StartReport

TABS = {"bureau": "待本局办理", "enterprise": "待企业补正"}
STAGES = {"review": "待审核", "approve": "待审批", "start": "开工待确认"}
SORTS = {
    "waiting": "等待最久在前",
    "received": "最近提交在前",
    "problems": "预审问题多在前",
    "comments": "未关闭意见多在前",
}
ENTERPRISE_STATES = (State.PREREVIEW_FAILED, State.RETURNED)


class JsonLength(Func):
    """The length of a JSON array (SQLite's json_array_length, PostgreSQL's jsonb_array_length)."""

    function = "json_array_length"
    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="jsonb_array_length", **extra)


def _latest(model, field: str, **where: Any) -> Subquery:
    rows = model.objects.filter(project=OuterRef("pk"), **where).order_by("-at", "-id").values(field)[:1]
    return Subquery(rows)


def annotated(qs: QuerySet[Project]) -> QuerySet[Project]:
    open_comments = (
        ReviewComment.objects.filter(project=OuterRef("pk"), status=ReviewComment.Status.OPEN)
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    problems = (
        PreReview.objects.filter(project=OuterRef("pk"))
        .order_by("-at", "-id")
        .annotate(n=JsonLength("findings"))
        .values("n")[:1]
    )
    pending_start = StartReport.objects.filter(project=OuterRef("pk"), decision=StartReport.Decision.PENDING)
    qs = qs.annotate(
        received_at=_latest(Transition, "at", name="submit"),
        complete_at=_latest(Transition, "at", to_state=State.UNDER_REVIEW),
        moved_at=_latest(Transition, "at"),
        start_reported_at=Subquery(pending_start.order_by("-at").values("at")[:1]),
        problems=Coalesce(Subquery(problems), Value(0)),
        open_comments=Coalesce(Subquery(open_comments), Value(0)),
    )
    reviewed = SignOff.objects.filter(
        project=OuterRef("pk"), stage=SignOff.Stage.REVIEW, at__gt=OuterRef("received_at")
    )
    return qs.annotate(
        reviewed=Exists(reviewed),
        waiting_since=Case(
            When(state=State.UNDER_REVIEW, then=F("complete_at")),
            When(start_reported_at__isnull=False, then=F("start_reported_at")),
            default=F("moved_at"),
        ),
    ).select_related("jurisdiction", "applicant", "review_case__assignee")


def queue(
    user,
    *,
    tab: str = "bureau",
    q: str = "",
    jurisdiction: str = "",
    assignee: str = "",
    stage: str = "",
    overdue: bool = False,
    sort: str = "waiting",
) -> QuerySet[Project]:
    """The user's queue (PermissionDenied for those without one is the caller's: permissions.may_see_queue)."""
    qs = annotated(permissions.queue_projects(user))
    if tab == "enterprise":
        qs = qs.filter(state__in=ENTERPRISE_STATES)
    else:
        qs = qs.filter(Q(state=State.UNDER_REVIEW) | Q(state=State.PERMITTED, start_reported_at__isnull=False))
        if stage == "review":
            qs = qs.filter(state=State.UNDER_REVIEW, reviewed=False)
        elif stage == "approve":
            qs = qs.filter(state=State.UNDER_REVIEW, reviewed=True)
        elif stage == "start":
            qs = qs.filter(state=State.PERMITTED)
        if overdue:
            qs = qs.filter(state=State.UNDER_REVIEW, complete_at__lt=clocks.overdue_before())
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(applicant__name__icontains=q))
    if jurisdiction:
        qs = qs.filter(jurisdiction__code=jurisdiction)
    if assignee == "me":
        qs = qs.filter(review_case__assignee=user)
    elif assignee == "none":
        qs = qs.filter(Q(review_case__isnull=True) | Q(review_case__assignee__isnull=True))
    elif assignee.isdigit():
        qs = qs.filter(review_case__assignee_id=int(assignee))
    order = {
        "received": [F("received_at").desc(nulls_last=True)],
        "problems": [F("problems").desc()],
        "comments": [F("open_comments").desc()],
    }.get(sort, [F("waiting_since").asc(nulls_last=True)])
    return qs.order_by(*order, "id")


@dataclass
class Row:
    """A queue row with its clock (computed from the row's annotations: no query)."""

    project: Project
    stage: str
    clock: Any  # timelimits.Clock for the bureau's decision, else None
    waiting_days: int

    @property
    def assignee(self):
        case = getattr(self.project, "review_case", None)
        return case.assignee if case is not None else None


def row(project: Project) -> Row:
    from django.utils import timezone

    if project.state == State.UNDER_REVIEW:
        stage = "approve" if project.reviewed else "review"
    elif project.state == State.PERMITTED:
        stage = "start"
    else:
        stage = "enterprise"
    clock = clocks.decision_clock(project.complete_at) if project.state == State.UNDER_REVIEW else None
    since = project.waiting_since
    waiting = (timezone.localdate() - timezone.localdate(since)).days if since else 0
    return Row(project, stage, clock, max(waiting, 0))


def counts(user) -> dict[str, int]:
    """How many rows each tab has, and how many are overdue (the tabs' badges): one query."""
    pending_start = StartReport.objects.filter(project=OuterRef("pk"), decision=StartReport.Decision.PENDING)
    complete_at = _latest(Transition, "at", to_state=State.UNDER_REVIEW)
    base = permissions.queue_projects(user).filter(state__in=(State.UNDER_REVIEW, State.PERMITTED, *ENTERPRISE_STATES))
    under_review = Q(state=State.UNDER_REVIEW)
    return base.annotate(started=Exists(pending_start), complete_at=complete_at).aggregate(
        bureau=Count("pk", filter=under_review | Q(state=State.PERMITTED, started=True)),
        enterprise=Count("pk", filter=Q(state__in=ENTERPRISE_STATES)),
        overdue=Count("pk", filter=under_review & Q(complete_at__lt=clocks.overdue_before())),
    )
