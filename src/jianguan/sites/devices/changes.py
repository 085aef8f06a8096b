"""Change requests for monitoring devices of permitted projects: the general contractor asks, the district bureau
approves or rejects with its reason, and only approval changes the device.

Who must ask and who changes directly is decided in sites.permissions (change_controlled,
may_change_device_directly, may_request_device_change, may_decide_device_change). A request is announced at once
to the district's regulators (in-app and the outbox: email, group robots), every step is audited, and the requester
hears of the decision. A request never holds a secret: a new password or token is kept as its keyed hash only
(the token itself is shown once to the requester, and works from the approval on).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from jianguan.core import audit
from jianguan.core.permissions import require
from jianguan.notify.services import notify
from jianguan.projects.models import Project

from .. import permissions
from ..models import Device, DeviceChangeRequest
from .identity import invalidate_cache

Action = DeviceChangeRequest.Action
State = DeviceChangeRequest.State

REQUEST_REFUSED = "只有施工总承包单位可以申请变更本设备；区县监管部门可直接变更"
DECIDE_REFUSED = "只有项目所在区县住建部门可以审批设备变更申请"
REASON_REQUIRED = "请填写变更原因（区县监管部门据此审批）"
QUEUE_URL = "/sites/device-changes/"


def request(
    user, device: Device, action: str, *, reason: str, payload: dict[str, Any] | None = None, summary: str = ""
) -> DeviceChangeRequest:
    """Files a request (in the caller's transaction) and tells the district bureau at once."""
    require(permissions.may_request_device_change(user, device), REQUEST_REFUSED)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    if len(reason) > 200:
        raise ValidationError({"reason": "变更原因最多 200 字"})
    label = Action(action).label
    if DeviceChangeRequest.objects.filter(device=device, action=action, state=State.PENDING).exists():
        raise ValidationError({"action": f"该设备已有待审批的“{label}”申请，请等待区县监管部门审批"})
    change = DeviceChangeRequest.objects.create(
        project=device.project,
        device=device,
        action=action,
        reason=reason,
        summary=(summary or label)[:200],
        payload=payload or {},
        requested_by=user,
    )
    audit.record(
        user,
        "create",
        change,
        project=device.project,
        changes={"label": f"申请{label}", "device": device.name, "summary": change.summary, "reason": reason},
    )
    _announce_request(change)
    return change


@transaction.atomic
def approve(user, change: DeviceChangeRequest, comment: str = "") -> DeviceChangeRequest:
    """Applies the request to the device (audited on the device too) and tells the requester."""
    change = _locked(change)
    _check_decidable(user, change)
    apply(change.device, change.action, change.payload)
    _decide(user, change, State.APPROVED, comment)
    audit.record(
        user,
        "update",
        change.device,
        project=change.project,
        changes={"label": f"{change.get_action_display()}（批准变更申请 {change.pk}）", "summary": change.summary,
                 "reason": change.reason},
    )  # fmt: skip
    return change


@transaction.atomic
def reject(user, change: DeviceChangeRequest, comment: str) -> DeviceChangeRequest:
    """Refuses the request with a reason; the device stays as it is."""
    change = _locked(change)
    _check_decidable(user, change)
    if not (comment or "").strip():
        raise ValidationError({"comment": "驳回须填写理由"})
    _decide(user, change, State.REJECTED, comment)
    return change


def apply(device: Device, action: str, payload: dict[str, Any]) -> list[str]:
    """Makes the change on the device and saves it (no permission check: callers decide). Returns the fields."""
    fields: dict[str, Any] = {}
    if action == Action.RETIRE:
        fields["retired_at"] = device.retired_at or timezone.now()
    elif action == Action.RESTORE:
        fields["retired_at"] = None
    elif action == Action.PASSWORD:
        fields["password_hash"] = payload["password_hash"]
    elif action == Action.TOKEN:
        fields["token_hash"] = payload["token_hash"]
    elif action == Action.MOVE:
        fields.update(lat=payload["lat"], lon=payload["lon"])
    elif action == Action.INTERVAL:
        fields["rtd_interval_s"] = payload["rtd_interval_s"]
    elif action == Action.NETWORKS:
        fields["allowed_networks"] = payload["allowed_networks"]
    elif action == Action.DIALECT:
        fields["dialect"] = payload["dialect"]
    else:
        raise ValueError(f"unknown device change {action!r}")
    for name, value in fields.items():
        setattr(device, name, value)
    device.save(update_fields=list(fields))
    invalidate_cache()  # this process's gateway at once, others within the identity cache's lifetime
    return list(fields)


def pending_for(project: Project) -> QuerySet[DeviceChangeRequest]:
    return DeviceChangeRequest.objects.filter(project=project, state=State.PENDING).select_related(
        "device", "requested_by"
    )


def panel(user, project: Project) -> dict[str, Any]:
    """The project page's device panel: the pending requests, and whether the user decides them."""
    if not permissions.visible_device_changes(user).filter(project=project).exists():
        return {"pending": [], "can_decide": False, "controlled": False}
    pending = list(pending_for(project))
    return {
        "pending": pending,
        "can_decide": bool(pending) and permissions.may_decide_device_change(user, pending[0]),
        "controlled": True,
    }


def _locked(change: DeviceChangeRequest) -> DeviceChangeRequest:
    return (
        DeviceChangeRequest.objects.select_for_update(of=("self",))
        .select_related("project", "device", "device__project", "requested_by")
        .get(pk=change.pk)
    )


def _check_decidable(user, change: DeviceChangeRequest) -> None:
    """A decided request is a conflict (422, e.g. a second click); a pending one not the user's to decide, 403."""
    if change.state != State.PENDING:
        raise ValidationError({"state": f"该申请{change.get_state_display()}，不能再审批"})
    require(permissions.may_decide_device_change(user, change), DECIDE_REFUSED)


def _decide(user, change: DeviceChangeRequest, state: str, comment: str) -> None:
    change.state = state
    change.decided_by = user
    change.decided_at = timezone.now()
    change.decision_comment = (comment or "").strip()[:200]
    change.save(update_fields=["state", "decided_by", "decided_at", "decision_comment"])
    verdict = change.get_state_display()
    audit.record(
        user,
        "update",
        change,
        project=change.project,
        changes={"label": verdict, "device": change.device.name, "comment": change.decision_comment},
    )
    _announce_decision(change)


def _title(change: DeviceChangeRequest, what: str) -> str:
    return f"【{what}】{change.project.name} {change.device.name}：{change.get_action_display()}"


def _announce_request(change: DeviceChangeRequest) -> None:
    recipients = list(permissions.district_regulators(change.project))
    if not recipients:  # a district without regulator accounts: the city bureau decides
        from jianguan.accounts.models import User

        recipients = list(User.objects.filter(is_active=True, role=User.Role.BUREAU_ADMIN))
    who = change.requested_by.get_full_name() if change.requested_by else "—"
    enterprise = getattr(change.requested_by, "enterprise", None)
    if enterprise is not None:
        who = f"{who}，{enterprise.name}"
    notify(
        recipients,
        topic="device.change_requested",
        title=_title(change, "设备变更待审批"),
        body=f"{change.summary}。申请原因：{change.reason}（申请人：{who}）。批准前设备保持原状。",
        url=f"{QUEUE_URL}#change-{change.pk}",
        project=change.project,
    )


def _announce_decision(change: DeviceChangeRequest) -> None:
    approved = change.state == State.APPROVED
    comment = f"审批意见：{change.decision_comment}" if change.decision_comment else ""
    body = f"{change.summary}。{'已生效' if approved else '设备保持原状'}。{comment}"
    notify(
        [change.requested_by],
        topic="device.change_decided",
        title=_title(change, "设备变更已批准" if approved else "设备变更被驳回"),
        body=body,
        url=f"/projects/{change.project_id}/#site",
        project=change.project,
    )
