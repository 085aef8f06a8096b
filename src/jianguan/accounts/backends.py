"""The one door for passwords: Django's ModelBackend behind the login throttle.

Every way to present a password (the login page, `POST /api/auth/token`, the Django admin, `Client.login` in a
test, any door added later) ends in `django.contrib.auth.authenticate()`, which asks this backend. So the
throttle cannot be forgotten: a locked user name or client address is refused here before the password is
looked at, a wrong password counts here, a right one clears the user name's counter here.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from . import throttle


class LoginLocked(PermissionDenied):
    """Too many failed logins for this user name or client address; try again later.

    A PermissionDenied, so that `authenticate()` stops at once (no other backend is asked) and returns None;
    callers that need to tell "locked" from "wrong password" ask `throttle.is_locked` (services does)."""


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


class UserWithScopeBackend(ModelBackend):
    """The session's user loaded with what every permission check reads (department, its jurisdiction,
    enterprise) in one query."""

    def get_user(self, user_id):
        from .models import User

        try:
            user = User._default_manager.select_related("department__jurisdiction", "enterprise").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):  # the live-alarm streams (async views) load the user the same way
        return await sync_to_async(self.get_user)(user_id)


class ThrottledModelBackend(UserWithScopeBackend):
    """The platform's one backend: passwords behind the throttle, sessions' users in one query."""

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
