"""Who may read an entry's leaf data: whoever may read the record it evidences."""

from jianguan.accounts.models import User

from .models import LedgerEntry


def may_operate(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.role == User.Role.BUREAU_ADMIN


def may_read_entry(user, entry: LedgerEntry) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if may_operate(user):
        return True
    kind, _, ident = entry.scope.partition(":")
    if kind == "project" and ident.isdigit():
        from jianguan.projects import permissions as project_permissions
        from jianguan.projects.models import Project

        project = Project.objects.filter(pk=int(ident)).first()
        return project is not None and project_permissions.can_read(user, project)
    return False
