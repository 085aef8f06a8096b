"""变更 after the permit: the applicant asks to replace a key person or a participant, to remove a participant or
to withdraw a filed document; the project's regulator (its district bureau, or the city bureau) approves or
rejects with a reason, and only approval changes the registration, through corrections.apply_* (so the
correction record names the request). Asking, approving and rejecting are audited; the district bureau hears
of a request at once, the applicant of the decision (notices.py).

Who: permissions.may_request_change (the applicant of a permitted project; else 403), may_decide_change (the
project's regulators; else 403). A request in a state it cannot be taken in, or already decided: 409."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, QuerySet, Value, When
from django.utils import timezone

from jianguan.core import audit
from jianguan.core.permissions import require

from . import corrections, notices, permissions
from .corrections import NotNow
from .models import Correction, Document, KeyPerson, Participant, Project, ProjectChangeRequest

Action = ProjectChangeRequest.Action
State = ProjectChangeRequest.State

REQUEST_REFUSED = "只有申报单位（建设单位）可以申请变更"
DECIDE_REFUSED = "只有项目所在区县住建部门（或市住建局）可以审批变更申请"
REASON_REQUIRED = "请填写变更原因（区县住建部门据此审批）"


def _target(project: Project, action: str, target_id: int) -> Participant | KeyPerson | Document:
    """The registration the request is about, in this project (422 when there is none such)."""
    if action == Action.REPLACE_KEY_PERSON:
        found: Any = project.key_people.select_related("person").filter(pk=target_id).first()
        what = "关键岗位人员"
    elif action in (Action.REPLACE_PARTICIPANT, Action.REMOVE_PARTICIPANT):
        found = project.participants.select_related("enterprise").filter(pk=target_id).first()
        what = "参建单位"
    elif action == Action.WITHDRAW_DOCUMENT:
        found = project.documents.filter(pk=target_id, withdrawn_at__isnull=True).first()
        what = "申报材料"
    else:
        raise ValidationError({"action": f"未知变更事项：{action}"})
    if found is None:
        raise ValidationError({"target_id": f"本项目没有该{what}登记"})
    return found


def _summary(action: str, target: Any, newcomer: Any) -> str:
    if action == Action.REPLACE_KEY_PERSON:
        old = corrections.person_label(target.role, target.person)
        return f"{old} → {newcomer.name}（{newcomer.id_number_masked}）"
    if action == Action.REPLACE_PARTICIPANT:
        return f"{corrections.participant_label(target)} → {newcomer.name}（{newcomer.uscc}）"
    if action == Action.REMOVE_PARTICIPANT:
        return f"减少{corrections.participant_label(target)}"
    return f"撤回{corrections.document_label(target)}"


def _newcomer(project: Project, action: str, target: Any, payload: dict[str, Any]) -> Any:
    if action == Action.REPLACE_KEY_PERSON:
        if not payload.get("person_id"):
            raise ValidationError({"person_id": "请选择接任的人员"})
        return corrections.newcomer_person(project, target.role, payload["person_id"])
    if action == Action.REPLACE_PARTICIPANT:
        if not payload.get("enterprise_id"):
            raise ValidationError({"enterprise_id": "请选择接替的企业"})
        return corrections.newcomer_enterprise(project, target.role, payload["enterprise_id"])
    return None


@transaction.atomic
def request(
    user,
    project: Project,
    action: str,
    *,
    target_id: int,
    reason: str,
    person_id: int | None = None,
    enterprise_id: int | None = None,
) -> ProjectChangeRequest:
    """Files a 变更 request (the registration stays as it is until approval) and tells the district bureau."""
    project = Project.objects.select_for_update().select_related("applicant", "jurisdiction").get(pk=project.pk)
    require("applicant" in permissions.participant_roles(user, project), REQUEST_REFUSED)
    if not permissions.may_request_change(user, project):
        raise NotNow(
            f"项目当前状态为“{project.get_state_display()}”：取得施工许可前请直接更正，无须申请变更", "wrong_state"
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    if len(reason) > 200:
        raise ValidationError({"reason": corrections.REASON_TOO_LONG})
    target = _target(project, action, target_id)
    payload = {"person_id": person_id, "enterprise_id": enterprise_id}
    newcomer = _newcomer(project, action, target, payload)
    label = Action(action).label
    if ProjectChangeRequest.objects.filter(
        project=project, action=action, target_id=target.pk, state=State.PENDING
    ).exists():
        raise ValidationError({"target_id": f"已有待审批的“{label}”申请，请等待区县住建部门审批"})
    change = ProjectChangeRequest.objects.create(
        project=project,
        action=action,
        target_id=target.pk,
        payload={k: v for k, v in payload.items() if v},
        summary=_summary(action, target, newcomer)[:200],
        reason=reason,
        requested_by=user,
    )
    audit.record(
        user,
        "create",
        change,
        project=project,
        label=f"申请变更：{label}",
        changes={"label": change.summary, "reason": reason},
    )
    notices.change_requested(change)
    return change


def _locked(change: ProjectChangeRequest) -> ProjectChangeRequest:
    return (
        ProjectChangeRequest.objects.select_for_update(of=("self",))
        .select_related("project", "project__jurisdiction", "project__applicant", "requested_by")
        .get(pk=change.pk)
    )


def _check_decidable(user, change: ProjectChangeRequest) -> None:
    """Not the user's to decide: 403; already decided (a second click): 409."""
    require(permissions.may_decide_change(user, change), DECIDE_REFUSED)
    if change.state != State.PENDING:
        raise NotNow(f"该申请{change.get_state_display()}，不能再审批", "decided")


