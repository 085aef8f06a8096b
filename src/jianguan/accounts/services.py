"""Authentication services shared by the login page, the admin and the API."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils import timezone

from . import throttle
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


def user_for_token(key: str) -> User | None:
    if not key or not key.startswith("jg_"):
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_key(key)).first()
    if token is None or not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
