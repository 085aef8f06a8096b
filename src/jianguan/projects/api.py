"""Projects API: thin handlers over jianguan.projects.services / lifecycle / permissions."""

import datetime as dt
from typing import Any, Literal

from django.http import FileResponse
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import Field, field_validator

from jianguan.core import geo
from jianguan.core.modelschema import input_schema
from jianguan.core.pagination import BoundedPageNumberPagination
from jianguan.core.schemas import ApiError as ErrorOut
from jianguan.core.schemas import Id, IsoDate, integer
from jianguan.registry.models import Enterprise

from . import changes, corrections, dangerous_works, lifecycle, services
from .models import Correction, DocumentKind, KeyPostRole, ParticipantRole, Project, ProjectChangeRequest, State
from .permissions import Part
from .prereview import missing_documents
from .requirements import filing_requirements

router = Router(tags=["工程项目"])
public_router = Router(tags=["信息公开"])


class ProjectOut(Schema):
    id: int
    name: str
    code: str
    project_type: str
    project_type_label: str
    jurisdiction_code: str
    jurisdiction_name: str
    address: str
    lat: float
    lon: float
    floor_area_m2: float | None
    investment_wan: float | None
    floors_above: int | None
    floors_below: int | None
    height_m: float | None
    parameters: dict[str, Any]
    planned_start: dt.date | None
    planned_end: dt.date | None
    state: str
    state_label: str
    applicant_id: int
    applicant_name: str
    permit_number: str
    updated_at: dt.datetime

    @staticmethod
    def resolve_project_type_label(obj):
        return obj.get_project_type_display()

    @staticmethod
    def resolve_jurisdiction_code(obj):
        return obj.jurisdiction.code

    @staticmethod
    def resolve_jurisdiction_name(obj):
        return obj.jurisdiction.name

    @staticmethod
    def resolve_state_label(obj):
        return obj.get_state_display()

    @staticmethod
    def resolve_applicant_name(obj):
        return obj.applicant.name


_JURISDICTION_CODE = Field(description="所属区县的行政区划代码（GB/T 2260），如 371302", max_length=12)
_SCHEMA_FIELDS = tuple(f for f in Project.FILING_FIELDS if f != "jurisdiction")
# The filing's input: built from the model's declaration (core.modelschema), the same limits as the page's form.
ProjectIn = input_schema(
    Project, _SCHEMA_FIELDS, name="ProjectIn", extra={"jurisdiction_code": (str, _JURISDICTION_CODE)}
)
ProjectPatch = input_schema(
    Project, _SCHEMA_FIELDS, name="ProjectPatch", partial=True,
    extra={"jurisdiction_code": (str | None, Field(None, description=_JURISDICTION_CODE.description, max_length=12))},
)  # fmt: skip


class ProjectFilter(Schema):
    q: str = Field("", max_length=100)
    jurisdiction: str = Field("", max_length=12)
    project_type: str = Field("", max_length=30)
    state: str = Field("", max_length=30)


def _to_model_data(payload: dict[str, Any]) -> dict[str, Any]:
    from jianguan.core.models import Jurisdiction

    data = dict(payload)
    code = data.pop("jurisdiction_code", None)
    if code is not None:
        jur = Jurisdiction.objects.filter(code=code).first()
        if jur is None:
            from django.core.exceptions import ValidationError

            raise ValidationError({"jurisdiction_code": f"未知区划代码：{code}"})
        data["jurisdiction_id"] = jur.pk
    if "project_type" in data and data["project_type"] is not None:
        data["project_type"] = str(getattr(data["project_type"], "value", data["project_type"]))
    return data


@router.get("/projects", response=list[ProjectOut])
@paginate(BoundedPageNumberPagination, page_size=20)
def list_projects(request, filters: Query[ProjectFilter]):
    """Projects this user may see, newest activity first. Filters: q (name/code/address), jurisdiction (code),
    project_type, state."""
    return services.search_projects(request.user, **filters.dict())


@router.post("/projects", response={201: ProjectOut, 403: ErrorOut, 422: ErrorOut})
def create_project(request, payload: ProjectIn):
    """An enterprise user files a new project (state: draft)."""
    project = services.create_project(request.user, _to_model_data(payload.dict()))
    return 201, project


