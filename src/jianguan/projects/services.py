"""Project services: the rules the pages and the API share. Views stay thin and call these."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Prefetch, QuerySet
from django.utils import timezone

from jianguan.accounts.models import DataSharingRule, User
from jianguan.core import audit
from jianguan.core.models import AuditEvent, Jurisdiction
from jianguan.ledger import services as ledger
from jianguan.registry.models import Enterprise, Person

from . import dangerous_works, permissions
from .documents import inspect_upload
from .models import (
    Document,
    DocumentKind,
    DocumentVersion,
    KeyPerson,
    Participant,
    ProgressReport,
    Project,
    State,
)

EDITABLE_FIELDS = (
    "name",
    "project_type",
    "jurisdiction_id",
    "address",
    "lat",
    "lon",
    "floor_area_m2",
    "investment_wan",
    "floors_above",
    "floors_below",
    "height_m",
    "parameters",
    "planned_start",
    "planned_end",
)


def _snapshot(project: Project) -> dict[str, Any]:
    return {f: getattr(project, f) for f in EDITABLE_FIELDS}


def _clean_parameters(data: dict[str, Any]) -> None:
    if "parameters" in data:
        clean, errors = dangerous_works.validate_params(data["parameters"] or {})
        if errors:
            raise ValidationError({f"parameters.{k}": v for k, v in errors.items()})
        data["parameters"] = clean


def next_project_code(jurisdiction: Jurisdiction) -> str:
    year = timezone.localdate().year
    prefix = f"{jurisdiction.code}-{year}-"
    last = Project.objects.filter(code__startswith=prefix).order_by("-code").values_list("code", flat=True).first()
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


@transaction.atomic
def create_project(user: User, data: dict[str, Any]) -> Project:
    if not permissions.can_create_project(user):
        raise PermissionDenied("只有企业用户可以申报项目")
    data = dict(data)
    _clean_parameters(data)
    jurisdiction = Jurisdiction.objects.get(pk=data.pop("jurisdiction_id"))
    project = Project(applicant_id=user.enterprise_id, jurisdiction=jurisdiction, code=next_project_code(jurisdiction))
    for key, value in data.items():
        if key in EDITABLE_FIELDS:
            setattr(project, key, value)
    project.full_clean(exclude=["parameters"])
    project.save()
    # The applicant is the owner (建设单位) when it is a developer; otherwise it adds the owner later.
    if user.enterprise.kind == Enterprise.Kind.DEVELOPER:
        Participant.objects.create(project=project, enterprise=user.enterprise, role="owner")
    audit.record(user, "create", project, project=project, changes=_snapshot(project))
    return project


@transaction.atomic
def update_project(user: User, project: Project, data: dict[str, Any]) -> Project:
    if not permissions.can_edit(user, project):
        raise PermissionDenied("当前状态下您不能修改该项目")
    data = dict(data)
    _clean_parameters(data)
    before = _snapshot(project)
    for key, value in data.items():
        if key in EDITABLE_FIELDS:
            setattr(project, key, value)
    project.full_clean(exclude=["parameters"])
    project.save()
    changes = audit.diff(before, _snapshot(project))
    if changes:
        audit.record(user, "update", project, project=project, changes=changes)
    return project


@transaction.atomic
def add_participant(user: User, project: Project, enterprise: Enterprise, role: str) -> Participant:
    if not permissions.can_edit(user, project):
        raise PermissionDenied("当前状态下您不能修改参建单位")
    participant, created = Participant.objects.get_or_create(project=project, enterprise=enterprise, role=role)
    if created:
        audit.record(
            user,
            "create",
            participant,
            project=project,
            changes={"role": role, "enterprise": enterprise.name},
        )
    return participant


@transaction.atomic
def remove_participant(user: User, participant: Participant) -> None:
    project = participant.project
    if not permissions.can_edit(user, project):
        raise PermissionDenied("当前状态下您不能修改参建单位")
    audit.record(user, "update", participant, project=project, changes={"removed": str(participant)})
    participant.delete()


@transaction.atomic
def add_key_person(user: User, project: Project, person: Person, role: str) -> KeyPerson:
    if not permissions.can_edit(user, project):
        raise PermissionDenied("当前状态下您不能修改关键岗位人员")
    post, created = KeyPerson.objects.get_or_create(project=project, person=person, role=role)
    if created:
        audit.record(user, "create", post, project=project, changes={"role": role, "person": person.name})
    return post


@transaction.atomic
def upload_document(
    user: User,
    project: Project,
    *,
    kind: str,
    file_name: str,
    content: bytes,
    title: str = "",
    category: str = "",
    valid_until: dt.date | None = None,
    document: Document | None = None,
    note: str = "",
) -> DocumentVersion:
    """Adds a document, or a new version of `document`. Old versions stay as they were."""
    if not permissions.can_upload(user, project, kind):
        raise PermissionDenied("当前状态下您不能为该项目上传文件")
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": f"未知文件类型：{kind}"})
    sniffed = inspect_upload(file_name, content, photos_only=kind == DocumentKind.PROGRESS_PHOTO)
    if document is None:
        document = Document.objects.create(
            project=project,
            kind=kind,
            category=category,
            title=title or sniffed.name,
            valid_until=valid_until,
            created_by=user,
        )
    else:
        if document.project_id != project.pk:
            raise PermissionDenied("文件不属于该项目")
        if valid_until:
            document.valid_until = valid_until
            document.save(update_fields=["valid_until", "updated_at"])
    number = (document.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = DocumentVersion(
        document=document,
        number=number,
        original_name=sniffed.name,
        extension=sniffed.extension,
        content_type=sniffed.content_type,
        size=sniffed.size,
        sha256=sniffed.sha256,
        uploaded_by=user,
        note=note,
    )
    version.file.save(sniffed.name, ContentFile(sniffed.content), save=False)
    version.save()
    ledger.append(
        "document_version",
        "projects.documentversion",
        version.pk,
        {
            "project": project.code,
            "document": document.pk,
            "kind": kind,
            "category": document.category,
            "version": number,
            "name": sniffed.name,
            "size": sniffed.size,
            "sha256": sniffed.sha256,
        },
        actor=user,
        scope=f"project:{project.pk}",
    )
    audit.record(
        user,
        "upload",
        version,
        project=project,
        label=f"{document} v{number}",
        changes={
            "kind": kind,
            "category": category,
            "sha256": sniffed.sha256,
            "size": sniffed.size,
            "version": number,
        },
    )
    return version


def open_version_for_download(user: User, version: DocumentVersion):
    project = version.document.project
    if not permissions.can_download(user, project):
        raise PermissionDenied("您无权下载该文件")
    audit.record(user, "download", version, project=project, label=f"{version.document} v{version.number}")
    return version.file.open("rb")


@transaction.atomic
def add_progress_report(
    user: User,
    project: Project,
    *,
    report_date: dt.date,
    percent_complete: int,
    summary: str,
    photos: list[tuple[str, bytes]],
) -> ProgressReport:
    if project.state not in permissions.WORKS_STATES or not permissions.can_upload(user, project):
        raise PermissionDenied("当前状态下您不能提交进度报告")
    if not 0 <= percent_complete <= 100:
        raise ValidationError({"percent_complete": "形象进度须在0到100之间"})
    report = ProgressReport.objects.create(
        project=project,
        author=user,
        enterprise=user.enterprise,
        report_date=report_date,
        percent_complete=percent_complete,
        summary=summary,
    )
    for name, content in photos:
        version = upload_document(
            user,
            project,
            kind=DocumentKind.PROGRESS_PHOTO,
            file_name=name,
            content=content,
            title=f"{report_date} 进度照片",
        )
        report.photos.add(version.document)
    audit.record(
        user,
        "create",
        report,
        project=project,
        label=f"进度报告 {report_date}",
        changes={"percent": percent_complete},
    )
    return report


def note_read(user, project: Project) -> None:
    """Every read by another department is logged (joint-enforcement rule)."""
    if getattr(user, "role", None) == User.Role.DEPT_OFFICER:
        audit.record(
            user,
            "read",
            project,
            project=project,
            changes={"department": str(user.department), "rule": DataSharingRule.Resource.PROJECT_BASIC},
        )


def get_project_for(user, pk: int) -> Project:
    """The project if this user may read it; otherwise Project.DoesNotExist (no existence leak)."""
    project = permissions.visible_projects(user).select_related("jurisdiction", "applicant").get(pk=pk)
    note_read(user, project)
    return project


def search_projects(
    user, *, q: str = "", jurisdiction: str = "", project_type: str = "", state: str = ""
) -> QuerySet[Project]:
    qs = permissions.visible_projects(user).select_related("jurisdiction", "applicant")
    if q:
        from django.db.models import Q

        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(address__icontains=q))
    if jurisdiction:
        qs = qs.filter(jurisdiction__code=jurisdiction)
    if project_type:
        qs = qs.filter(project_type=project_type)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-updated_at", "-id")


def search_public_projects(**filters: str) -> QuerySet[Project]:
    """What the public portal lists (published projects only), each with its participants and their enterprises
    fetched in one more query for the whole page."""
    participants = Participant.objects.select_related("enterprise")
    return search_projects(None, **filters).prefetch_related(Prefetch("participants", queryset=participants))


def timeline(project: Project) -> QuerySet[AuditEvent]:
    return project.audit_events.select_related("actor").order_by("-at", "-id")


def published_states() -> set[str]:
    return set(permissions.PUBLISHED_STATES)


__all__ = [
    "State",
    "add_key_person",
    "add_participant",
    "add_progress_report",
    "create_project",
    "get_project_for",
    "open_version_for_download",
    "search_projects",
    "timeline",
    "update_project",
    "upload_document",
]
