"""待办: an enterprise user's home after login: what waits for the enterprise's move.

Sections, each from one source (a function of the user giving items), read with a fixed number of queries
whatever the number of projects (tests/test_query_budgets.py):
- 待补正: filings the pre-review or the bureau sent back (the applicant's), with the problem count or the reason;
- 待上传材料: filings still missing items of the 申报材料清单, with the count;
- 变更申请: the enterprise's 变更 requests waiting for the bureau, and those decided in the last 30 days;
- 期限: the permit's start deadline (three months, 《建筑工程施工许可管理办法》第十条), documents and the
  key people's certificates expiring within 30 days.
More sources are added with `register` (e.g. review comments awaiting a reply, from the review workspace):
`register("comments", "审查意见待回复", lambda user: [Item(...), ...])`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from jianguan.registry.models import Certificate

from . import permissions
from .models import Document, KeyPerson, PreReview, Project, ProjectChangeRequest, State, Transition
from .requirements import filing_requirements

SOON_DAYS = 30
START_WITHIN_MONTHS = 3
START_SOURCE = "《建筑工程施工许可管理办法》第十条：建设单位应当自领取施工许可证之日起三个月内开工"
FILING_STATES = (State.DRAFT, State.PREREVIEW_FAILED, State.RETURNED)
ACTIVE_STATES = (State.PERMITTED, State.UNDER_CONSTRUCTION, State.SUSPENDED)


@dataclass
class Item:
    project: Project
    title: str
    detail: str = ""
    url: str = ""
    due: dt.date | None = None
    urgent: bool = False

    @property
    def days_left(self) -> int | None:
        return (self.due - timezone.localdate()).days if self.due else None

    @property
    def days_over(self) -> int:
        left = self.days_left
        return -left if left is not None and left < 0 else 0


@dataclass
class Section:
    key: str
    title: str
    items: list[Item] = field(default_factory=list)
    empty: str = "没有待办事项。"


Source = Callable[..., Iterable[Item]]
SOURCES: list[tuple[str, str, Source, str]] = []


def register(key: str, title: str, source: Source, empty: str = "没有待办事项。") -> None:
    """Adds a section (once per key): `source(user)` gives its items."""
    if all(existing != key for existing, *_ in SOURCES):
        SOURCES.append((key, title, source, empty))


def sections_for(user) -> list[Section]:
    return [Section(key, title, list(source(user)), empty) for key, title, source, empty in SOURCES]


def _own(user):
    """The user's enterprise's projects (as applicant or participant)."""
    return permissions.visible_projects(user)


def _filings(user):
    return _own(user).filter(applicant_id=user.enterprise_id)


def corrections_due(user) -> Iterable[Item]:
    returns = Transition.objects.filter(name="return").order_by("-at", "-id")
    projects = (
        _filings(user)
        .filter(state__in=(State.PREREVIEW_FAILED, State.RETURNED))
        .prefetch_related(
            Prefetch("prereviews", queryset=PreReview.objects.order_by("-at", "-id"), to_attr="reviews"),
            Prefetch("transitions", queryset=returns, to_attr="returns"),
        )
    )
    for project in projects.order_by("-updated_at", "-id"):
        if project.state == State.PREREVIEW_FAILED and project.reviews:
            errors = [f for f in project.reviews[0].findings if f.get("severity") == "error"]
            detail = "；".join(f["message"] for f in errors[:3]) + ("等" if len(errors) > 3 else "")
            yield Item(
                project, f"自动预审发现 {len(errors)} 项问题", detail, f"/projects/{project.pk}/#prereview", urgent=True
            )
        else:
            reason = project.returns[0].reason if project.returns else ""
            yield Item(
                project,
                "区县住建部门退回修改",
                f"理由：{reason}" if reason else "",
                f"/projects/{project.pk}/#overview",
                urgent=True,
            )


def uploads_missing(user) -> Iterable[Item]:
    projects = list(_filings(user).filter(state__in=FILING_STATES).order_by("-updated_at", "-id"))
    present: dict[int, set[tuple[str, str]]] = {}
    rows = (
        Document.objects.filter(project__in=projects, withdrawn_at__isnull=True, versions__isnull=False)
        .values_list("project_id", "kind", "category")
        .distinct()
    )
    for project_id, kind, category in rows:
        present.setdefault(project_id, set()).add((kind, category))
    for project in projects:
        have = present.get(project.pk, set())
        kinds = {kind for kind, _ in have}
        missing = [
            req
            for req in filing_requirements(project.project_type, project.parameters or {})
            if not ((req.kind, req.category) in have if req.category else req.kind in kinds)
        ]
        if missing:
            names = "、".join(r.label for r in missing[:4]) + ("等" if len(missing) > 4 else "")
            yield Item(project, f"还缺 {len(missing)} 项申报材料", names, f"/projects/{project.pk}/#materials")


def change_requests(user) -> Iterable[Item]:
    since = timezone.now() - dt.timedelta(days=SOON_DAYS)
    qs = (
        ProjectChangeRequest.objects.filter(project__in=_own(user), requested_by__enterprise_id=user.enterprise_id)
        .filter(Q(state=ProjectChangeRequest.State.PENDING) | Q(decided_at__gte=since))
        .select_related("project")
        .order_by("-requested_at", "-id")
    )
    for change in qs[:50]:
        pending = change.state == ProjectChangeRequest.State.PENDING
        verdict = "待区县住建部门审批" if pending else change.get_state_display()
        comment = f"；审批意见：{change.decision_comment}" if change.decision_comment else ""
        yield Item(
            change.project,
            f"{change.get_action_display()}：{verdict}",
            change.summary + comment,
            f"/projects/{change.project_id}/#people",
            urgent=change.state == ProjectChangeRequest.State.REJECTED,
        )


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def deadlines(user) -> Iterable[Item]:
    today = timezone.localdate()
    soon = today + dt.timedelta(days=SOON_DAYS)
    items: list[Item] = []
    for project in _filings(user).filter(state=State.PERMITTED, permitted_at__isnull=False):
        due = _add_months(timezone.localtime(project.permitted_at).date(), START_WITHIN_MONTHS)
        items.append(
            Item(project, "开工期限", START_SOURCE, f"/projects/{project.pk}/#overview", due, urgent=due <= soon)
        )
    documents = Document.objects.filter(
        project__in=_filings(user).exclude(state__in=(State.REJECTED, State.ARCHIVED)),
        withdrawn_at__isnull=True,
        valid_until__isnull=False,
        valid_until__lte=soon,
    ).select_related("project")
    for document in documents:
        expired = document.valid_until < today
        items.append(
            Item(
                document.project,
                f"{document.get_kind_display()}{'已过期' if expired else '即将到期'}",
                document.title,
                f"/projects/{document.project_id}/#materials",
                document.valid_until,
                urgent=True,
            )
        )
    expiring = Certificate.objects.filter(valid_until__gte=today, valid_until__lte=soon).order_by("valid_until")
    posts = (
        KeyPerson.objects.filter(project__in=_own(user).filter(state__in=(*FILING_STATES, *ACTIVE_STATES)))
        .filter(Q(project__applicant_id=user.enterprise_id) | Q(person__employer_id=user.enterprise_id))
        .filter(Exists(expiring.filter(person=OuterRef("person"))))
        .select_related("project", "person")
        .prefetch_related(Prefetch("person__certificates", queryset=expiring, to_attr="expiring"))
    )
    for post in posts:
        for cert in post.person.expiring:
            items.append(
                Item(
                    post.project,
                    f"{post.get_role_display()}{post.person.name}的证书即将到期",
                    cert.get_kind_display(),
                    f"/projects/{post.project_id}/#people",
                    cert.valid_until,
                    urgent=True,
                )
            )
    return sorted(items, key=lambda i: i.due or today)


register("corrections", "待补正", corrections_due, "没有等待补正的申报。")
register("uploads", "待上传材料", uploads_missing, "申报材料都已上传。")
register("changes", "变更申请", change_requests, "近期没有变更申请。")
register("deadlines", "期限", deadlines, f"{SOON_DAYS} 天内没有到期事项。")
