"""Authentication services shared by the login page, the admin and the API."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone

from jianguan.core import audit

from . import permissions, throttle
from .backends import LoginLocked, client_ip
from .models import ApiToken, User


def login_with_password(request, username: str, password: str) -> User | None:
    """The user for a right password; None for a wrong one; LoginLocked while the throttle holds.

    Counting and the lock itself live in the authentication backend (backends.ThrottledModelBackend), so the
    Django admin and every other caller of authenticate() share them; this only tells the page or the API
    which answer to give."""
    if throttle.is_locked(username, client_ip(request)):
        raise LoginLocked
    return authenticate(request, username=username, password=password)


def token_for_key(key: str) -> ApiToken | None:
    """The active token with this key, of an active user; its last use noted (at most once a minute)."""
    if not key or not key.startswith("jg_"):
        return None
    # One indexed look-up (key_hash is unique) brings the user with what permission checks read.
    token = (
        ApiToken.objects.select_related("user__department__jurisdiction")
        .filter(key_hash=ApiToken.hash_key(key))
        .first()
    )
    if token is None or not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def issue_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for the user (the key is returned once, only its hash is kept); it expires API_TOKEN_DAYS on."""
    token, key = ApiToken.issue(user, name[:100])
    audit.record(user, "create", token, changes={"name": token.name, "expires_at": token.expires_at})
    return token, key


def list_tokens(user) -> QuerySet[ApiToken]:
    return permissions.visible_tokens(user)


def revoke_token(user, token_id: int) -> ApiToken:
    """Revokes one of the user's own tokens; another user's token does not exist for them (DoesNotExist)."""
    token = permissions.visible_tokens(user).get(pk=token_id)
    if not permissions.may_revoke_token(user, token):
        raise PermissionDenied("该令牌已撤销")
    ApiToken.objects.filter(pk=token.pk).revoke("用户撤销")
    token.refresh_from_db()
    audit.record(user, "update", token, changes={"revoked": token.revoked_reason})
    return token
