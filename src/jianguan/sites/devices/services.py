"""Registering and managing a project's devices: registration, edits, retirement, HTTP tokens. Who may do it is
asked in sites.permissions; every change is audited and reaches running gateways through the identity cache.

A monitor of a permitted project is under change control (permissions.change_controlled): when its general
contractor retires, restores, re-keys, moves it or changes its interval, dialect or allowed networks, the change
becomes a request the
district bureau decides (changes.py) and the device stays as it is; the returned device lists the requests made
in `device.requested`. Its other details (name, dates) still change at once."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from jianguan.accounts import sharing
from jianguan.core import audit
from jianguan.core.permissions import require
from jianguan.projects.models import Project

from .. import permissions
from ..models import Device, DeviceChangeRequest
from . import changes
from .identity import invalidate_cache, password_hash

Action = DeviceChangeRequest.Action

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
EDITABLE = ("name", "dialect", "rtd_interval_s", "lat", "lon", "installed_on", "calibrated_on", "allowed_networks")


@transaction.atomic
def update_device(user, device: Device, data: dict[str, Any]) -> Device:
    """Changes the editable fields and, for an HJ 212 device, its access password when a new one is given.
    Under change control the contractor's move, interval, password, dialect and source-network changes become
    requests (`data["reason"]` says why); the rest (name, dates) applies at once."""
    require(permissions.may_manage_device(user, device), MANAGE_REFUSED)
    device.requested, device.applied = [], []
    edits = {k: data[k] for k in EDITABLE if k in data and data[k] != getattr(device, k)}
    password = data.get("password") or ""
    if password and device.protocol != Device.Protocol.HJ212:
        password = ""
    if edits:  # every new value is checked, whether it applies now or on approval
        candidate = copy.copy(device)
        for key, value in edits.items():
            setattr(candidate, key, value)
        candidate.full_clean(exclude=["project"])
    asks = _controlled_asks(user, device, edits, password)
    if asks and not (data.get("reason") or "").strip():
        raise ValidationError({"reason": changes.REASON_REQUIRED})
    for key, value in edits.items():
        setattr(device, key, value)
    if password and Action.PASSWORD not in asks:
        device.password_hash = password_hash(password)
        edits["password"] = "（已更换）"
    device.applied = list(edits)
    if edits:
        device.save()
        audit.record(user, "update", device, project=device.project, changes={k: str(v) for k, v in edits.items()})
        invalidate_cache()
    for action, (payload, summary) in asks.items():
        device.requested.append(
            changes.request(user, device, action, reason=data["reason"], payload=payload, summary=summary)
        )
    return device


def _controlled_asks(user, device: Device, changed: dict[str, Any], password: str) -> dict[str, tuple[dict, str]]:
    """Takes the changes that need the district bureau out of `changed`: action -> (payload, summary).
    Moving is changing a recorded position (placing a device that had none is not)."""
    if permissions.may_change_device_directly(user, device):
        return {}
    asks: dict[str, tuple[dict, str]] = {}
    if {"lat", "lon"} & changed.keys() and (device.lat is not None or device.lon is not None):
        lat, lon = changed.pop("lat", device.lat), changed.pop("lon", device.lon)
        asks[Action.MOVE] = (
            {"lat": lat, "lon": lon},
            f"安装位置 {_place(device.lat, device.lon)} → {_place(lat, lon)}",
        )
    if "rtd_interval_s" in changed:
        seconds = changed.pop("rtd_interval_s")
        asks[Action.INTERVAL] = (
            {"rtd_interval_s": seconds},
            f"实时数据间隔 {device.rtd_interval_s} 秒 → {seconds} 秒",
        )
    if password:
        asks[Action.PASSWORD] = ({"password_hash": password_hash(password)}, "更换访问密码（PW）")
    if "dialect" in changed:  # the strict dialect rejects every frame of a device with vendor deviations
        dialect = changed.pop("dialect")
        labels = dict(Device.Dialect.choices)
        asks[Action.DIALECT] = (
            {"dialect": dialect},
            f"报文方言 {labels.get(device.dialect, device.dialect)} → {labels.get(dialect, dialect)}",
        )
    if "allowed_networks" in changed:  # a network the device is not in switches it off
        networks = changed.pop("allowed_networks")
        asks[Action.NETWORKS] = (
            {"allowed_networks": networks},
            f"允许的来源网段 {device.allowed_networks or '不限'} → {networks or '不限'}",
        )
    return asks


def _place(lat: float | None, lon: float | None) -> str:
    return "未登记" if lat is None or lon is None else f"{lat:.6f}, {lon:.6f}"


@transaction.atomic
def set_retired(user, device: Device, retired: bool, reason: str = "") -> Device:
    """Takes a device out of service (every ingest path refuses it; its data stays) or puts it back; under change
    control the contractor's request for it (with its reason) goes to the district bureau instead."""
    require(permissions.may_manage_device(user, device), MANAGE_REFUSED)
    device.requested = []
    if retired and not reason.strip():
        raise ValidationError({"reason": "请填写停用原因（如：设备拆除、更换、故障送修）"})
    if device.retired == retired:
        return device
    action = Action.RETIRE if retired else Action.RESTORE
    if not permissions.may_change_device_directly(user, device):
        device.requested.append(changes.request(user, device, action, reason=reason, summary=action.label))
        return device
    changes.apply(device, action, {})
    label = "停用" if retired else "恢复启用"
    audit.record(user, "update", device, project=device.project, changes={"label": label, "reason": reason.strip()})
    return device


@transaction.atomic
def reissue_token(user, device: Device, reason: str = "") -> Device:
    """A new HTTP token for the device (the old one stops working at once), in `device.issued_token`: shown once.
    Under change control the contractor's new token works only from the district bureau's approval on."""
    require(permissions.may_manage_device(user, device), MANAGE_REFUSED)
    device.requested = []
    if device.protocol != Device.Protocol.HTTP:
        raise ValidationError({"protocol": "只有 HTTP 设备使用令牌"})
    token = new_http_token()
    if not permissions.may_change_device_directly(user, device):
        payload = {"token_hash": password_hash("token:" + token)}
        device.requested.append(
            changes.request(user, device, Action.TOKEN, reason=reason, payload=payload, summary=Action.TOKEN.label)
        )
    else:
        changes.apply(device, Action.TOKEN, {"token_hash": password_hash("token:" + token)})
        audit.record(user, "update", device, project=device.project, changes={"label": "重置接入令牌"})
    device.issued_token = token
    return device


def new_http_token() -> str:
    return "jgd_" + secrets.token_urlsafe(24)


def issue_http_token(device: Device) -> str:
    token = new_http_token()
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
