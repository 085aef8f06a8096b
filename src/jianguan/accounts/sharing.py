"""Cross-department reads (joint enforcement): which data-sharing rule lets another department's officer read a
part of the projects, and the log of every such read.

`projects.permissions` and `sites.permissions` ask `rule_for` to decide; the services that serve a read call
`note_read` with the part they showed, so the log names the rule that actually allowed it (its purpose and
legal basis), for single records and for lists, exports and streams alike."""

from __future__ import annotations

from django.db import models

from jianguan.core import audit

from .models import DataSharingRule, User

Part = DataSharingRule.Resource


def is_department_officer(user) -> bool:
    return (
        bool(getattr(user, "is_authenticated", False))
        and getattr(user, "role", None) == User.Role.DEPT_OFFICER
        and user.is_active
    )


def _rules(user) -> dict[str, DataSharingRule]:
    """The active rules of the officer's department kind, read once per user object (one request)."""
    cached = getattr(user, "_sharing_rules", None)
    if cached is None:
        cached = {}
        if is_department_officer(user) and user.department_id is not None:
            kind = user.department.kind
            cached = {r.resource: r for r in DataSharingRule.objects.filter(department_kind=kind, active=True)}
        user._sharing_rules = cached
    return cached


def rule_for(user, part: str) -> DataSharingRule | None:
    """The rule granting this department officer the part (the basic part is needed for any other); None when
    there is none or the user is not a department officer."""
    rules = _rules(user)
    if Part.PROJECT_BASIC not in rules:
        return None
    return rules.get(part)


def granted_parts(user) -> frozenset[str]:
    rules = _rules(user)
    return frozenset(rules) if Part.PROJECT_BASIC in rules else frozenset()


def forget(user) -> None:
    """Drops the rules read for this user object (after a rule changes within one request or test)."""
    if hasattr(user, "_sharing_rules"):
        del user._sharing_rules


def note_read(
    user,
    part: str,
    *,
    what: str,
    obj: models.Model | None = None,
    project=None,
    count: int | None = None,
    query: dict | None = None,
) -> None:
    """Logs a department officer's read of `part` (nothing for anyone else): one audit event per page, record,
    list, export or stream, naming the rule, its purpose and legal basis, what was shown and how many rows."""
    if not is_department_officer(user):
        return
    rule = rule_for(user, part)
    if rule is None:  # nothing of the part was shown (its scope is empty without a rule): no read to log
        return
    changes = {
        "part": part,
        "part_label": rule.get_resource_display(),
        "rule": rule.pk,
        "purpose": rule.purpose,
        "legal_basis": rule.legal_basis,
        "department": str(user.department),
        "what": what,
    }
    if count is not None:
        changes["count"] = count
    if query:
        changes["query"] = {k: v for k, v in query.items() if v not in (None, "")}
    target = obj if obj is not None else (project if project is not None else rule)
    audit.record(user, "read", target, project=project, changes=changes, label=f"{what}（{Part(part).label}）")
