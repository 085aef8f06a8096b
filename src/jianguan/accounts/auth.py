"""API authentication: bearer tokens for machines, the session for browsers, and "optional" for public
endpoints that show more to a signed-in reader."""

from django.conf import settings
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from .services import token_for_key


class CsrfFailed(HttpError):
    """A write in a browser session without a valid CSRF token (answered 403 `csrf_failed`)."""

    def __init__(self) -> None:
        super().__init__(403, "CSRF check Failed")


class TokenAuth(HttpBearer):
    """`Authorization: Bearer jg_…` for machine clients (tokens from POST /api/auth/token)."""

    def authenticate(self, request, token):
        found = token_for_key(token)
        if found is None:
            return None
        request.user = found.user
        request.api_token_id = found.pk
        return found.user


class SessionAuth(APIKeyCookie):
    """The browser's session, with Django's CSRF check on writes.

    Unlike ninja's `django_auth`, a request without a signed-in session is simply not authenticated by this
    method (so it ends as 401 `unauthenticated`): there is no session to forge a request for, hence nothing
    for CSRF to protect, and "CSRF check Failed" would send a client that has not logged in the wrong way."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise CsrfFailed
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):
        return request.user if request.user.is_authenticated else None


def anonymous(request):
    """Lets the request through unauthenticated (tried last): request.user stays AnonymousUser."""
    return True


session_auth = SessionAuth()
REQUIRED = [TokenAuth(), session_auth]
OPTIONAL = [TokenAuth(), session_auth, anonymous]