@transaction.atomic
def approve(user, change: ProjectChangeRequest, comment: str = "") -> ProjectChangeRequest:
    """Applies the change (the rules checked again: a certificate may have expired since) and tells the applicant."""
    change = _locked(change)
    _check_decidable(user, change)
    project = change.project
    if permissions.correction_stage(project) != Correction.Stage.CHANGE:
        raise NotNow(f"项目当前状态为“{project.get_state_display()}”，不能再按变更申请更改登记", "wrong_state")
    target = _target(project, change.action, change.target_id)
    newcomer = _newcomer(project, change.action, target, change.payload)
    applied = {"stage": Correction.Stage.CHANGE, "reason": change.reason, "change": change}
    if change.action == Action.REPLACE_KEY_PERSON:
        corrections.apply_replace_key_person(user, target, newcomer, **applied)
    elif change.action == Action.REPLACE_PARTICIPANT:
        corrections.apply_replace_participant(user, target, newcomer, **applied)
    elif change.action == Action.REMOVE_PARTICIPANT:
        corrections.apply_remove_participant(user, target, **applied)
    else:
        corrections.apply_withdraw_document(user, target, **applied)
    _decide(user, change, State.APPROVED, comment)
    return change


@transaction.atomic
def reject(user, change: ProjectChangeRequest, comment: str) -> ProjectChangeRequest:
    change = _locked(change)
    _check_decidable(user, change)
    if not (comment or "").strip():
        raise ValidationError({"comment": "驳回须填写理由"})
    _decide(user, change, State.REJECTED, comment)
    return change


def _decide(user, change: ProjectChangeRequest, state: str, comment: str) -> None:
    change.state = state
    change.decided_by = user
    change.decided_at = timezone.now()
    change.decision_comment = (comment or "").strip()[:200]
    change.save(update_fields=["state", "decided_by", "decided_at", "decision_comment"])
    audit.record(
        user,
        "update",
        change,
        project=change.project,
        label=f"变更申请{change.get_state_display()}",
        changes={"label": change.summary, "comment": change.decision_comment},
    )
    notices.change_decided(change)


def get_change_for(user, pk: int) -> ProjectChangeRequest:
    """A request the user may read, else ProjectChangeRequest.DoesNotExist (404)."""
    return listed(permissions.visible_change_requests(user)).get(pk=pk)


def listed(qs: QuerySet[ProjectChangeRequest]) -> QuerySet[ProjectChangeRequest]:
    return qs.select_related("project", "requested_by__enterprise", "decided_by")


def search(user, *, state: str = "", project_id: int | None = None) -> QuerySet[ProjectChangeRequest]:
    qs = permissions.visible_change_requests(user)
    if state in State.values:
        qs = qs.filter(state=state)
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    return listed(qs).order_by("-requested_at", "-id")


def panel(user, project: Project) -> dict[str, Any]:
    """The project page's 变更 panel: the requests (pending first), whether the user may ask or decide."""
    pending_first = Case(When(state=State.PENDING, then=Value(0)), default=Value(1))
    requests = list(listed(project.change_requests.all()).order_by(pending_first, "-requested_at", "-id")[:20])
    pending = [c for c in requests if c.state == State.PENDING]
    return {
        "requests": requests,
        "pending": pending,
        "can_request": permissions.may_request_change(user, project),
        "can_decide": bool(pending) and permissions.is_regulator_of(user, project),
    }