@router.get("/projects/{project_id}", response={200: ProjectOut, 404: ErrorOut})
def get_project(request, project_id: Id):
    return services.get_project_for(request.user, project_id)


@router.patch("/projects/{project_id}", response={200: ProjectOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def patch_project(request, project_id: Id, payload: ProjectPatch):
    project = services.get_project_for(request.user, project_id)
    data = _to_model_data(payload.dict(exclude_unset=True))
    return services.update_project(request.user, project, data)


# --- participants and key people -------------------------------------------------------------------


class ParticipantOut(Schema):
    id: int
    role: str
    role_label: str
    enterprise_id: int
    enterprise_name: str
    enterprise_uscc: str

    @staticmethod
    def resolve_role_label(obj):
        return obj.get_role_display()

    @staticmethod
    def resolve_enterprise_name(obj):
        return obj.enterprise.name

    @staticmethod
    def resolve_enterprise_uscc(obj):
        return obj.enterprise.uscc


class ParticipantIn(Schema):
    enterprise_id: Id
    role: ParticipantRole


@router.get("/projects/{project_id}/participants", response={200: list[ParticipantOut], 403: ErrorOut, 404: ErrorOut})
def list_participants(request, project_id: Id):
    project = services.get_project_for(request.user, project_id, Part.PROJECT_PARTICIPANTS, what="参建单位")
    return project.participants.select_related("enterprise")


@router.post("/projects/{project_id}/participants", response={201: ParticipantOut, 403: ErrorOut, 404: ErrorOut})
def add_participant(request, project_id: Id, payload: ParticipantIn):
    project = services.get_project_for(request.user, project_id)
    enterprise = Enterprise.objects.get(pk=payload.enterprise_id)
    return 201, services.add_participant(request.user, project, enterprise, payload.role.value)


# Corrections (projects/corrections.py): before submission free, after it with a reason kept in the record
# (422 without one), after the permit through a 变更 request (409 here: use POST /api/projects/{id}/changes).
CORRECTION_ANSWERS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
ReasonIn = input_schema(Correction, ("reason",), name="CorrectionReasonIn")


class ReplaceParticipantIn(ReasonIn):
    enterprise_id: Id = Field(description="接替企业的 id（主体库），须为该角色对应类型并持有有效资质")


class ReplaceKeyPersonIn(ReasonIn):
    person_id: Id = Field(description="接任人员的 id：须为对应参建单位的在册人员，持有岗位所需的有效证书")


@router.delete("/projects/{project_id}/participants/{participant_id}", response={204: None, **CORRECTION_ANSWERS})
def remove_participant(request, project_id: Id, participant_id: Id, payload: ReasonIn = None):
    """Removes a participant (a correction). Body `{"reason": …}`: required after submission (422 without),
    kept in the correction record; 409 after the permit (ask for a 变更 instead); 403 for anyone but the
    applicant."""
    project = services.get_project_for(request.user, project_id)
    reason = payload.reason if payload else ""
    services.remove_participant(request.user, project.participants.get(pk=participant_id), reason)
    return 204, None


@router.post(
    "/projects/{project_id}/participants/{participant_id}/replace",
    response={200: ParticipantOut, **CORRECTION_ANSWERS},
)
def replace_participant(request, project_id: Id, participant_id: Id, payload: ReplaceParticipantIn):
    """Replaces a participant by another enterprise in the same role; the old one stays in the correction
    record. 422 when the newcomer may not take the role (wrong kind, no valid qualification) or the reason is
    missing after submission; 409 after the permit."""
    project = services.get_project_for(request.user, project_id)
    participant = project.participants.get(pk=participant_id)
    correction = corrections.replace_participant(request.user, participant, payload.enterprise_id, payload.reason)
    return project.participants.select_related("enterprise").get(pk=correction.refs["new_participant"])


class KeyPersonOut(Schema):
    id: int
    role: str
    role_label: str
    person_id: int
    name: str
    id_number_masked: str
    employer: str | None
    certificates: list[str]

    @staticmethod
    def resolve_role_label(obj):
        return obj.get_role_display()

    @staticmethod
    def resolve_name(obj):
        return obj.person.name

    @staticmethod
    def resolve_id_number_masked(obj):
        return obj.person.id_number_masked

    @staticmethod
    def resolve_employer(obj):
        return obj.person.employer.name if obj.person.employer_id else None

    @staticmethod
    def resolve_certificates(obj):
        return [f"{c}（至{c.valid_until:%Y-%m-%d}）" for c in obj.person.certificates.all()]


class KeyPersonIn(Schema):
    person_id: Id
    role: KeyPostRole


@router.get("/projects/{project_id}/key-people", response={200: list[KeyPersonOut], 403: ErrorOut, 404: ErrorOut})
def list_key_people(request, project_id: Id):
    project = services.get_project_for(request.user, project_id, Part.PROJECT_PARTICIPANTS, what="关键岗位人员")
    return project.key_people.select_related("person__employer").prefetch_related("person__certificates")


@router.post(
    "/projects/{project_id}/key-people", response={201: KeyPersonOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
)
def add_key_person(request, project_id: Id, payload: KeyPersonIn):
    """Registers a key post: `person_id` must be an employee of the participant that answers for the post
    (项目经理 and 专职安全员: the general contractor; 总监理工程师: the supervisor). Any other id, existing or not,
    is refused with the same 422."""
    project = services.get_project_for(request.user, project_id)
    return 201, services.add_key_person(request.user, project, payload.person_id, payload.role.value)


def _key_people(project):
    return project.key_people.select_related("person__employer").prefetch_related("person__certificates")


@router.delete("/projects/{project_id}/key-people/{post_id}", response={204: None, **CORRECTION_ANSWERS})
def remove_key_person(request, project_id: Id, post_id: Id, payload: ReasonIn = None):
    """Removes a key person from the post (a correction); as for participants: a reason after submission,
    409 after the permit."""
    project = services.get_project_for(request.user, project_id)
    corrections.remove_key_person(request.user, project.key_people.get(pk=post_id), payload.reason if payload else "")
    return 204, None


@router.post("/projects/{project_id}/key-people/{post_id}/replace", response={200: KeyPersonOut, **CORRECTION_ANSWERS})
def replace_key_person(request, project_id: Id, post_id: Id, payload: ReplaceKeyPersonIn):
    """Replaces the holder of a key post; the old one stays in the correction record. 422 when the newcomer is
    not an employee of the participant answering for the post (the same answer for any other id, existing or
    not) or lacks a valid certificate the post requires."""
    project = services.get_project_for(request.user, project_id)
    post = project.key_people.get(pk=post_id)
    correction = corrections.replace_key_person(request.user, post, payload.person_id, payload.reason)
    return _key_people(project).get(pk=correction.refs["new_key_person"])


class CorrectionOut(Schema):
    id: int
    stage: str
    stage_label: str
    subject: str
    subject_label: str
    action: str
    action_label: str
    old: str
    new: str
    reason: str
    actor: str | None
    at: dt.datetime
    change_request_id: int | None

    @staticmethod
    def resolve_stage_label(obj):
        return obj.get_stage_display()

    @staticmethod
    def resolve_subject_label(obj):
        return obj.get_subject_display()

    @staticmethod
    def resolve_action_label(obj):
        return obj.get_action_display()

    @staticmethod
    def resolve_actor(obj):
        return obj.actor.get_full_name() if obj.actor_id else None


@router.get("/projects/{project_id}/corrections", response={200: list[CorrectionOut], 403: ErrorOut, 404: ErrorOut})
@paginate(BoundedPageNumberPagination, page_size=50)
def list_corrections(request, project_id: Id):
    """The correction record: what was removed, replaced or withdrawn, at which stage, why, by whom."""
    project = services.get_project_for(request.user, project_id, Part.PROJECT_RECORDS, what="更正记录")
    return corrections.history(project)


# --- requirements, pre-review, lifecycle ------------------------------------------------------------


class MatchOut(Schema):
    rule_id: str
    category: str
    level: str
    description: str
    source: str
    triggered_by: list[str]


class RequirementOut(Schema):
    kind: str
    label: str
    category: str
    reason: str
    satisfied: bool


class RequirementsOut(Schema):
    dangerous_works: list[MatchOut]
    documents: list[RequirementOut]


class ParametersIn(Schema):
    parameters: dict[str, Any]


class MatchResultOut(Schema):
    matches: list[MatchOut]
    errors: dict[str, str]


@router.post("/requirements/match", response=MatchResultOut, auth=None)
def match_requirements(request, payload: ParametersIn):
    """Which 危大工程 items a set of scale parameters triggers (for the filing form's live hints)."""
    clean, errors = dangerous_works.validate_params(payload.parameters)
    return {"matches": [m.__dict__ for m in dangerous_works.match(clean)], "errors": errors}


@router.get("/projects/{project_id}/requirements", response={200: RequirementsOut, 403: ErrorOut, 404: ErrorOut})
def project_requirements(request, project_id: Id):
    project = services.get_project_for(request.user, project_id, Part.PROJECT_DOCUMENTS, what="申报材料清单")
    reqs = filing_requirements(project.project_type, project.parameters or {})
    missing = set(map(id, missing_documents(project, reqs)))
    return {
        "dangerous_works": [m.__dict__ for m in dangerous_works.match(project.parameters or {})],
        "documents": [
            {
                "kind": r.kind,
                "label": r.label,
                "category": r.category,
                "reason": r.reason,
                "satisfied": id(r) not in missing,
            }
            for r in reqs
        ],
    }


class FindingOut(Schema):
    code: str
    severity: str
    message: str
    subject: str


class PreReviewOut(Schema):
    at: dt.datetime
    clean: bool
    findings: list[FindingOut]
    overridden: bool
    override_reason: str


@router.get("/projects/{project_id}/prereview", response={200: PreReviewOut, 403: ErrorOut, 404: ErrorOut})
def latest_prereview(request, project_id: Id):
    project = services.get_project_for(request.user, project_id, Part.PROJECT_RECORDS, what="自动预审结论")
    review = project.prereviews.get_queryset().first()
    if review is None:
        from django.core.exceptions import ObjectDoesNotExist

        raise ObjectDoesNotExist
    return {
        "at": review.at,
        "clean": review.clean,
        "findings": review.findings,
        "overridden": review.overridden_by_id is not None,
        "override_reason": review.override_reason,
    }


class TransitionOut(Schema):
    name: str
    from_state: str
    to_state: str
    actor: str | None
    reason: str
    at: dt.datetime

    @staticmethod
    def resolve_actor(obj):
        return obj.actor.get_full_name() if obj.actor_id else "系统"


class AvailableOut(Schema):
    name: str
    label: str
    needs_reason: bool
    target: str


class LifecycleOut(Schema):
    state: str
    state_label: str
    history: list[TransitionOut]
    available: list[AvailableOut]


class TransitionIn(Schema):
    name: str = Field(max_length=40)
    reason: str = Field("", max_length=2000)


def _lifecycle(request, project):
    return {
        "state": project.state,
        "state_label": project.get_state_display(),
        "history": project.transitions.select_related("actor"),
        "available": [
            {"name": n, "label": r.label, "needs_reason": r.needs_reason, "target": r.target}
            for n, r in lifecycle.available(request.user, project)
        ],
    }


@router.get("/projects/{project_id}/transitions", response={200: LifecycleOut, 403: ErrorOut, 404: ErrorOut})
def project_lifecycle(request, project_id: Id):
    return _lifecycle(
        request, services.get_project_for(request.user, project_id, Part.PROJECT_RECORDS, what="审批流转记录")
    )


@router.post(
    "/projects/{project_id}/transitions",
    response={200: LifecycleOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def do_transition(request, project_id: Id, payload: TransitionIn):
    """Take a lifecycle step (submit, approve, return, reject, suspend, ...). Submitting runs the automatic
    pre-review; the response's state says where the project went."""
    project = services.get_project_for(request.user, project_id)
    project = lifecycle.perform(project, payload.name, request.user, payload.reason)
    return _lifecycle(request, project)


# --- documents ----------------------------------------------------------------------------------------


class VersionOut(Schema):
    number: int
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime
    uploaded_by: str | None
    download_url: str

    @staticmethod
    def resolve_uploaded_by(obj):
        return obj.uploaded_by.get_full_name() if obj.uploaded_by_id else None

    @staticmethod
    def resolve_download_url(obj):
        return f"/api/documents/{obj.document_id}/versions/{obj.number}/download"


class DocumentOut(Schema):
    id: int
    kind: str
    kind_label: str
    category: str
    title: str
    valid_until: dt.date | None
    versions: list[VersionOut]
    withdrawn_at: dt.datetime | None
    withdraw_reason: str
    warnings: list[str] = Field(description="如：同一文件（SHA-256 相同）同时作为另一类文件上传")

    @staticmethod
    def resolve_warnings(obj):
        return getattr(obj, "warnings", [])

    @staticmethod
    def resolve_kind_label(obj):
        return obj.get_kind_display()

    @staticmethod
    def resolve_versions(obj):
        return list(obj.versions.all())


class DocumentIn(Schema):
    kind: DocumentKind
    title: str = Field("", max_length=200)
    category: str = Field("", max_length=50)
    valid_until: IsoDate | None = None
    note: str = Field("", max_length=200)

    @field_validator("category")
    @classmethod
    def strip(cls, v: str) -> str:
        return v.strip()


@router.get("/projects/{project_id}/documents", response={200: list[DocumentOut], 403: ErrorOut, 404: ErrorOut})
def list_documents(request, project_id: Id):
    project = services.get_project_for(request.user, project_id, Part.PROJECT_DOCUMENTS, what="文件目录")
    return _with_warnings(project, list(project.documents.prefetch_related("versions__uploaded_by")))


def _with_warnings(project, documents):
    """Each document with the warnings about it (the same file filed as another kind: services.duplicate_files)."""
    flagged: dict[int, list[str]] = {}
    for group in services.duplicate_files(project):
        for pk in group.document_ids:
            flagged.setdefault(pk, []).append(group.message)
    for document in documents:
        document.warnings = flagged.get(document.pk, [])
    return documents


@router.post(
    "/projects/{project_id}/documents",
    response={201: DocumentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def upload_document(request, project_id: Id, payload: Form[DocumentIn], file: File[UploadedFile]):
    """Upload a typed document (multipart). The content is sniffed; the size is limited; SHA-256 recorded."""
    project = services.get_project_for(request.user, project_id)
    version = services.upload_document(
        request.user,
        project,
        kind=payload.kind.value,
        title=payload.title,
        category=payload.category,
        valid_until=payload.valid_until,
        file_name=file.name or "upload",
        content=file,
        note=payload.note,
    )
    version.document.warnings = [group.message for group in version.duplicates]
    return 201, version.document


@router.post(
    "/documents/{document_id}/versions",
    response={201: DocumentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def upload_version(request, document_id: Id, file: File[UploadedFile], note: Form[str] = ""):
    """Add a new version of a document (`note`: why it replaces the current one); earlier versions are kept
    unchanged. After submission this is a correction, kept in the correction record."""
    document = services.get_document_for(request.user, document_id)
    version = services.upload_document(
        request.user,
        document.project,
        kind=document.kind,
        file_name=file.name or "upload",
        content=file,
        document=document,
        note=note,
    )
    document.warnings = [group.message for group in version.duplicates]
    return 201, document


@router.post("/documents/{document_id}/withdraw", response={200: DocumentOut, **CORRECTION_ANSWERS})
def withdraw_document(request, document_id: Id, payload: ReasonIn):
    """Withdraws a document filed by mistake: its versions and their evidence-log entries stay, it no longer
    counts towards the checklist. A reason after submission (422 without); 409 after the permit (ask for a
    变更); 403 for anyone but the applicant."""
    document = services.get_document_for(request.user, document_id)
    corrections.withdraw_document(request.user, document, payload.reason)
    document.refresh_from_db()
    return document


@router.get("/documents/{document_id}/versions/{number}/download", response={200: None, 403: ErrorOut, 404: ErrorOut})
def download_version(request, document_id: Id, number: Id):
    version = services.get_version_for(request.user, document_id, number)  # 404 unless its documents are readable
    handle = services.open_version_for_download(request.user, version)
    return FileResponse(handle, as_attachment=True, filename=version.original_name, content_type=version.content_type)


# --- progress reports ----------------------------------------------------------------------------------


class ProgressReportOut(Schema):
    id: int
    report_date: dt.date
    percent_complete: int
    summary: str
    enterprise: str
    author: str | None
    photo_document_ids: list[int]

    @staticmethod
    def resolve_enterprise(obj):
        return obj.enterprise.name

    @staticmethod
    def resolve_author(obj):
        return obj.author.get_full_name() if obj.author_id else None

    @staticmethod
    def resolve_photo_document_ids(obj):
        return [d.pk for d in obj.photos.all()]


class ProgressReportIn(Schema):
    report_date: IsoDate
    percent_complete: integer(ge=0, le=100)
    summary: str = Field(min_length=2, max_length=4000)


@router.get(
    "/projects/{project_id}/progress-reports", response={200: list[ProgressReportOut], 403: ErrorOut, 404: ErrorOut}
)
def list_progress_reports(request, project_id: Id):
    project = services.get_project_for(request.user, project_id, Part.PROJECT_PROGRESS, what="进度报告")
    return project.progress_reports.select_related("enterprise", "author").prefetch_related("photos")


@router.post(
    "/projects/{project_id}/progress-reports",
    response={201: ProgressReportOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def add_progress_report(
    request, project_id: Id, payload: Form[ProgressReportIn], photos: File[list[UploadedFile]] = None
):
    """A contractor's, supervisor's or designer's progress report with site photos (multipart)."""
    project = services.get_project_for(request.user, project_id)
    report = services.add_progress_report(
        request.user,
        project,
        report_date=payload.report_date,
        percent_complete=payload.percent_complete,
        summary=payload.summary,
        photos=[(p.name or "photo", p) for p in (photos or [])],
    )
    return 201, report


# --- 变更 after the permit (projects/changes.py) -------------------------------------------------------------


ChangeIn = input_schema(
    ProjectChangeRequest,
    ("action", "reason"),
    name="ChangeIn",
    extra={
        "target_id": (Id, Field(description="变更对象：关键岗位登记、参建单位登记或文件的 id")),
        "person_id": (Id | None, Field(None, description="更换关键岗位人员时：接任人员的 id")),
        "enterprise_id": (Id | None, Field(None, description="更换参建单位时：接替企业的 id")),
    },
)


class DecisionIn(Schema):
    comment: str = Field("", max_length=200, description="审批意见（驳回时必填）")


class ChangeOut(Schema):
    id: int
    project_id: int
    project_name: str
    action: str
    action_label: str
    state: str
    state_label: str
    summary: str
    reason: str
    requested_by: str | None
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_comment: str

    @staticmethod
    def resolve_project_name(obj):
        return obj.project.name

    @staticmethod
    def resolve_action_label(obj):
        return obj.get_action_display()

    @staticmethod
    def resolve_state_label(obj):
        return obj.get_state_display()

    @staticmethod
    def resolve_requested_by(obj):
        return obj.requested_by.get_full_name() if obj.requested_by_id else None

    @staticmethod
    def resolve_decided_by(obj):
        return obj.decided_by.get_full_name() if obj.decided_by_id else None


class ChangeFilter(Schema):
    state: str = Field("", max_length=10, description="pending / approved / rejected；留空为全部")
    project_id: Id | None = None


@router.post("/projects/{project_id}/changes", response={201: ChangeOut, **CORRECTION_ANSWERS})
def request_change(request, project_id: Id, payload: ChangeIn):
    """Asks for a 变更 after the permit (the applicant only; 403 otherwise): replace a key person or a
    participant, remove a participant, withdraw a filed document. Nothing changes until the project's
    regulator approves. 409 before the permit (correct directly instead); 422 when the target is not this
    project's, the newcomer may not take the post or role, or a request for it is already pending."""
    project = services.get_project_for(request.user, project_id)
    data = payload.dict()
    change = changes.request(
        request.user,
        project,
        str(data["action"]),
        target_id=data["target_id"],
        reason=data["reason"],
        person_id=data.get("person_id"),
        enterprise_id=data.get("enterprise_id"),
    )
    return 201, change


@router.get("/project-changes", response=list[ChangeOut])
@paginate(BoundedPageNumberPagination, page_size=30)
def list_changes(request, filters: Query[ChangeFilter]):
    """变更 requests of the projects whose records the user reads, newest first."""
    return changes.search(request.user, state=filters.state, project_id=filters.project_id)


@router.get("/project-changes/{change_id}", response={200: ChangeOut, 404: ErrorOut})
def get_change(request, change_id: Id):
    return changes.get_change_for(request.user, change_id)


@router.post("/project-changes/{change_id}/approve", response={200: ChangeOut, **CORRECTION_ANSWERS})
def approve_change(request, change_id: Id, payload: DecisionIn):
    """Approves and applies a 变更 (the project's regulators; 403 otherwise). The rules are checked again (422
    when, say, the newcomer's certificate has expired since); 409 when already decided."""
    return changes.approve(request.user, changes.get_change_for(request.user, change_id), payload.comment)


@router.post("/project-changes/{change_id}/reject", response={200: ChangeOut, **CORRECTION_ANSWERS})
def reject_change(request, change_id: Id, payload: DecisionIn):
    """Rejects a 变更 with a reason (422 without); the registration stays as it is."""
    return changes.reject(request.user, changes.get_change_for(request.user, change_id), payload.comment)


# --- coordinates ----------------------------------------------------------------------------------------------


class PointIn(Schema):
    text: str = Field(max_length=100, description="粘贴的经纬度，如“118.356,35.104”（经度、纬度顺序均可）")
    system: Literal["wgs84", "gcj02", "bd09"] = Field(
        "wgs84", description="坐标来源：wgs84（GPS、天地图）、gcj02（高德、腾讯）、bd09（百度）"
    )


class PointOut(Schema):
    lat: float
    lon: float
    source: str
    changed: bool
    note: str


@router.post("/geo/to-wgs84", response={200: PointOut, 422: ErrorOut}, auth=None)
def to_wgs84(request, payload: PointIn):
    """A point pasted from a web map, converted to WGS-84 (the filing form's map); the conversion is named."""
    try:
        converted = geo.to_wgs84(*geo.parse_point(payload.text), payload.system)
    except geo.CoordinateError as exc:
        from django.core.exceptions import ValidationError

        raise ValidationError({"text": str(exc)}) from exc
    return {**converted.__dict__, "note": converted.note}


# --- audit --------------------------------------------------------------------------------------------


class AuditOut(Schema):
    at: dt.datetime
    actor: str
    action: str
    action_label: str
    object_type: str
    object_label: str
    changes: dict[str, Any]

    @staticmethod
    def resolve_actor(obj):
        return obj.actor_label

    @staticmethod
    def resolve_action_label(obj):
        return obj.get_action_display()


@router.get("/projects/{project_id}/audit", response={200: list[AuditOut], 403: ErrorOut, 404: ErrorOut})
@paginate(BoundedPageNumberPagination, page_size=50)
def project_audit(request, project_id: Id):
    project = services.get_project_for(request.user, project_id, Part.PROJECT_RECORDS, what="操作日志")
    return services.timeline(project)


# --- public portal ------------------------------------------------------------------------------------


class PublicParticipantOut(Schema):
    role_label: str
    enterprise_name: str


class PublicProjectOut(Schema):
    id: int
    name: str
    code: str
    project_type_label: str
    jurisdiction_name: str
    address: str
    lat: float
    lon: float
    state_label: str
    permit_number: str
    permitted_at: dt.datetime | None
    participants: list[PublicParticipantOut]

    @staticmethod
    def resolve_project_type_label(obj):
        return obj.get_project_type_display()

    @staticmethod
    def resolve_jurisdiction_name(obj):
        return obj.jurisdiction.name

    @staticmethod
    def resolve_state_label(obj):
        return obj.get_state_display()

    @staticmethod
    def resolve_participants(obj):
        return [
            {"role_label": p.get_role_display(), "enterprise_name": p.enterprise.name} for p in obj.participants.all()
        ]


@public_router.get("/projects", auth=None, response=list[PublicProjectOut])
@paginate(BoundedPageNumberPagination, page_size=20)
def public_projects(request, filters: Query[ProjectFilter]):
    """Permitted projects as published to the public: no personal data."""
    return services.search_public_projects(**filters.dict())


@public_router.get("/projects/{project_id}", auth=None, response={200: PublicProjectOut, 404: ErrorOut})
def public_project(request, project_id: Id):
    return services.search_public_projects().get(pk=project_id)


__all__ = ["State", "public_router", "router"]
