"""Who may see and do what with a project. The pages and the API both ask here, and nowhere else."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from jianguan.accounts.models import DataSharingRule, User

from .models import ParticipantRole, Project, State

Role = User.Role

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


def _jurisdiction_q(user: User) -> Q:
    jur = user.jurisdiction
    if jur is None:
        return Q(pk__in=[])
    if jur.parent_id is None:  # the city level sees the whole city
        return Q()
    return Q(jurisdiction=jur) | Q(jurisdiction__parent=jur)


def sharing_granted(user: User, resource: str) -> bool:
    if user.role != Role.DEPT_OFFICER or user.department is None:
        return False
    return DataSharingRule.objects.filter(department_kind=user.department.kind, resource=resource, active=True).exists()


def visible_projects(user) -> QuerySet[Project]:
    qs = Project.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.filter(state__in=PUBLISHED_STATES)
    if user.role == Role.BUREAU_ADMIN:
        return qs.exclude(state__in=NOT_YET_FILED)
    if user.role in {Role.DISTRICT_REGULATOR, Role.INSPECTOR}:
        return qs.filter(_jurisdiction_q(user)).exclude(state__in=NOT_YET_FILED)
    if user.role == Role.DEPT_OFFICER:
        if not sharing_granted(user, DataSharingRule.Resource.PROJECT_BASIC):
            return qs.none()
        return qs.filter(_jurisdiction_q(user)).exclude(state__in=NOT_YET_FILED)
    if user.role == Role.ENTERPRISE_USER and user.enterprise_id:
        return qs.filter(
            Q(applicant_id=user.enterprise_id) | Q(participants__enterprise_id=user.enterprise_id)
        ).distinct()
    return qs.none()


def can_read(user, project: Project) -> bool:
    return visible_projects(user).filter(pk=project.pk).exists()


def participant_roles(user, project: Project) -> set[str]:
    if getattr(user, "role", None) != Role.ENTERPRISE_USER or not user.enterprise_id:
        return set()
    roles = set(project.participants.filter(enterprise_id=user.enterprise_id).values_list("role", flat=True))
    if project.applicant_id == user.enterprise_id:
        roles.add("applicant")
    return roles


def is_regulator_of(user, project: Project) -> bool:
    """Acts on the project: the city bureau, or the district bureau of the project's jurisdiction."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == Role.BUREAU_ADMIN:
        return True
    return (
        user.role == Role.DISTRICT_REGULATOR and Project.objects.filter(_jurisdiction_q(user), pk=project.pk).exists()
    )


def can_edit(user, project: Project) -> bool:
    return project.state in APPLICANT_EDITABLE and "applicant" in participant_roles(user, project)


def can_upload(user, project: Project, kind: str | None = None) -> bool:
    roles = participant_roles(user, project)
    if project.state in APPLICANT_EDITABLE:
        return "applicant" in roles
    if project.state in WORKS_STATES:
        # Contractor, supervisor and designer keep the works' record: photos, tests, certificates.
        works_roles = {
            ParticipantRole.GENERAL_CONTRACTOR,
            ParticipantRole.SUBCONTRACTOR,
            ParticipantRole.SUPERVISOR,
            ParticipantRole.DESIGNER,
            "applicant",
        }
        return bool(roles & works_roles)
    return False


def can_download(user, project: Project) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == Role.DEPT_OFFICER and not sharing_granted(user, DataSharingRule.Resource.PROJECT_DOCUMENTS):
        return False
    return can_read(user, project)


def can_see_people(user, project: Project) -> bool:
    """Key people (names, masked IDs) are not public; departments need the participants rule."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == Role.DEPT_OFFICER and not sharing_granted(user, DataSharingRule.Resource.PROJECT_PARTICIPANTS):
        return False
    return can_read(user, project)


def can_create_project(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.role == Role.ENTERPRISE_USER and bool(user.enterprise_id)
