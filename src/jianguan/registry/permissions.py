"""Who may read the registry (主体库、人员库). Enterprises' register data (name, code, type, qualifications) is
public information that every signed-in user reads; people (人员库: ID numbers, phones, certificates) are never
listed as such: a person is shown only as a project's key person or worker, under the projects' and sites'
rules (projects.permissions, sites.permissions)."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Enterprise


def visible_enterprises(user) -> QuerySet[Enterprise]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Enterprise.objects.none()
    return Enterprise.objects.all()
