"""The one door for passwords: Django's ModelBackend behind the login throttle.

Every way to present a password (the login page, `POST /api/auth/token`, the Django admin, `Client.login` in a
test, any door added later) ends in `django.contrib.auth.authenticate()`, which asks this backend. So the
throttle cannot be forgotten: a locked user name or client address is refused here before the password is
looked at, a wrong password counts here, a right one clears the user name's counter here.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from . import throttle


class LoginLocked(PermissionDenied):
    """Too many failed logins for this user name or client address; try again later.

    A PermissionDenied, so that `authenticate()` stops at once (no other backend is asked) and returns None;
    callers that need to tell "locked" from "wrong password" ask `throttle.is_locked` (services does)."""


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        if username is None or password is None:
            return None
        ip = client_ip(request)
        if throttle.is_locked(username, ip):
            raise LoginLocked
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            throttle.register_failure(username, ip)
        else:
            throttle.reset(username)
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD
