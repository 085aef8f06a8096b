"""Who may see and do what with a project. Pages, API, exports, streams and services ask here, and nowhere else.

Vocabulary: `visible_projects(user, part)` is the read scope (not in it → 404); `may_read_part(user, project,
part)` says whether a readable project's part may be shown (no → 403 on the project's own sub-resource route,
the section left out of a page); `visible_documents(user)` the documents addressed by their own id (not in it
→ 404); `can_<action>` / `is_regulator_of` decide actions (no → 403).

Parts (`Part`, the data-sharing resources) are what another department can be granted: the housing bureau's
own staff and the project's participants read every part of a project they can see; a department officer reads
the parts its department's active rules grant (accounts.sharing), the basic part being the way in."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from jianguan.accounts import sharing
from jianguan.accounts.models import DataSharingRule, User

from .models import Document, DocumentKind, ParticipantRole, Project, ProjectChangeRequest, State

Role = User.Role
Part = DataSharingRule.Resource
ALL_PARTS = frozenset(Part.values)

# States in which the public portal shows a project (after a permit was issued).
PUBLISHED_STATES = {
    State.PERMITTED,
    State.UNDER_CONSTRUCTION,
    State.SUSPENDED,
    State.ACCEPTANCE,
    State.ARCHIVED,
}
# States in which the applicant may still change its filing.
APPLICANT_EDITABLE = {State.DRAFT, State.RETURNED, State.PREREVIEW_FAILED}
# States in which participants file documents and progress reports about the works.
WORKS_STATES = {State.PERMITTED, State.UNDER_CONSTRUCTION, State.SUSPENDED, State.ACCEPTANCE}
# Other departments never see drafts: a filing is the enterprise's own until submitted.
NOT_YET_FILED = {State.DRAFT}
# How a registered participant, key person or document is corrected (corrections.py, changes.py): freely before
# submission; after it, until the permit, by removing or replacing with a reason, the old kept in the record;
# after the permit only through a change request (变更) the project's regulator approves.
CORRECTION_STAGES = {
    **dict.fromkeys((State.DRAFT,), "draft"),
    **dict.fromkeys((State.SUBMITTED, State.PREREVIEW_FAILED, State.UNDER_REVIEW, State.RETURNED), "filed"),
    **dict.fromkeys(WORKS_STATES, "change"),
}


def _jurisdiction_q(user: User) -> Q:
    jur = user.jurisdiction
    if jur is None:
        return Q(pk__in=[])
    if jur.parent_id is None:  # the city level sees the whole city
        return Q()
    return Q(jurisdiction=jur) | Q(jurisdiction__parent=jur)


def readable_parts(user) -> frozenset[str]:
    """The parts of a visible project this user may read: all for the bureau's staff and enterprise users (they
    see only their own projects), the granted ones for a department officer, the basic part for the public."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset({Part.PROJECT_BASIC})
    if user.role == Role.DEPT_OFFICER:
        return sharing.granted_parts(user)
    return ALL_PARTS


def visible_projects(user, part: str = Part.PROJECT_BASIC) -> QuerySet[Project]:
    """The projects whose `part` this user may read (the basic part: the projects the user may see at all)."""
    qs = Project.objects.all()
    if part not in readable_parts(user):
        return qs.none()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.filter(state__in=PUBLISHED_STATES)
    if user.role == Role.BUREAU_ADMIN:
        return qs.exclude(state__in=NOT_YET_FILED)
    if user.role in {Role.DISTRICT_REGULATOR, Role.INSPECTOR, Role.DEPT_OFFICER}:
        return qs.filter(_jurisdiction_q(user)).exclude(state__in=NOT_YET_FILED)
    if user.role == Role.ENTERPRISE_USER and user.enterprise_id:
        return qs.filter(
            Q(applicant_id=user.enterprise_id) | Q(participants__enterprise_id=user.enterprise_id)
        ).distinct()
    return qs.none()


def visible_documents(user) -> QuerySet[Document]:
    """The documents (and so their versions) of the projects whose documents part the user may read."""
    return Document.objects.filter(project__in=visible_projects(user, Part.PROJECT_DOCUMENTS))


def may_read_part(user, project: Project, part: str) -> bool:
    """Whether a part of a project the user can read may be shown to them."""
    return part in readable_parts(user) and can_read(user, project)


def can_read(user, project: Project) -> bool:
    """Whether the user may see the project at all (its basic part). Remembered on the user object for the
    request: a page asks for several parts of one project."""
    cache = getattr(user, "_readable_projects", None) if user is not None else None
    if cache is None:
        cache = {}
        if user is not None and getattr(user, "is_authenticated", False):
            user._readable_projects = cache
    if project.pk not in cache:
        cache[project.pk] = visible_projects(user).filter(pk=project.pk).exists()
    return cache[project.pk]


def remember_readable(user, project: Project) -> None:
    """Notes that `project` came out of visible_projects(user) (the caller fetched it so): a page's or route's
    part checks then need no query of their own."""
    if user is not None and getattr(user, "is_authenticated", False):
        cache = getattr(user, "_readable_projects", None)
        if cache is None:
            cache = user._readable_projects = {}
        cache[project.pk] = True


def participant_roles(user, project: Project) -> set[str]:
    if getattr(user, "role", None) != Role.ENTERPRISE_USER or not user.enterprise_id:
        return set()
    roles = set(project.participants.filter(enterprise_id=user.enterprise_id).values_list("role", flat=True))
    if project.applicant_id == user.enterprise_id:
        roles.add("applicant")
    return roles


def regulated_projects(user) -> QuerySet[Project]:
    """The projects the user acts on as their regulator: the city bureau's every project, a district bureau's
    of its jurisdiction (is_regulator_of for many at once)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Project.objects.none()
    if user.role == Role.BUREAU_ADMIN:
        return Project.objects.all()
    if user.role == Role.DISTRICT_REGULATOR:
        return Project.objects.filter(_jurisdiction_q(user))
    return Project.objects.none()


def is_regulator_of(user, project: Project) -> bool:
    """Acts on the project: the city bureau, or the district bureau of the project's jurisdiction."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role == Role.BUREAU_ADMIN:
        return True
    return (
        user.role == Role.DISTRICT_REGULATOR and Project.objects.filter(_jurisdiction_q(user), pk=project.pk).exists()
    )


def can_edit(user, project: Project) -> bool:
    return project.state in APPLICANT_EDITABLE and "applicant" in participant_roles(user, project)


_WORKS_ROLES = frozenset(
    {
        ParticipantRole.GENERAL_CONTRACTOR,
        ParticipantRole.SUBCONTRACTOR,
        ParticipantRole.SUPERVISOR,
        ParticipantRole.DESIGNER,
        "applicant",
    }
)
_APPLICANT = frozenset({"applicant"})
GC, SUB, SUP, DES = (
    ParticipantRole.GENERAL_CONTRACTOR,
    ParticipantRole.SUBCONTRACTOR,
    ParticipantRole.SUPERVISOR,
    ParticipantRole.DESIGNER,
)
# Once the works have started, who keeps (adds and replaces) each kind of document: the party that issues or
# answers for it. The applicant (建设单位) keeps its filing's documents; a supervisor cannot replace the contract,
# a designer cannot replace a test report. During the filing only the applicant uploads.
KIND_KEEPERS: dict[str, frozenset[str]] = {
    DocumentKind.CONSTRUCTION_DRAWINGS: frozenset({"applicant", DES}),
    DocumentKind.DRAWING_REVIEW_CERT: _APPLICANT,
    DocumentKind.PLANNING_PERMIT: _APPLICANT,
    DocumentKind.ENVIRONMENTAL_REPORT: _APPLICANT,
    DocumentKind.CONTRACT: frozenset({"applicant", GC}),
    DocumentKind.SAFETY_MEASURES: frozenset({"applicant", GC}),
    DocumentKind.WAGE_ACCOUNT: frozenset({"applicant", GC}),
    DocumentKind.SPECIAL_PLAN: frozenset({"applicant", GC, SUB}),
    DocumentKind.EXPERT_REVIEW: frozenset({"applicant", GC}),
    DocumentKind.TEST_REPORT: frozenset({"applicant", GC, SUB, SUP}),  # the 建设单位 commissions the testing
    DocumentKind.MATERIAL_CERTIFICATE: frozenset({GC, SUB, SUP}),
    DocumentKind.PROGRESS_PHOTO: _WORKS_ROLES,
    DocumentKind.ACCEPTANCE_REPORT: frozenset({"applicant", SUP}),
    DocumentKind.OTHER: _WORKS_ROLES,
}


def upload_roles(project: Project, kind: str | None) -> frozenset[str]:
    """The participant roles that may add (or replace) a document of this kind in the project's state."""
    if project.state in APPLICANT_EDITABLE:
        return _APPLICANT
    if project.state in WORKS_STATES:
        return KIND_KEEPERS.get(kind, _WORKS_ROLES) if kind else _WORKS_ROLES
    return frozenset()


def can_upload(user, project: Project, kind: str | None = None) -> bool:
    """Add a document (of `kind`; without a kind: of any kind the user may keep)."""
    return bool(participant_roles(user, project) & upload_roles(project, kind))


def uploadable_kinds(user, project: Project) -> list[str]:
    roles = participant_roles(user, project)
    return [kind for kind in DocumentKind.values if roles & upload_roles(project, kind)]


def can_add_version(user, document: Document) -> bool:
    """Replace a document by a new version: its kind's keepers only (the old versions stay); during the filing
    the applicant, as a correction, also while the filing is under review."""
    if document.withdrawn_at is not None:
        return False
    return can_upload(user, document.project, document.kind) or may_correct(user, document.project)


def can_download(user, project: Project) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return may_read_part(user, project, Part.PROJECT_DOCUMENTS)


def can_see_people(user, project: Project) -> bool:
    """Key people (names, masked IDs) are not public; departments need the participants rule."""
    if not getattr(user, "is_authenticated", False):
        return False
    return may_read_part(user, project, Part.PROJECT_PARTICIPANTS)


def can_create_project(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.role == Role.ENTERPRISE_USER and bool(user.enterprise_id)


def correction_stage(project: Project) -> str | None:
    """ "draft", "filed", "change" (CORRECTION_STAGES), or None when nothing may be corrected (refused, archived)."""
    return CORRECTION_STAGES.get(project.state)


def may_correct(user, project: Project) -> bool:
    """Remove or replace a registered participant, key person or document directly: the applicant, before the
    permit (a reason is asked after submission)."""
    return correction_stage(project) in ("draft", "filed") and "applicant" in participant_roles(user, project)


def may_request_change(user, project: Project) -> bool:
    """Ask for a 变更 after the permit: the applicant (建设单位), which answers for its filing."""
    return correction_stage(project) == "change" and "applicant" in participant_roles(user, project)


def may_pick(user, project: Project) -> bool:
    """Search the registry for a participant or key person of this project (the pickers): whoever may register,
    correct or ask to change them."""
    return can_edit(user, project) or may_correct(user, project) or may_request_change(user, project)


def visible_change_requests(user) -> QuerySet[ProjectChangeRequest]:
    """The 变更 requests of the projects whose records the user may read (regulators, the project's participants;
    a department only under a rule granting the records part)."""
    return ProjectChangeRequest.objects.filter(project__in=visible_projects(user, Part.PROJECT_RECORDS))


def may_decide_change(user, change: ProjectChangeRequest) -> bool:
    """Approve or reject a 变更: the project's regulators (its district bureau, or the city bureau)."""
    return is_regulator_of(user, change.project)


def may_decide_changes(user) -> bool:
    """Whether the user decides 变更 requests at all (the approval page in the navigation)."""
    return getattr(user, "is_authenticated", False) and user.role in (Role.BUREAU_ADMIN, Role.DISTRICT_REGULATOR)


def decidable_changes(user, changes) -> set[int]:
    """The ids of those of `changes` the user may decide (a page of them in one query: may_decide_change for many)."""
    project_ids = {c.project_id for c in changes}
    regulated = set(regulated_projects(user).filter(pk__in=project_ids).values_list("pk", flat=True))
    return {c.pk for c in changes if c.project_id in regulated}
