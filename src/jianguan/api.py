"""The REST API: one NinjaAPI, a router per room. OpenAPI at /api/openapi.json, docs at /api/docs."""

import logging

from django.conf import settings
from django.core import signals
from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from jianguan.accounts.auth import REQUIRED, CsrfFailed
from jianguan.accounts.services import LoginLocked
from jianguan.accounts.throttle import locked_message
from jianguan.projects.documents import UploadRejected
from jianguan.projects.lifecycle import TransitionError
from jianguan.sites.devices.guarding import TokenThrottled

api = NinjaAPI(
    title="JianGuan 监管 API",
    version="1",
    description="临沂市建设工程监管平台接口。认证：浏览器会话（Cookie + CSRF）或 `Authorization: Bearer <token>`。",
    auth=REQUIRED,
    urls_namespace="api",
)


def _error(request, status: int, code: str, message: str, fields: dict | None = None):
    body = {"code": code, "detail": message}
    if fields:
        body["fields"] = fields
    return api.create_response(request, body, status=status)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return _error(request, 422, "invalid", "；".join(m for ms in fields.values() for m in ms), fields)


@api.exception_handler(NinjaValidationError)
def on_request_invalid(request, exc: NinjaValidationError):
    # Same shape as every other error: code, a readable detail, and messages per field.
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path", "form", "payload")]
        fields.setdefault(".".join(loc) or "__all__", []).append(err.get("msg", "invalid"))
    detail = "；".join(f"{k}: {'，'.join(v)}" for k, v in fields.items())
    return _error(request, 422, "invalid", f"请求参数有误：{detail}", fields)


@api.exception_handler(PermissionDenied)
def on_permission_denied(request, exc):
    return _error(request, 403, "forbidden", str(exc) or "无权操作")


@api.exception_handler(ObjectDoesNotExist)
def on_not_found(request, exc):
    return _error(request, 404, "not_found", "对象不存在或无权查看")


@api.exception_handler(TransitionError)
def on_transition_error(request, exc: TransitionError):
    return _error(request, 409, exc.code, exc.message)


@api.exception_handler(UploadRejected)
def on_upload_rejected(request, exc: UploadRejected):
    return _error(request, 400, "upload_rejected", exc.message)


@api.exception_handler(LoginLocked)
def on_login_locked(request, exc):
    return _error(request, 429, "locked", locked_message())


@api.exception_handler(TokenThrottled)
def on_device_token_throttled(request, exc: TokenThrottled):
    response = _error(request, 429, "throttled", str(exc))
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(MultiPartParserError)
def on_bad_multipart(request, exc):
    return _error(request, 400, "bad_request", f"无法解析的 multipart 请求体：{exc}")


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return _error(request, 401, "unauthenticated", "请先登录或提供有效的访问令牌")


@api.exception_handler(CsrfFailed)
def on_csrf_failed(request, exc):
    detail = "CSRF 校验失败：浏览器会话中的写操作须带 X-CSRFToken 请求头（取自 csrftoken Cookie），或改用 Bearer 令牌"
    return _error(request, 403, "csrf_failed", detail)


# ninja's own HttpErrors (e.g. "Cannot parse request body" for a body that is not JSON), in our format.
HTTP_ERROR_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 429: "throttled"}


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    code = HTTP_ERROR_CODES.get(exc.status_code, "error")
    if exc.message.startswith("Cannot parse request body"):
        return _error(request, 400, "bad_request", "无法解析请求体：须为合法的 JSON（Content-Type: application/json）")
    return _error(request, exc.status_code, code, exc.message)


@api.exception_handler(Http404)
def on_http404(request, exc):
    return _error(request, 404, "not_found", "对象不存在或无权查看")


@api.exception_handler(RequestDataTooBig)
def on_body_too_big(request, exc):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _error(request, 413, "too_large", f"请求体过大：上限 {limit / 1048576:.0f} MB")


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request, exc):
    # Too many fields or files, a malformed header: the client's fault, said without the details.
    return _error(request, 400, "bad_request", "请求无法处理（字段或文件过多，或格式有误）")


@api.exception_handler(OverflowError)
def on_overflow(request, exc):
    # A safety net behind the bounded schema types (core.schemas.Id): a number too large for the database.
    return _error(request, 422, "invalid", "请求参数有误：数值超出范围")


log = logging.getLogger("jianguan.api")


@api.exception_handler(Exception)
def on_server_error(request, exc):
    """A bug: logged with its traceback and reported like any uncaught error (the test client re-raises it),
    but the client gets our format and never a traceback, in the demo (DEBUG) too."""
    log.error("API error on %s %s", request.method, request.path, exc_info=exc)
    signals.got_request_exception.send(sender=None, request=request)
    return _error(request, 500, "server_error", "服务器内部错误，已记录；请稍后再试")


def _mount() -> None:
    from jianguan.accounts.api import router as accounts_router
    from jianguan.core.api import router as core_router
    from jianguan.ledger.api import router as ledger_router
    from jianguan.projects.api import public_router
    from jianguan.projects.api import router as projects_router
    from jianguan.registry.api import router as registry_router
    from jianguan.review.api import public_router as review_public_router
    from jianguan.review.api import router as review_router
    from jianguan.sites.api import router as sites_router

    api.add_router("/", accounts_router)
    api.add_router("/", core_router)
    api.add_router("/", registry_router)
    api.add_router("/", projects_router)
    api.add_router("/public", public_router)
    api.add_router("/", review_router)
    api.add_router("/public", review_public_router)
    api.add_router("/", ledger_router)
    api.add_router("/", sites_router)


_mount()
__all__ = ["api"]
