"""Who sees and does what with accounts: a user sees and revokes only their own API tokens (the Django admin,
for superusers, is the back office for everyone's)."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import ApiToken


def visible_tokens(user) -> QuerySet[ApiToken]:
    if not getattr(user, "is_authenticated", False):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user)


def may_revoke_token(user, token: ApiToken) -> bool:
    return getattr(user, "is_authenticated", False) and token.user_id == user.pk and not token.revoked
