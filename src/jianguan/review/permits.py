"""The permit: issued as the effect of the lifecycle's `approve` step (after 审核 and 审批, signoffs.py), with the
facts its certificate prints kept as they were at issue, a verification code for the certificate's QR code, and a
public evidence-log entry (record type `review.permit`) that the verification page proves.

The permit's entry holds only what is public anyway (the permit decision is published: its number, the project's
key facts, the issuer, the date) and the evidence-log indexes of the two signatures, so its evidence bundle may be
given to anyone; the signatures' own entries (who signed, their opinions) go to the project's readers as usual."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.urls import reverse

from jianguan.core import audit
from jianguan.ledger import services as ledger
from jianguan.ledger.models import LedgerEntry
from jianguan.projects.models import ParticipantRole, Project

from . import notices
from .models import Permit, SignOff
from .services import current_round

RECORD_TYPE = "review.permit"
# 31 characters without look-alikes (no 0/O, 1/I/L): read aloud or typed from a printed certificate.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))


def issuer_for(project: Project, user) -> str:
    department = getattr(user, "department", None)
    if department is not None and department.jurisdiction_id == project.jurisdiction_id:
        return department.name
    return f"{project.jurisdiction.name}住房和城乡建设局"


def facts_for(project: Project) -> dict[str, Any]:
    """What the certificate prints (the national form's fields that the platform holds)."""
    participants = {p.role: p.enterprise.name for p in project.participants.select_related("enterprise")}
    people = {k.role: k.person.name for k in project.key_people.select_related("person")}
    return {
        "project_name": project.name,
        "project_code": project.code,
        "project_type": project.get_project_type_display(),
        "address": project.address,
        "jurisdiction": project.jurisdiction.name,
        "owner": participants.get(ParticipantRole.OWNER, project.applicant.name),
        "contractor": participants.get(ParticipantRole.GENERAL_CONTRACTOR, ""),
        "supervisor": participants.get(ParticipantRole.SUPERVISOR, ""),
        "designer": participants.get(ParticipantRole.DESIGNER, ""),
        "surveyor": participants.get(ParticipantRole.SURVEYOR, ""),
        "project_manager": people.get("project_manager", ""),
        "chief_supervisor": people.get("chief_supervisor", ""),
        "floor_area_m2": project.floor_area_m2,
        "investment_wan": project.investment_wan,
        "planned_start": project.planned_start.isoformat() if project.planned_start else "",
        "planned_end": project.planned_end.isoformat() if project.planned_end else "",
    }


def public_content(permit: Permit) -> dict[str, Any]:
    """The evidence-log content of a permit: public facts only."""
    f = permit.facts
    return {
        "permit": permit.number,
        "verification": permit.verification_code,
        "issued_at": permit.issued_at.isoformat(),
        "issuer": permit.issuer,
        "project": f["project_code"],
        "project_name": f["project_name"],
        "address": f["address"],
        "owner": f["owner"],
        "contractor": f["contractor"],
        "supervisor": f["supervisor"],
        "signoffs": [s.ledger_index for s in (permit.review_signoff, permit.approve_signoff) if s is not None],
    }


def issue(project: Project, user, step) -> Permit:
    """The `approve` step's effect (inside its transaction): the permit, its evidence-log entry, the notices."""
    signoffs = {s.stage: s for s in project.signoffs.filter(round=current_round(project))}
    permit = Permit.objects.create(
        project=project,
        number=project.permit_number,
        issued_at=project.permitted_at,
        issuer=issuer_for(project, user),
        facts=facts_for(project),
        verification_code=new_code(),
        review_signoff=signoffs.get(SignOff.Stage.REVIEW),
        approve_signoff=signoffs.get(SignOff.Stage.APPROVE),
    )
    entry = ledger.append(RECORD_TYPE, RECORD_TYPE, permit.pk, public_content(permit), scope=f"project:{project.pk}")
    permit.ledger_index = entry.index
    permit.save(update_fields=["ledger_index"])
    audit.record(
        user,
        "create",
        permit,
        project=project,
        label=f"核发施工许可证 {permit.number}",
        changes={"number": permit.number, "issuer": permit.issuer, "ledger": entry.index},
    )
    notices.permit_issued(permit)
    return permit


def get_by_code(code: str) -> Permit:
    """The permit a certificate's QR code names (Permit.DoesNotExist otherwise: 404). Public."""
    code = (code or "").strip().upper()
    if not code or len(code) > 32 or any(c not in CODE_ALPHABET for c in code):
        raise Permit.DoesNotExist
    return Permit.objects.select_related("project").get(verification_code=code)


def verification_path(permit: Permit) -> str:
    return reverse("permits:verify", args=[permit.verification_code])


def verification_url(permit: Permit, request=None) -> str:
    """The absolute address the certificate's QR code carries: SITE_URL when configured, else the request's."""
    path = verification_path(permit)
    if settings.SITE_URL:
        return settings.SITE_URL + path
    if request is not None:
        return request.build_absolute_uri(path)
    return path


def ledger_entry(permit: Permit) -> LedgerEntry | None:
    if permit.ledger_index is None:
        return None
    return LedgerEntry.objects.filter(index=permit.ledger_index, record_type=RECORD_TYPE).first()


def evidence_bundle(permit: Permit) -> dict[str, Any] | None:
    """The permit entry's evidence bundle (entry, inclusion proof, signed checkpoint): public, as its content is."""
    entry = ledger_entry(permit)
    return ledger.evidence_bundle(entry) if entry is not None else None
