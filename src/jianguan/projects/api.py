"""Projects API: thin handlers over jianguan.projects.services / lifecycle / permissions."""

import datetime as dt
from typing import Any

from django.http import FileResponse
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import Field, field_validator

from jianguan.core.modelschema import input_schema
from jianguan.core.pagination import BoundedPageNumberPagination
from jianguan.core.schemas import ApiError as ErrorOut
from jianguan.core.schemas import Id, IsoDate, integer
from jianguan.registry.models import Enterprise

from . import dangerous_works, lifecycle, services
from .models import DocumentKind, KeyPostRole, ParticipantRole, Project, State
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


@router.delete(
    "/projects/{project_id}/participants/{participant_id}", response={204: None, 403: ErrorOut, 404: ErrorOut}
)
def remove_participant(request, project_id: Id, participant_id: Id):
    project = services.get_project_for(request.user, project_id)
    services.remove_participant(request.user, project.participants.get(pk=participant_id))
    return 204, None


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
    return project.documents.prefetch_related("versions__uploaded_by")


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
    return 201, version.document


@router.post(
    "/documents/{document_id}/versions",
    response={201: DocumentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def upload_version(request, document_id: Id, file: File[UploadedFile], note: Form[str] = ""):
    """Add a new version of a document; earlier versions are kept unchanged."""
    document = services.get_document_for(request.user, document_id)
    services.upload_document(
        request.user,
        document.project,
        kind=document.kind,
        file_name=file.name or "upload",
        content=file,
        document=document,
        note=note,
    )
    return 201, document


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
