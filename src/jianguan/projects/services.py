"""Project services: the rules the pages and the API share. Views stay thin and call these."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Max, Prefetch, QuerySet
from django.utils import timezone

from jianguan.accounts import sharing
from jianguan.accounts.models import User
from jianguan.core import audit
from jianguan.core.models import AuditEvent, Jurisdiction
from jianguan.ledger import services as ledger
from jianguan.registry.models import Enterprise, Person

from . import corrections, dangerous_works, permissions
from .documents import inspect_upload
from .models import (
    Document,
    DocumentKind,
    DocumentVersion,
    KeyPerson,
    KeyPostRole,
    Participant,
    ParticipantRole,
    ProgressReport,
    Project,
    State,
)
from .permissions import Part
from .prereview import KEY_POSTS, REQUIRED_PARTICIPANTS, missing_documents
from .requirements import filing_requirements

# The filing's editable fields (Project.FILING_FIELDS) as the model's attribute names.
EDITABLE_FIELDS = tuple("jurisdiction_id" if f == "jurisdiction" else f for f in Project.FILING_FIELDS)


def _snapshot(project: Project) -> dict[str, Any]:
    return {f: getattr(project, f) for f in EDITABLE_FIELDS}


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
    jurisdiction = Jurisdiction.objects.filter(pk=data.pop("jurisdiction_id", None)).first()
    if jurisdiction is None:
        raise ValidationError({"jurisdiction": "请选择项目所在区县"})
    project = Project(applicant_id=user.enterprise_id, jurisdiction=jurisdiction, code=next_project_code(jurisdiction))
    for key, value in data.items():
        if key in EDITABLE_FIELDS:
            setattr(project, key, value)
    project.full_clean()
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
    before = _snapshot(project)
    for key, value in data.items():
        if key in EDITABLE_FIELDS:
            setattr(project, key, value)
    project.full_clean()
    project.save()
    changes = audit.diff(before, _snapshot(project))
    if changes:
        audit.record(user, "update", project, project=project, changes=changes)
    return project


@transaction.atomic
def add_participant(user: User, project: Project, enterprise: Enterprise, role: str) -> Participant:
    """Registers a participant: an enterprise of the role's kind holding a valid qualification for it (the
    pickers' rule, pickers.participant_problems); any other is refused with the reason."""
    if not permissions.can_edit(user, project):
        raise PermissionDenied("当前状态下您不能修改参建单位")
    if role not in ParticipantRole.values:
        raise ValidationError({"role": f"未知参建角色：{role}"})
    existing = Participant.objects.filter(project=project, enterprise=enterprise, role=role).first()
    if existing is not None:
        return existing
    enterprise = corrections.newcomer_enterprise(project, role, enterprise)
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


def remove_participant(user: User, participant: Participant, reason: str = "") -> None:
    """Removes a participant: a correction (corrections.py), with a reason after submission."""
    corrections.remove_participant(user, participant, reason)


@transaction.atomic
def add_key_person(user: User, project: Project, person: Person | int, role: str) -> KeyPerson:
    """Registers a key post. `person` (or its id) must be an employee of the participant answering for the post
    (KeyPerson.clean; any other id, existing or not, gets the same refusal) holding the certificates the post
    needs, valid today (pickers.key_person_problems)."""
    if not permissions.can_edit(user, project):
        raise PermissionDenied("当前状态下您不能修改关键岗位人员")
    if role not in KeyPostRole.values:
        raise ValidationError({"role": f"未知岗位：{role}"})
    person_id = person.pk if isinstance(person, Person) else person
    post = KeyPerson.objects.filter(project=project, person_id=person_id, role=role).select_related("person").first()
    if post is None:
        # An employee of the right participant holding the post's certificates (pickers.key_person_problems).
        found = corrections.newcomer_person(project, role, person_id)
        post = KeyPerson(project=project, person=found, role=role)
        post.full_clean()
        post.save()
        audit.record(user, "create", post, project=project, changes={"role": role, "person": found.name})
    return post


