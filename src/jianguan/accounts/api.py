from ninja import Router, Schema

from . import throttle
from .models import ApiToken
from .services import LoginLocked, login_with_password

router = Router(tags=["认证"])


class TokenIn(Schema):
    username: str
    password: str
    name: str = "api"


class TokenOut(Schema):
    token: str
    prefix: str


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    role_label: str
    department: str | None
    enterprise_id: int | None
    enterprise: str | None


class ErrorOut(Schema):
    code: str
    detail: str


@router.post("/auth/token", auth=None, response={201: TokenOut, 401: ErrorOut, 429: ErrorOut})
def issue_token(request, payload: TokenIn):
    """Exchange a username and password for a bearer token (shown once). Failed attempts are throttled."""
    try:
        user = login_with_password(request, payload.username, payload.password)
    except LoginLocked:
        return 429, {"code": "locked", "detail": throttle.locked_message()}
    if user is None:
        return 401, {"code": "bad_credentials", "detail": "用户名或密码错误"}
    token, key = ApiToken.issue(user, payload.name[:100])
    return 201, {"token": key, "prefix": token.prefix}


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
