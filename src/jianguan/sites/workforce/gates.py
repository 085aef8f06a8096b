"""Gate entries checked against the real-name register: is the person registered on this project,
employed by one of its registered participants, and holding a valid certificate for their trade?
Unregistered workers and workers of non-participating employers are the 挂靠/转包 signal."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from jianguan.core import codes, masking
from jianguan.registry import protect
from jianguan.registry.models import Certificate, Person

from ..models import Device, GateEvent, SiteWorker
from ..protocols.telemetry import EARLIEST

# A gate's clock is bounded like every device time (HJ 212 DataTime, MQTT/HTTP telemetry): not before
# telemetry.EARLIEST (a clock that is not set), not more than a day ahead (services.DATA_TIME_AHEAD).
TIME_AHEAD = dt.timedelta(days=1)

FLAG_MESSAGES = {
    "invalid_id": "证件号码无效",
    "unknown_person": "人员库中无此人（未实名登记）",
    "unregistered": "未在本项目实名制花名册中登记",
    "inactive": "已从本项目花名册注销",
    "employer_not_participant": "所属单位不是本项目的参建单位（疑似挂靠/转包）",
    "employer_mismatch": "登记单位与人员库中的单位不一致（疑似挂靠/转包）",
    "certificate_missing": "无本工种所需的特种作业操作证",
    "certificate_expired": "特种作业操作证已过期",
}
SUBCONTRACTING_SIGNALS = {"unregistered", "unknown_person", "employer_not_participant", "employer_mismatch"}


@dataclass(frozen=True)
class CheckResult:
    person: Person | None
    worker: SiteWorker | None
    flags: list[str]

    @property
    def ok(self) -> bool:
        return not self.flags


# The special operation (特种作业操作证 operation_type) a tower crane's operator must hold.
TOWER_CRANE_OPERATION = "塔式起重机司机"


def person_hash(id_number: str) -> str | None:
    """The registry's keyed lookup hash of an ID number; None when it is not a valid ID number."""
    try:
        number = codes.validate_id_number(id_number)
    except codes.CodeError:
        return None
    return protect.lookup_hash(number)


def person_by_hash(id_hash: str) -> Person | None:
    return Person.objects.filter(id_number_hash=id_hash).select_related("employer").first()


def certificate_flags(person: Person, operation: str, day: dt.date) -> list[str]:
    """[] when the person holds a special-operation certificate for `operation` valid on `day`."""
    certs = [
        c for c in person.certificates.filter(kind=Certificate.Kind.SPECIAL_OPERATION) if c.operation_type == operation
    ]
    if not certs:
        return ["certificate_missing"]
    if not any(c.is_valid_on(day) for c in certs):
        return ["certificate_expired"]
    return []


def check_entry(device: Device, id_number: str, day: dt.date) -> CheckResult:
    id_hash = person_hash(id_number)
    if id_hash is None:
        return CheckResult(None, None, ["invalid_id"])
    person = person_by_hash(id_hash)
    if person is None:
        return CheckResult(None, None, ["unknown_person", "unregistered"])
    project = device.project
    worker = SiteWorker.objects.filter(project=project, person=person).select_related("employer").first()
    flags: list[str] = []
    participants = set(project.participants.values_list("enterprise_id", flat=True))
    if worker is None:
        flags.append("unregistered")
        if person.employer_id not in participants:
            flags.append("employer_not_participant")
        return CheckResult(person, None, flags)
    if not worker.active:
        flags.append("inactive")
    if worker.employer_id not in participants:
        flags.append("employer_not_participant")
    if person.employer_id and person.employer_id != worker.employer_id:
        flags.append("employer_mismatch")
    if worker.required_operation:
        flags += certificate_flags(person, worker.required_operation, day)
    return CheckResult(person, worker, flags)


def record_entry(device: Device, id_number: str, direction: str, ts: dt.datetime | None = None) -> GateEvent:
    """Checks and records one gate passage; a repeated report of the same passage is returned, not doubled."""
    ts = ts or timezone.now()
    if not EARLIEST <= ts <= timezone.now() + TIME_AHEAD:
        raise ValidationError({"ts": "闸机时间超出范围：须在2000年以后，且不晚于当前时间一天（设备时钟未校准？）"})
    result = check_entry(device, id_number, timezone.localdate(ts))
    # An invalid number read by the gate may be longer than an ID (18): its masked form is cut to the column.
    masked = masking.mask_id_number(id_number.strip().upper())[
        : GateEvent._meta.get_field("id_number_masked").max_length
    ]
    try:
        with transaction.atomic():
            return GateEvent.objects.create(
                project=device.project,
                device=device,
                ts=ts,
                direction=direction,
                person=result.person,
                id_number_masked=masked,
                worker=result.worker,
                flags=result.flags,
                messages=[FLAG_MESSAGES[f] for f in result.flags],
            )
    except IntegrityError:
        return GateEvent.objects.get(device=device, ts=ts, id_number_masked=masked)


def project_summary(project, day: dt.date) -> dict:
    """Attendance per employer and the flags of the day: what a regulator looks at for 挂靠/转包."""
    events = GateEvent.objects.filter(project=project, ts__date=day, direction=GateEvent.Direction.IN)
    flags = Counter(flag for row in events.values_list("flags", flat=True) for flag in row)
    per_employer = (
        events.filter(worker__isnull=False)
        .values("worker__employer__name")
        .annotate(people=Count("person", distinct=True))
        .order_by("-people")
    )
    return {
        "day": day,
        "people_in": events.exclude(person=None).values("person").distinct().count(),
        "flagged_entries": events.exclude(flags=[]).count(),
        "flags": {code: {"count": n, "message": FLAG_MESSAGES[code]} for code, n in flags.items()},
        "subcontracting_signal": sum(n for code, n in flags.items() if code in SUBCONTRACTING_SIGNALS),
        "attendance_by_employer": [
            {"employer": r["worker__employer__name"], "people": r["people"]} for r in per_employer
        ],
    }
