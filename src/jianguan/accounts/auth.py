"""API authentication: bearer tokens for machines, the session for browsers, and "optional" for public
endpoints that show more to a signed-in reader."""

from ninja.security import HttpBearer, django_auth

from .services import user_for_token


class TokenAuth(HttpBearer):
    """`Authorization: Bearer jg_…` for machine clients (tokens from POST /api/auth/token)."""

    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


def anonymous(request):
    """Lets the request through unauthenticated (tried last): request.user stays AnonymousUser."""
    return True


REQUIRED = [TokenAuth(), django_auth]
OPTIONAL = [TokenAuth(), django_auth, anonymous]
