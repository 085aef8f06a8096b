"""One call to record an audit event; services call it, never views."""

from __future__ import annotations

from typing import Any

from django.db import models

from .middleware import client_ip, current_request
from .models import AuditEvent


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def record(
    actor,
    action: str,
    obj: models.Model,
    *,
    project=None,
    changes: dict[str, Any] | None = None,
    label: str | None = None,
) -> AuditEvent:
    request = current_request.get()
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor=actor if authenticated else None,
        actor_label=(actor.get_full_name() or actor.username) if authenticated else "系统",
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_label=(label or str(obj))[:200],
        project=project,
        changes=_jsonable(changes or {}),
        ip=client_ip(request),
    )


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field -> [old, new] for the fields that changed."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}
