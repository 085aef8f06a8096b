"""Who may review, sign, reply and report in the review room: the only place. Pages, API, services and the buttons a
page shows ask here. Vocabulary as in projects/permissions.py: `visible_<things>(user)` querysets (not in them:
404), `may_<action>(user, obj)` checks (no: 403).

- Reviewing (verdicts, comments, the checklist, the opinion, assignment) and signing (审核, 审批) are the project's
  regulators' (`projects.permissions.is_regulator_of`: the city bureau, the project's district bureau). Inspectors
  and other departments read what their parts allow and act on nothing here; they see no review queue.
- Who signs 审批 must differ from who signed 审核 when the bureau requires a second sign-off
  (settings.PERMIT_SECOND_SIGNOFF): a rule of the signature, asked by `signoffs`, refused with 403.
- The enterprise side (the applicant's and the participants' users) reads the comments on its documents and
  replies to them; the applicant or the general contractor reports the start of works, the regulator confirms."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from jianguan.accounts.models import User
from jianguan.projects import permissions as project_permissions
from jianguan.projects.models import ParticipantRole, Project

from .models import ReviewComment

Role = User.Role
Part = project_permissions.Part


def may_see_queue(user) -> bool:
    """The review queue and its menu: for those who review (the city and the district bureaus' regulators)."""
    return (
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.role in (Role.BUREAU_ADMIN, Role.DISTRICT_REGULATOR)
        and user.jurisdiction is not None
    )


def queue_projects(user) -> QuerySet[Project]:
    """The projects in the user's review queue: those the user regulates (none for anyone else)."""
    if not may_see_queue(user):
        return Project.objects.none()
    return project_permissions.regulated_projects(user)


def may_review(user, project: Project) -> bool:
    """Verdicts, comments, checklist marks, the opinion's draft, assignment, closing comments."""
    return project_permissions.is_regulator_of(user, project)


def may_sign_off(user, project: Project) -> bool:
    """审核 and 审批 (who signed which is asked by the signing service)."""
    return project_permissions.is_regulator_of(user, project)


def reviewers_for(project: Project) -> QuerySet[User]:
    """Who may be assigned a project's review: the regulators of its district (or of the level above) and the city
    bureau's, as is_regulator_of decides for one user."""
    levels = [project.jurisdiction_id]
    if project.jurisdiction.parent_id is not None:
        levels.append(project.jurisdiction.parent_id)
    return (
        User.objects.filter(is_active=True)
        .filter(Q(role=Role.BUREAU_ADMIN) | Q(role=Role.DISTRICT_REGULATOR, department__jurisdiction__in=levels))
        .select_related("department")
        .order_by("role", "display_name", "username")
    )


def visible_comments(user) -> QuerySet[ReviewComment]:
    """Review comments are read with the project's documents."""
    return ReviewComment.objects.filter(project__in=project_permissions.visible_projects(user, Part.PROJECT_DOCUMENTS))


def is_enterprise_side(user, project: Project) -> bool:
    return bool(project_permissions.participant_roles(user, project))


def may_reply(user, comment: ReviewComment) -> bool:
    """The enterprise answers a comment: the applicant's and the participants' users; a reviewer may add a note."""
    return is_enterprise_side(user, comment.project) or may_review(user, comment.project)


def may_preview(user, project: Project) -> bool:
    """Documents are previewed by those who may download them."""
    return project_permissions.can_download(user, project)


_STARTERS = frozenset({"applicant", ParticipantRole.GENERAL_CONTRACTOR})


def may_report_start(user, project: Project) -> bool:
    """The start of works is reported by the applicant (建设单位) or the general contractor."""
    return bool(project_permissions.participant_roles(user, project) & _STARTERS)


def may_confirm_start(user, project: Project) -> bool:
    return project_permissions.is_regulator_of(user, project)
