"""Limit rules edited by regulators in the pages: who may edit which rule, the validation, the audited save,
and the side-by-side overview of the city-wide defaults and a district's overrides.

- The city bureau's administrator (BUREAU_ADMIN) edits the city-wide rules (jurisdiction empty).
- A district regulator (DISTRICT_REGULATOR) creates, edits and deactivates its own jurisdiction's overrides;
  never city-wide rules nor another district's. Rules are deactivated, never deleted (alarms refer to them).
- Everyone else may not see the pages.

How an override takes effect is `alarms.rules_for`: for a device, parameter and time of day the
jurisdiction's own active rules replace the city-wide ones. Saving clears this process's rule cache (a
signal); running gateways reload within `alarms.RULES_TTL` seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from jianguan.accounts.models import User
from jianguan.core import audit
from jianguan.core.models import Jurisdiction
from jianguan.core.permissions import require

from .. import permissions
from ..alarms import engine as alarm_engine
from ..alarms import rules as alarms
from ..models import OFFLINE_PARAMETER, Device, LimitRule

Role = User.Role
VIEW_REFUSED = "只有市住建局管理员和区县监管人员可以查看限值设置"
Period = LimitRule.Period

# The fields a regulator edits; jurisdiction is never a form field: it follows from who edits.
FIELDS = [
    "name",
    "parameter",
    "unit",
    "device_kind",
    "period",
    "warning",
    "critical",
    "sustain",
    "clear_ratio",
    "clear_count",
    "source",
    "confirmed",
    "active",
]
# Running gateways (other processes) pick a change up within this many seconds (their rule cache's TTL).
PICKUP_SECONDS = int(alarms.RULES_TTL)
PARAMETER_RE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
PERIOD_ORDER = {Period.ALL: 0, Period.DAY: 1, Period.NIGHT: 2}
TIMES_OF_DAY = (Period.DAY, Period.NIGHT)


def scope_label(jurisdiction: Jurisdiction | None) -> str:
    return "全市" if jurisdiction is None else jurisdiction.name


# --- validation: the pure engine's constraints, in words a regulator reads -------------------------------


def validate(data: dict[str, Any]) -> None:
    """Raises ValidationError({field: [message]}) for anything alarm_engine.Limit or the model would refuse."""
    errors: dict[str, list[str]] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not str(data.get("name") or "").strip():
        err("name", "请填写规则名称，例如“PM2.5”或“施工噪声（夜间）”。")
    parameter = str(data.get("parameter") or "").strip()
    if not parameter:
        err("parameter", "请填写监测因子编码（HJ 212 编码，例如 a34004 表示 PM2.5，LA 表示噪声）。")
    elif not PARAMETER_RE.match(parameter):
        err("parameter", "监测因子编码只能包含字母、数字、下划线或连字符，最长 16 个字符。")
    elif parameter == OFFLINE_PARAMETER:
        err("parameter", "该编码留给“设备离线”告警，不是监测因子，请换用其他编码。")
    if data.get("device_kind") not in ("", None, *Device.Kind.values):
        err("device_kind", "请选择有效的设备类型。")
    if data.get("period") not in Period.values:
        err("period", "请选择有效的时段。")
    warning, critical = data.get("warning"), data.get("critical")
    if warning is None:
        err("warning", "请填写超标限值。")
    if warning is not None and critical is not None and critical < warning:
        err("critical", f"严重限值（{critical:g}）不能低于超标限值（{warning:g}）。")
    sustain, clear_count, clear_ratio = data.get("sustain"), data.get("clear_count"), data.get("clear_ratio")
    if sustain is None or sustain < 1:
        err("sustain", "连续超标次数至少为 1（1 表示第一次超标即告警）。")
    if clear_count is None or clear_count < 1:
        err("clear_count", "连续达标次数至少为 1。")
    if clear_ratio is None or not 0 < clear_ratio <= 1:
        err("clear_ratio", "解除比例须大于 0 且不超过 1（例如 0.9：降到限值的 90% 以下才计为达标）。")
    if not str(data.get("source") or "").strip():
        err("source", "请填写限值依据（标准名称及条款，或地方文件）。")
    if errors:
        raise ValidationError(errors)
    try:  # the engine is the final word: whatever it refuses, the page refuses
        alarm_engine.Limit(warning, critical, sustain, clear_ratio, clear_count)
    except ValueError as exc:
        raise ValidationError(f"限值参数不被告警引擎接受：{exc}") from exc


def _overlaps(a_kind: str, a_period: str, b_kind: str, b_period: str) -> bool:
    kinds = not a_kind or not b_kind or a_kind == b_kind
    periods = Period.ALL in (a_period, b_period) or a_period == b_period
    return kinds and periods


def _check_no_overlap(jurisdiction: Jurisdiction | None, data: dict[str, Any], exclude_pk: int | None) -> None:
    """Two active rules of one scope that apply to the same device and time would raise two alarms per reading."""
    if not data.get("active"):
        return
    others = LimitRule.objects.filter(active=True, parameter=data["parameter"], jurisdiction=jurisdiction)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    for other in others:
        if _overlaps(data.get("device_kind") or "", data["period"], other.device_kind, other.period):
            raise ValidationError(
                {
                    "period": (
                        f"{scope_label(jurisdiction)}已有启用的规则“{other.name}”（{other.get_period_display()}，"
                        f"{other.get_device_kind_display() or '全部设备'}）适用于相同的因子、设备和时段；"
                        "请修改该规则，或先停用它。"
                    )
                }
            )


# --- the audited changes ---------------------------------------------------------------------------------


def _clean_data(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: data.get(k) for k in FIELDS}
    for key in ("name", "parameter", "unit", "source"):
        out[key] = str(out[key] or "").strip()
    out["device_kind"] = out["device_kind"] or ""
    out["confirmed"], out["active"] = bool(out["confirmed"]), bool(out["active"])
    return out


def snapshot(rule: LimitRule) -> dict[str, Any]:
    values = {k: getattr(rule, k) for k in FIELDS}
    values["jurisdiction"] = scope_label(rule.jurisdiction)
    return values


def _label(rule: LimitRule) -> str:
    return f"限值规则“{rule.name}”（{scope_label(rule.jurisdiction)}，{rule.get_period_display()}）"


@transaction.atomic
def create_rule(user, data: dict[str, Any]) -> LimitRule:
    require(permissions.may_create_limit(user), "您无权新增限值规则")
    jurisdiction = None if user.role == Role.BUREAU_ADMIN else permissions.own_limit_district(user)
    data = _clean_data(data)
    validate(data)
    _check_no_overlap(jurisdiction, data, None)
    rule = LimitRule(jurisdiction=jurisdiction, **data)
    rule.full_clean()
    rule.save()
    audit.record(user, "create", rule, changes=snapshot(rule), label=_label(rule))
    return rule


@transaction.atomic
def update_rule(user, rule: LimitRule, data: dict[str, Any]) -> LimitRule:
    rule = LimitRule.objects.select_for_update(of=("self",)).select_related("jurisdiction").get(pk=rule.pk)
    require(permissions.may_edit_limit(user, rule), "您无权修改该限值规则")
    data = _clean_data(data)
    validate(data)
    _check_no_overlap(rule.jurisdiction, data, rule.pk)
    before = snapshot(rule)
    for key, value in data.items():
        setattr(rule, key, value)
    rule.full_clean()
    changes = audit.diff(before, snapshot(rule))
    if changes:
        rule.save()
        audit.record(user, "update", rule, changes=changes, label=_label(rule))
    return rule


@transaction.atomic
def set_active(user, rule: LimitRule, active: bool) -> LimitRule:
    """Deactivation is always possible; activation passes the same checks as a save."""
    rule = LimitRule.objects.select_for_update(of=("self",)).select_related("jurisdiction").get(pk=rule.pk)
    require(permissions.may_edit_limit(user, rule), "您无权启用或停用该限值规则")
    if rule.active == active:
        return rule
    if active:
        data = {**_clean_data(snapshot(rule)), "active": True}
        validate(data)
        _check_no_overlap(rule.jurisdiction, data, rule.pk)
    rule.active = active
    rule.save(update_fields=["active"])  # post_save clears this process's rule cache
    audit.record(user, "update", rule, changes={"active": [not active, active]}, label=_label(rule))
    return rule


NEW_RULE = {"period": Period.ALL, "sustain": 3, "clear_ratio": 0.9, "clear_count": 3, "active": True}


def initial_for(rule: LimitRule | None) -> dict[str, Any]:
    """The form's starting values: the rule's own, a copy of a city default (a new override) or defaults."""
    if rule is None:
        return dict(NEW_RULE)
    return {k: getattr(rule, k) for k in FIELDS}


def saved_message(rule: LimitRule, verb: str = "保存") -> str:
    return f"限值规则“{rule.name}”已{verb}：本平台立即生效，运行中的数据网关在 {PICKUP_SECONDS} 秒内生效。"


def get_rule_for(user, pk: int) -> LimitRule:
    """A limit rule the user may read (city-wide ones and the user's district's; every one for the bureau), else
    LimitRule.DoesNotExist (404): who may not see the limit pages at all reads no rule."""
    return permissions.visible_limit_rules(user).get(pk=pk)


def copy_source(user, pk) -> LimitRule | None:
    """A city-wide rule the user may start an override from (None when there is no such rule)."""
    if permissions.own_limit_district(user) is None:
        return None
    return permissions.visible_limit_rules(user).filter(pk=pk, jurisdiction__isnull=True).first()


# --- the overview: city defaults and a district's overrides side by side --------------------------------


@dataclass
class Row:
    parameter: str
    device_kind: str
    period: str
    city: list[LimitRule] = field(default_factory=list)
    local: list[LimitRule] = field(default_factory=list)

    @property
    def unit(self) -> str:
        return next((r.unit for r in self.city + self.local if r.unit), "")

    @property
    def kind_label(self) -> str:
        return Device.Kind(self.device_kind).label if self.device_kind in Device.Kind.values else "全部设备"

    @property
    def period_label(self) -> str:
        return Period(self.period).label if self.period in Period.values else self.period


@dataclass
class Overview:
    district: Jurisdiction | None  # whose overrides are shown (None: only the city-wide rules)
    rows: list[Row]
    districts: list[Jurisdiction]  # the bureau chooses a district to compare with
    can_edit_city: bool
    can_edit_local: bool


def _combos(rule: LimitRule) -> set[tuple[str, str]]:
    kinds = [rule.device_kind] if rule.device_kind else Device.Kind.values
    periods = TIMES_OF_DAY if rule.period == Period.ALL else [rule.period]
    return {(k, p) for k in kinds for p in periods}


def city_status(rule: LimitRule, local_rules: list[LimitRule]) -> str:
    """Whether a city-wide rule applies in the district, as alarms.rules_for decides: any active local rule for
    the same parameter, device kind and time of day replaces it there. Returns "applies", "partly", "replaced"."""
    combos = _combos(rule)
    replaced = set()
    for local in local_rules:
        if local.active and local.parameter == rule.parameter:
            replaced |= combos & _combos(local)
    if not replaced:
        return "applies"
    return "replaced" if replaced == combos else "partly"


def overview(user, district_code: str | None = None) -> Overview:
    require(permissions.may_view_limits(user), VIEW_REFUSED)
    districts: list[Jurisdiction] = []
    if user.role == Role.BUREAU_ADMIN:
        districts = list(Jurisdiction.objects.exclude(parent=None).order_by("code"))
        district = next((d for d in districts if d.code == district_code), None)
    else:
        district = permissions.own_limit_district(user)
    rules = list(
        LimitRule.objects.select_related("jurisdiction")
        .filter(Q(jurisdiction__isnull=True) | Q(jurisdiction=district) if district else Q(jurisdiction__isnull=True))
        .exclude(parameter=OFFLINE_PARAMETER)  # 设备离线: its time limits are settings, not a limit to edit
    )
    local_rules = [r for r in rules if r.jurisdiction_id is not None]
    rows: dict[tuple[str, str, str], Row] = {}
    for rule in rules:
        key = (rule.parameter, rule.device_kind, rule.period)
        row = rows.setdefault(key, Row(*key))
        (row.local if rule.jurisdiction_id else row.city).append(rule)
    for rule in rules:  # numbers as a regulator writes them: 10.8, 75, 0.9
        rule.warning_text = f"{rule.warning:g}"
        rule.critical_text = "" if rule.critical is None else f"{rule.critical:g}"
        rule.clear_ratio_text = f"{rule.clear_ratio:g}"
    for row in rows.values():
        for rule in row.city:
            rule.status_here = city_status(rule, local_rules) if district else "applies"
        row.city.sort(key=lambda r: not r.active)
        row.local.sort(key=lambda r: not r.active)
    ordered = sorted(rows.values(), key=lambda r: (r.parameter.lower(), r.device_kind, PERIOD_ORDER.get(r.period, 9)))
    return Overview(
        district=district,
        rows=ordered,
        districts=districts,
        can_edit_city=user.role == Role.BUREAU_ADMIN,
        can_edit_local=district is not None and permissions.own_limit_district(user) == district,
    )
