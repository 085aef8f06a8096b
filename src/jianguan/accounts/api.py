import datetime as dt

from ninja import Field, Router, Schema

from jianguan.core.schemas import ApiError as ErrorOut
from jianguan.core.schemas import Id

from . import services, throttle
from .models import ApiToken, User
from .services import LoginLocked, login_with_password

router = Router(tags=["认证"])


class TokenIn(Schema):
    username: str = Field(min_length=1, max_length=User._meta.get_field("username").max_length)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field("api", min_length=1, max_length=ApiToken._meta.get_field("name").max_length)


class TokenOut(Schema):
    token: str
    prefix: str
    expires_at: dt.datetime


class TokenInfoOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime
    active: bool
    revoked: bool
    revoked_at: dt.datetime | None
    revoked_reason: str
    current: bool

    @staticmethod
    def resolve_active(obj):
        return obj.is_active

    @staticmethod
    def resolve_current(obj, context):
        return obj.pk == getattr(context["request"], "api_token_id", None)


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    role_label: str
    department: str | None
    enterprise_id: int | None
    enterprise: str | None


@router.post("/auth/token", auth=None, response={201: TokenOut, 401: ErrorOut, 429: ErrorOut})
def issue_token(request, payload: TokenIn):
    """Exchange a username and password for a bearer token (shown once). Failed attempts are throttled."""
    try:
        user = login_with_password(request, payload.username, payload.password)
    except LoginLocked:
        return 429, {"code": "locked", "detail": throttle.locked_message()}
    if user is None:
        return 401, {"code": "bad_credentials", "detail": "用户名或密码错误"}
    token, key = services.issue_token(user, payload.name)
    return 201, {"token": key, "prefix": token.prefix, "expires_at": token.expires_at}


@router.get("/auth/tokens", response=list[TokenInfoOut])
def list_tokens(request):
    """Your own API tokens (never the keys): purpose, prefix, created, last used, expiry, revoked and why;
    `current` marks the token this request came with."""
    return services.list_tokens(request.user)


@router.delete("/auth/tokens/{token_id}", response={200: TokenInfoOut, 403: ErrorOut, 404: ErrorOut})
def revoke_token(request, token_id: Id):
    """Revoke one of your own tokens at once (another user's token is 404)."""
    return services.revoke_token(request.user, token_id)


@router.get("/me", response=MeOut)
def me(request):
    u = request.user
    return {
        "username": u.username,
        "display_name": u.get_full_name(),
        "role": u.role,
        "role_label": u.get_role_display(),
        "department": str(u.department) if u.department_id else None,
        "enterprise_id": u.enterprise_id,
        "enterprise": str(u.enterprise) if u.enterprise_id else None,
    }