@transaction.atomic
def upload_document(
    user: User,
    project: Project,
    *,
    kind: str,
    file_name: str,
    content: bytes | File,
    title: str = "",
    category: str = "",
    valid_until: dt.date | None = None,
    document: Document | None = None,
    note: str = "",
) -> DocumentVersion:
    """Adds a document, or a new version of `document` (with `note`: why it replaces the current one). Old
    versions stay as they were; who may add which kind follows permissions.KIND_KEEPERS. `content` is the
    uploaded file as the upload handler left it on disk (or bytes): it is never read into memory whole."""
    if document is not None:
        kind = document.kind
        if not permissions.can_add_version(user, document):
            raise PermissionDenied(
                f"您无权替换“{document.get_kind_display()}”：该类文件由{_keepers(project, kind)}上传"
            )
        if not note.strip():
            raise ValidationError({"note": "替换文件须说明原因（如：原文件有误、补充签章页）"})
    elif not permissions.can_upload(user, project, kind):
        raise PermissionDenied("当前状态下您不能为该项目上传此类文件")
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": f"未知文件类型：{kind}"})
    if document is None:
        category = clean_category(project, kind, category)
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
    version.file.save(sniffed.name, sniffed.file, save=False)
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
    if number > 1:
        corrections.note_version(user, version, note)
    # Warnings for the uploader: the same file already filed as another kind of document.
    version.duplicates = [group for group in duplicate_files(project) if document.pk in group.document_ids]
    return version


# The documents that cover a 危大工程 category: it is chosen from the categories identified for the project.
CATEGORY_KINDS = {DocumentKind.SPECIAL_PLAN: dangerous_works.MAJOR, DocumentKind.EXPERT_REVIEW: dangerous_works.SUPER}


def category_choices(project: Project, kind: str) -> list[str]:
    """The 危大工程 categories a document of `kind` may cover in this project: for a special plan every category
    identified from its scale parameters, for an expert review those of the larger scale (超过一定规模); none
    for the other kinds."""
    level = CATEGORY_KINDS.get(kind)
    if level is None:
        return []
    matches = dangerous_works.match(project.parameters or {})
    return list(dict.fromkeys(m.category for m in matches if level == dangerous_works.MAJOR or m.level == level))


def clean_category(project: Project, kind: str, category: str) -> str:
    """The category as filed: one of category_choices (refused otherwise, with the choices named); blank for
    documents that cover no category."""
    category = (category or "").strip()
    choices = category_choices(project, kind)
    if kind not in CATEGORY_KINDS:
        return ""
    label = DocumentKind(kind).label
    if not choices:
        need = "超过一定规模的危大工程" if kind == DocumentKind.EXPERT_REVIEW else "危大工程"
        message = f"按本项目的规模参数未识别出{need}，无须上传{label}；如参数有误，请先修改项目信息"
        raise ValidationError({"category": message})
    if category not in choices:
        raise ValidationError({"category": f"请从本项目识别出的危大工程类别中选择：{'、'.join(choices)}"})
    return category


@dataclass(frozen=True)
class Duplicate:
    """One file (by SHA-256) filed as more than one kind of document: likely a mistake (the contract uploaded
    again as the planning permit)."""

    sha256: str
    documents: tuple[Document, ...]

    @property
    def document_ids(self) -> set[int]:
        return {d.pk for d in self.documents}

    @property
    def message(self) -> str:
        kinds = "”“".join(dict.fromkeys(d.get_kind_display() for d in self.documents))
        return f"同一文件（SHA-256 {self.sha256[:12]}…）同时作为“{kinds}”上传，请核对是否传错"


def duplicate_files(project: Project) -> list[Duplicate]:
    """The files the project holds as different kinds of document: the current version of each document not
    withdrawn, grouped by content hash (one query). For the uploader at upload and for the reviewer's pages."""
    latest: dict[int, DocumentVersion] = {}
    versions = DocumentVersion.objects.filter(document__project=project, document__withdrawn_at__isnull=True)
    for version in versions.select_related("document").order_by("document_id", "number"):
        latest[version.document_id] = version
    by_hash: dict[str, list[Document]] = {}
    for version in latest.values():
        by_hash.setdefault(version.sha256, []).append(version.document)
    return [
        Duplicate(sha, tuple(sorted(docs, key=lambda d: d.pk)))
        for sha, docs in sorted(by_hash.items())
        if len({d.kind for d in docs}) > 1
    ]


