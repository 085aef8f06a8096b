"""The automatic pre-review run on submission: completeness, validity and consistency of a filing.

Each finding is a dict {code, severity: error|warning, message, subject}; errors block the review
unless a regulator overrides them with a reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.utils import timezone

from jianguan.registry.models import Certificate, Enterprise

from . import dangerous_works
from .models import Document, KeyPostRole, ParticipantRole, Project
from .requirements import Requirement, acceptance_requirements, filing_requirements

# City extent (../shared/domain/linyi.md): a point outside is a typing error, not a project.
CITY_LAT = (34.4, 36.2)
CITY_LON = (117.4, 119.2)

REQUIRED_PARTICIPANTS = (
    ParticipantRole.OWNER,
    ParticipantRole.GENERAL_CONTRACTOR,
    ParticipantRole.SUPERVISOR,
    ParticipantRole.DESIGNER,
    ParticipantRole.SURVEYOR,
)
ENTERPRISE_KIND_FOR_ROLE = {
    ParticipantRole.OWNER: Enterprise.Kind.DEVELOPER,
    ParticipantRole.GENERAL_CONTRACTOR: Enterprise.Kind.CONSTRUCTION,
    ParticipantRole.SUBCONTRACTOR: Enterprise.Kind.CONSTRUCTION,
    ParticipantRole.SUPERVISOR: Enterprise.Kind.SUPERVISION,
    ParticipantRole.DESIGNER: Enterprise.Kind.DESIGN,
    ParticipantRole.SURVEYOR: Enterprise.Kind.SURVEY,
}
# Key posts: the certificates each must hold and the participant that must employ the holder.
KEY_POSTS = {
    KeyPostRole.PROJECT_MANAGER: (
        (Certificate.Kind.CONSTRUCTOR, Certificate.Kind.SAFETY_B),
        ParticipantRole.GENERAL_CONTRACTOR,
    ),
    KeyPostRole.CHIEF_SUPERVISOR: ((Certificate.Kind.SUPERVISOR,), ParticipantRole.SUPERVISOR),
    KeyPostRole.SAFETY_OFFICER: ((Certificate.Kind.SAFETY_C,), ParticipantRole.GENERAL_CONTRACTOR),
}


@dataclass
class Finding:
    code: str
    severity: str
    message: str
    subject: str = ""


def _present_documents(project: Project) -> list[Document]:
    """The documents that count: those with a version, not withdrawn (corrections.withdraw_document)."""
    documents = project.documents.filter(withdrawn_at__isnull=True).prefetch_related("versions")
    return [d for d in documents if d.versions.all()]


def missing_documents(project: Project, requirements: list[Requirement]) -> list[Requirement]:
    present = {(d.kind, d.category) for d in _present_documents(project)}
    kinds = {kind for kind, _ in present}
    missing = []
    for req in requirements:
        found = (req.kind, req.category) in present if req.category else req.kind in kinds
        if not found:
            missing.append(req)
    return missing


def check_documents(project: Project, today: dt.date, requirements: list[Requirement]) -> list[Finding]:
    findings = [
        Finding("document_missing", "error", f"缺少{req.label}：{req.reason}", req.kind)
        for req in missing_documents(project, requirements)
    ]
    for doc in _present_documents(project):
        if doc.valid_until and doc.valid_until < today:
            findings.append(Finding("document_expired", "error", f"{doc}已于{doc.valid_until:%Y-%m-%d}过期", doc.kind))
    return findings


def check_participants(project: Project, today: dt.date) -> list[Finding]:
    findings: list[Finding] = []
    participants = list(
        project.participants.select_related("enterprise").prefetch_related("enterprise__qualifications")
    )
    roles_present = {p.role for p in participants}
    for role in REQUIRED_PARTICIPANTS:
        if role not in roles_present:
            findings.append(Finding("participant_missing", "error", f"未登记{ParticipantRole(role).label}", role))
    for p in participants:
        ent = p.enterprise
        expected = ENTERPRISE_KIND_FOR_ROLE[p.role]
        if ent.kind != expected:
            findings.append(
                Finding(
                    "participant_kind",
                    "error",
                    f"{ent.name}为{ent.get_kind_display()}，不能作为{p.get_role_display()}",
                    p.role,
                )
            )
        if p.role == ParticipantRole.OWNER:
            continue  # the owner needs no construction qualification
        quals = [q for q in ent.qualifications.all() if q.kind == expected]
        if not quals:
            findings.append(
                Finding("qualification_missing", "error", f"{ent.name}无{p.get_role_display()}相应资质", p.role)
            )
        elif not any(q.is_valid_on(today) for q in quals):
            latest = max(q.valid_until for q in quals)
            findings.append(
                Finding("qualification_expired", "error", f"{ent.name}的资质已于{latest:%Y-%m-%d}过期", p.role)
            )
    return findings


def check_key_people(project: Project, today: dt.date) -> list[Finding]:
    findings: list[Finding] = []
    employers = {}
    for p in project.participants.all():
        employers.setdefault(p.role, set()).add(p.enterprise_id)
    posts = list(project.key_people.select_related("person").prefetch_related("person__certificates"))
    for role, (cert_kinds, employer_role) in KEY_POSTS.items():
        holders = [k for k in posts if k.role == role]
        label = KeyPostRole(role).label
        if not holders:
            findings.append(Finding("key_person_missing", "error", f"未登记{label}", role))
            continue
        for post in holders:
            person = post.person
            for kind in cert_kinds:
                certs = [c for c in person.certificates.all() if c.kind == kind]
                kind_label = Certificate.Kind(kind).label
                if not certs:
                    findings.append(
                        Finding("certificate_missing", "error", f"{label}{person.name}无{kind_label}", role)
                    )
                elif not any(c.is_valid_on(today) for c in certs):
                    findings.append(
                        Finding("certificate_expired", "error", f"{label}{person.name}的{kind_label}已过期", role)
                    )
            if person.employer_id not in employers.get(employer_role, set()):
                findings.append(
                    Finding(
                        "key_person_employer",
                        "error",
                        f"{label}{person.name}不属于本项目的{ParticipantRole(employer_role).label}",
                        role,
                    )
                )
    return findings


def check_parameters(project: Project) -> list[Finding]:
    findings: list[Finding] = []
    _, errors = dangerous_works.validate_params(project.parameters or {})
    for key, message in errors.items():
        findings.append(Finding("parameter_invalid", "error", message, key))
    if project.planned_start and project.planned_end and project.planned_end < project.planned_start:
        findings.append(Finding("dates_inconsistent", "error", "计划竣工日期早于计划开工日期", "planned_end"))
    if not (CITY_LAT[0] <= project.lat <= CITY_LAT[1] and CITY_LON[0] <= project.lon <= CITY_LON[1]):
        findings.append(Finding("location_outside", "error", "项目坐标不在临沂市范围内，请核对经纬度", "location"))
    if project.height_m and project.floors_above:
        per_floor = project.height_m / project.floors_above
        if not 2.0 <= per_floor <= 8.0:
            findings.append(
                Finding(
                    "height_floors",
                    "warning",
                    f"建筑高度{project.height_m:g} m与地上层数{project.floors_above}不匹配（层高{per_floor:.1f} m）",
                    "height_m",
                )
            )
    depth = (project.parameters or {}).get("excavation_depth_m")
    if project.floors_below and not depth:
        findings.append(
            Finding(
                "excavation_missing",
                "error",
                f"有地下{project.floors_below}层但未填写基坑开挖深度",
                "excavation_depth_m",
            )
        )
    return findings


def run(project: Project, today: dt.date | None = None) -> list[dict]:
    today = today or timezone.localdate()
    requirements = filing_requirements(project.project_type, project.parameters or {})
    findings = (
        check_documents(project, today, requirements)
        + check_participants(project, today)
        + check_key_people(project, today)
        + check_parameters(project)
    )
    return [asdict(f) for f in findings]


def acceptance_findings(project: Project, today: dt.date | None = None) -> list[dict]:
    today = today or timezone.localdate()
    return [asdict(f) for f in check_documents(project, today, acceptance_requirements())]


def is_clean(findings: list[dict]) -> bool:
    return not any(f["severity"] == "error" for f in findings)
