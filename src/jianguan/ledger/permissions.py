"""Who may read what of the evidence log. Hashes, proofs and checkpoints are public; an entry's leaf data (and
its evidence bundle, which carries it) repeats the record it evidences, so it goes to whoever may read that
record: the project's readers, a department officer only under the data-sharing part the record belongs to."""

from __future__ import annotations

from jianguan.accounts.models import DataSharingRule, User
from jianguan.projects import permissions as project_permissions
from jianguan.projects.models import Project

from .models import LedgerEntry

Part = DataSharingRule.Resource

# The part of a project each kind of record belongs to; any other record in a project's scope counts as the
# project's records (审批与监管记录).
RECORD_PARTS = {
    "projects.documentversion": Part.PROJECT_DOCUMENTS,
    "projects.transition": Part.PROJECT_RECORDS,
    "sites.alarm": Part.SITE_MONITORING,
    "sites.daily_digest": Part.SITE_MONITORING,
}


def may_operate(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.role == User.Role.BUREAU_ADMIN


def record_part(entry: LedgerEntry) -> str:
    return RECORD_PARTS.get(entry.record_type, Part.PROJECT_RECORDS)


def entry_project(entry: LedgerEntry) -> Project | None:
    """The project whose record the entry evidences (None for entries outside any project's scope)."""
    kind, _, ident = entry.scope.partition(":")
    if kind != "project" or not ident.isdigit():
        return None
    return Project.objects.filter(pk=int(ident)).first()


def may_read_entry(user, entry: LedgerEntry) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if may_operate(user):
        return True
    project = entry_project(entry)
    return project is not None and project_permissions.may_read_part(user, project, record_part(entry))
