"""Registering and managing a project's devices: registration, edits, retirement, HTTP tokens. Who may do it is
asked in sites.permissions; every change is audited and reaches running gateways through the identity cache."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from jianguan.accounts import sharing
from jianguan.core import audit
from jianguan.core.permissions import require
from jianguan.projects.models import Project

from .. import permissions
from ..models import Device
from .identity import invalidate_cache, password_hash

MANAGE_REFUSED = "只有项目所在区县监管部门或施工总承包单位可以登记和管理设备"


def get_device_for(user, device_id: int, *, what: str = "监测设备") -> Device:
    """The device if the user may read its project's monitoring, else Device.DoesNotExist (404: no existence
    leak). A department officer's read is logged with the rule that allowed it."""
    device = permissions.visible_devices(user).select_related("project").get(pk=device_id)
    sharing.note_read(user, permissions.MONITORING, what=what, obj=device, project=device.project)
    return device


@transaction.atomic
def register_device(user, project: Project, data: dict[str, Any]) -> Device:
    require(permissions.may_manage_devices(user, project), MANAGE_REFUSED)
    data = dict(data)
    password = data.pop("password", "") or ""
    device = Device(project=project, **{k: v for k, v in data.items() if v is not None})
    if device.protocol == Device.Protocol.HJ212:
        if not device.mn or not password:
            raise ValidationError({"mn": "HJ 212 设备须填写设备编号（MN）和访问密码（PW）"})
        device.password_hash = password_hash(password)
    device.full_clean(exclude=["project"])
    device.save()
    audit.record(
        user, "create", device, project=project, changes={"name": device.name, "kind": device.kind, "mn": device.mn}
    )
    if device.protocol == Device.Protocol.HTTP:
        device.issued_token = issue_http_token(device)  # shown once, in the registration's answer
    invalidate_cache()
    return device


# Fields a device's manager may change after registration (its kind, protocol and identity stay: a new
# identity is a new device).
EDITABLE = ("name", "dialect", "rtd_interval_s", "lat", "lon", "installed_on", "calibrated_on")


@transaction.atomic
def update_device(user, device: Device, data: dict[str, Any]) -> Device:
    """Changes the editable fields and, for an HJ 212 device, its access password when a new one is given."""
    require(permissions.may_manage_device(user, device), MANAGE_REFUSED)
    changes = {k: data[k] for k in EDITABLE if k in data and data[k] != getattr(device, k)}
    for key, value in changes.items():
        setattr(device, key, value)
    password = data.get("password") or ""
    if password and device.protocol == Device.Protocol.HJ212:
        device.password_hash = password_hash(password)
        changes["password"] = "（已更换）"
    if not changes:
        return device
    device.full_clean(exclude=["project"])
    device.save()
    audit.record(user, "update", device, project=device.project, changes={k: str(v) for k, v in changes.items()})
    invalidate_cache()
    return device


@transaction.atomic
def set_retired(user, device: Device, retired: bool, reason: str = "") -> Device:
    """Takes a device out of service (every ingest path refuses it; its data stays) or puts it back."""
    require(permissions.may_manage_device(user, device), MANAGE_REFUSED)
    if retired and not reason.strip():
        raise ValidationError({"reason": "请填写停用原因（如：设备拆除、更换、故障送修）"})
    if device.retired == retired:
        return device
    device.retired_at = timezone.now() if retired else None
    device.save(update_fields=["retired_at"])
    label = "停用" if retired else "恢复启用"
    audit.record(user, "update", device, project=device.project, changes={"label": label, "reason": reason.strip()})
    invalidate_cache()
    return device


@transaction.atomic
def reissue_token(user, device: Device) -> str:
    """A new HTTP token for the device (the old one stops working at once); shown once."""
    require(permissions.may_manage_device(user, device), MANAGE_REFUSED)
    if device.protocol != Device.Protocol.HTTP:
        raise ValidationError({"protocol": "只有 HTTP 设备使用令牌"})
    token = issue_http_token(device)
    audit.record(user, "update", device, project=device.project, changes={"label": "重置接入令牌"})
    return token


def issue_http_token(device: Device) -> str:
    token = "jgd_" + secrets.token_urlsafe(24)
    device.token_hash = password_hash("token:" + token)
    device.save(update_fields=["token_hash"])
    return token


def devices_for(project: Project):
    # A crane's latest operator check (cranes.py) comes along for the project page's device panel.
    return (
        Device.objects.filter(project=project)
        .select_related("operator_check", "operator_check__person")
        .order_by("name")
    )
