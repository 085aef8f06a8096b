"""Who is at a tower crane's controls. The cab's ID-card / face reader reports the operator with the crane's
telemetry ("operator": ID number); the operator is checked against the registry (人员库), the project's
real-name register and the registry's certificates (the gate check's rules, gates.py) and the day's gate
events: a crane operator must have come in through one of the project's gates today and not gone out since
(闸机 + 司机身份 cross-check).

The result becomes a derived reading of the message, `op_unqualified` (1 when a check fails, 0 when all pass),
stored with the crane's other samples, so the ordinary limit rules raise and clear the alarm (rule 塔机司机资格,
limits.py). The latest check per crane, with its reasons, is kept in CraneOperatorCheck for the pages and the API.
The raw ID number is never stored or logged: the person is found by the registry's keyed hash, the masked form is kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from jianguan.core import masking
from jianguan.registry.models import Person

from ..models import CraneOperatorCheck, Device, GateEvent, SiteWorker
from . import gates

PARAMETER = "op_unqualified"  # readings: 1.0 the operator failed a check, 0.0 all passed
OPERATION = gates.TOWER_CRANE_OPERATION
# A gate entry a little after the crane's message still counts (the two devices' clocks differ).
CLOCK_SKEW = dt.timedelta(minutes=10)

REASONS = {
    "invalid_id": "证件号码无效（未登记）",
    "unknown_person": "人员库中无此人（未登记）",
    "unregistered": "未在本项目实名制花名册中登记（非本项目人员）",
    "inactive": "已从本项目花名册注销（非本项目人员）",
    "certificate_missing": "无塔式起重机司机特种作业操作证（无有效证书）",
    "certificate_expired": "塔式起重机司机特种作业操作证已过期（无有效证书）",
    "no_gate_entry": "当日未经本项目闸机进场",
    "left_site": "已经本项目闸机出场，其后未再进场",
}


@dataclass(frozen=True)
class OperatorRef:
    """The operator as the platform keeps it: the registry's lookup hash (None: not a valid ID number) and
    the masked number. This, never the raw number, is what goes to disk (the MQTT spool) or the database."""

    hash: str | None
    masked: str

    @classmethod
    def from_id_number(cls, raw: str) -> OperatorRef:
        text = raw.strip().upper()
        return cls(gates.person_hash(text), masking.mask_id_number(text)[:18])

    def as_json(self) -> list:
        return [self.hash, self.masked]

    @classmethod
    def from_json(cls, item: list) -> OperatorRef:
        id_hash, masked = item
        return cls(id_hash, masked)


@dataclass(frozen=True)
class Check:
    device: Device
    ts: dt.datetime
    operator: OperatorRef
    person: Person | None
    reasons: list[str]

    @property
    def ok(self) -> bool:
        return not self.reasons

    @property
    def messages(self) -> list[str]:
        return [REASONS[r] for r in self.reasons]


def presence_flag(project, person: Person, ts: dt.datetime) -> str | None:
    """Is the person on the site at ts by the project's gates? None when so; else the reason: no entry on ts's
    local day ("no_gate_entry"), or out through a gate after their last entry ("left_site"). An entry a little
    after ts counts (CLOCK_SKEW); an exit counts only up to ts, so a crane's last message before its operator
    walks out is not flagged."""
    start = timezone.localtime(ts).replace(hour=0, minute=0, second=0, microsecond=0)
    today = GateEvent.objects.filter(project=project, person=person, ts__gte=start)
    last_in = (
        today.filter(direction=GateEvent.Direction.IN, ts__lte=ts + CLOCK_SKEW)
        .order_by("-ts")
        .values_list("ts", flat=True)
        .first()
    )
    if last_in is None:
        return "no_gate_entry"
    if today.filter(direction=GateEvent.Direction.OUT, ts__gt=last_in, ts__lte=ts).exists():
        return "left_site"
    return None


def check_operator(device_id: int, operator: OperatorRef, ts: dt.datetime) -> Check | None:
    """Checks the reported operator of a crane; None when the device is not a crane (nothing to check)."""
    device = Device.objects.select_related("project").filter(pk=device_id, kind=Device.Kind.CRANE).first()
    if device is None:
        return None
    if operator.hash is None:
        return Check(device, ts, operator, None, ["invalid_id"])
    person = gates.person_by_hash(operator.hash)
    if person is None:
        return Check(device, ts, operator, None, ["unknown_person"])
    reasons: list[str] = []
    worker = SiteWorker.objects.filter(project=device.project, person=person).first()
    if worker is None:
        reasons.append("unregistered")
    elif not worker.active:
        reasons.append("inactive")
    reasons += gates.certificate_flags(person, OPERATION, timezone.localdate(ts))
    if flag := presence_flag(device.project, person, ts):
        reasons.append(flag)
    return Check(device, ts, operator, person, reasons)


def record(check: Check) -> CraneOperatorCheck | None:
    """Keeps the check as the crane's latest, unless a later one is there (a replayed older message)."""
    if CraneOperatorCheck.objects.filter(device=check.device, ts__gt=check.ts).exists():
        return None
    row, _ = CraneOperatorCheck.objects.update_or_create(
        device=check.device,
        defaults={
            "person": check.person,
            "id_number_masked": check.operator.masked,
            "ts": check.ts,
            "ok": check.ok,
            "reasons": check.reasons,
            "messages": check.messages,
        },
    )
    return row


def project_checks(project):
    """The latest operator check of each of the project's cranes."""
    return (
        CraneOperatorCheck.objects.filter(device__project=project)
        .select_related("device", "person")
        .order_by("device__name")
    )