@dataclass(frozen=True)
class Gaps:
    """What a filing still lacks before it is submitted: the checklist's items, the participants and key posts
    the pre-review requires (prereview.py's lists)."""

    documents: tuple[str, ...]
    participants: tuple[str, ...]
    key_posts: tuple[str, ...]

    @property
    def total(self) -> int:
        return len(self.documents) + len(self.participants) + len(self.key_posts)

    @property
    def text(self) -> str:
        parts = [
            f"{what} {len(items)} {unit}"
            for what, items, unit in (
                ("申报材料", self.documents, "项"),
                ("参建单位", self.participants, "家"),
                ("关键岗位", self.key_posts, "个"),
            )
            if items
        ]
        return "、".join(parts)

    @property
    def question(self) -> str:
        return f"还缺少 {self.total} 项（{self.text}），提交后自动预审将要求补正。仍要提交吗？"


def submission_gaps(project: Project) -> Gaps:
    requirements = filing_requirements(project.project_type, project.parameters or {})
    roles = set(project.participants.values_list("role", flat=True))
    posts = set(project.key_people.values_list("role", flat=True))
    return Gaps(
        tuple(r.label for r in missing_documents(project, requirements)),
        tuple(ParticipantRole(r).label for r in REQUIRED_PARTICIPANTS if r not in roles),
        tuple(KeyPostRole(r).label for r in KEY_POSTS if r not in posts),
    )


def _keepers(project: Project, kind: str) -> str:
    labels = {"applicant": "建设单位（申报单位）", **dict(ParticipantRole.choices)}
    return "、".join(labels[r] for r in sorted(permissions.upload_roles(project, kind))) or "——"


def get_document_for(user, pk: int) -> Document:
    """The document if the user may read its project's documents, else Document.DoesNotExist (404)."""
    return permissions.visible_documents(user).select_related("project").get(pk=pk)


def get_version_for(user, document_id: int, number: int) -> DocumentVersion:
    """A document's version if the user may read the project's documents, else DocumentVersion.DoesNotExist
    (404: a department without the documents part learns nothing of them). A department's read is logged."""
    version = DocumentVersion.objects.select_related("document__project").get(
        document__in=permissions.visible_documents(user), document_id=document_id, number=number
    )
    sharing.note_read(user, Part.PROJECT_DOCUMENTS, what="文件下载", obj=version, project=version.document.project)
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
    photos: list[tuple[str, bytes | File]],
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


PART_REFUSED = "本部门的数据共享规则未授权查看该项目的“{label}”"


def get_project_for(user, pk: int, part: str = Part.PROJECT_BASIC, *, what: str = "项目详情") -> Project:
    """The project if this user may read it, else Project.DoesNotExist (404, no existence leak); and when `part`
    is not the basic one, the part too, else PermissionDenied (403). A department officer's read is logged
    with the rule that allowed it."""
    project = permissions.visible_projects(user).select_related("jurisdiction", "applicant").get(pk=pk)
    permissions.remember_readable(user, project)
    if not permissions.may_read_part(user, project, part):
        raise PermissionDenied(PART_REFUSED.format(label=Part(part).label))
    sharing.note_read(user, part, what=what, project=project)
    return project


def page_parts(user, project: Project) -> dict[str, bool]:
    """Which parts of the project page this user is shown ({part: True}); a department officer's read of each
    part shown is logged with its rule. The page leaves the other sections out and says why."""
    parts = {part: permissions.may_read_part(user, project, part) for part in Part.values}
    for part, shown in parts.items():
        if shown and part != Part.PROJECT_BASIC:  # the basic part was logged when the project was fetched
            sharing.note_read(user, part, what="项目详情页", project=project)
    return parts


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
    sharing.note_read(
        user,
        Part.PROJECT_BASIC,
        what="项目列表与搜索",
        query={"q": q, "jurisdiction": jurisdiction, "project_type": project_type, "state": state},
    )
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
