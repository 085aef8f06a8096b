"""The permission layer's shared vocabulary. Each room keeps its rules in its own `permissions.py`
(`visible_<things>(user)` querysets, `may_<action>(user, obj)` checks); services turn a refused check into
PermissionDenied with `require`, which the pages show as 403 and the API answers as 403 `forbidden`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


def require(allowed: bool, message: str) -> None:
    """Raises PermissionDenied(message) unless allowed."""
    if not allowed:
        raise PermissionDenied(message)
