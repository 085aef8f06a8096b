"""Authentication services shared by the login page and the API."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils import timezone

from . import throttle
from .models import ApiToken, User


class LoginLocked(Exception):
    """Too many failed logins; try again later."""


def login_with_password(request, username: str, password: str) -> User | None:
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    if throttle.is_locked(username, ip):
        raise LoginLocked
    user = authenticate(request, username=username, password=password)
    if user is None:
        throttle.register_failure(username, ip)
        return None
    throttle.reset(username)
    return user


def user_for_token(key: str) -> User | None:
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
    return token.user
