"""The REST API: one NinjaAPI, a router per room. OpenAPI at /api/openapi.json, docs at /api/docs."""

import json
import logging
from functools import partial

from django.conf import settings
from django.core import signals
from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.http import Http404, HttpResponseNotAllowed, HttpResponseNotFound
from django.http.multipartparser import MultiPartParserError
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import BODY_CONTENT_TYPES, REF_TEMPLATE, OpenAPISchema
from ninja.operation import Operation
from ninja.parser import Parser
from ninja.schema import NinjaGenerateJsonSchema

from jianguan.accounts.auth import REQUIRED, CsrfFailed, SessionAuth, anonymous
from jianguan.accounts.services import LoginLocked
from jianguan.accounts.throttle import locked_message
from jianguan.core.schemas import ApiError
from jianguan.projects.documents import UploadRejected
from jianguan.projects.lifecycle import TransitionError
from jianguan.sites.devices.guarding import TokenThrottled

# --- The errors every operation documents --------------------------------------------------------------
#
# The exception handlers below answer the same errors on every route; which of them a route can give follows
# from its shape, so the OpenAPI schema documents them by one rule rather than in each decorator:
#   401  it requires authentication (no anonymous way through its auth methods);
#   403  it is a write a browser session may send (CSRF), and the permission layer (`may_…`) may refuse it;
#   404  it names an object in its path (not there, or not readable: the same answer);
#   422  it takes parameters or a body (refused by the schema, or by the model's and the service's rules);
#   400  it takes a body (not parseable as JSON or multipart, too many fields or files);
#   413  it takes a body (larger than the server's cap).
# A route documents in its decorator what its own services add (e.g. 403 for a part of a project a sharing rule
# does not grant, 409 for a lifecycle step in the wrong state, 429 for a locked login, 202 and 204) and its
# successes; both end in the schema, with `ApiError` as every error's body. 500 is documented nowhere: it is a
# bug. test_api_fuzz holds the schema to what the routes answer.

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ERROR_DESCRIPTIONS = {
    400: "请求体无法解析（bad_request）：须为合法的 JSON 或 multipart，字段与文件数量在限额内",
    401: "未认证（unauthenticated）：缺少、无效或已过期的令牌，或未登录",
    403: "无权操作（forbidden），或浏览器会话的写操作缺少 CSRF 令牌（csrf_failed）",
    404: "对象不存在或无权查看（not_found）",
    413: "请求体过大（too_large）",
    422: "参数或内容有误（invalid；fields 按字段说明），或不符合业务规则",
}


def error_statuses(operation: Operation) -> set[int]:
    """The errors a route can answer by its shape (the rule above)."""
    statuses: set[int] = set()
    auth = list(operation.auth_callbacks)
    if auth and anonymous not in auth:
        statuses.add(401)
    if set(operation.methods) & WRITE_METHODS and any(isinstance(a, SessionAuth) for a in auth):
        statuses.add(403)
    sources = {model.__ninja_param_source__ for model in operation.models}
    if "path" in sources:
        statuses.add(404)
    if sources:
        statuses.add(422)
    if sources & BODY_CONTENT_TYPES.keys() or "requestBody" in (operation.openapi_extra or {}):
        statuses |= {400, 413}
    return statuses


class DocumentedErrorsSchema(OpenAPISchema):
    """Ninja's OpenAPI document, with the errors of `error_statuses` added to each operation's responses (the
    route's own declarations stay as they are)."""

    def responses(self, operation: Operation) -> dict[int, dict]:
        result = super().responses(operation)
        for status in sorted(error_statuses(operation)):
            if status not in result:
                result[status] = {"content": {self.api.renderer.media_type: {"schema": self._api_error()}}}
            result[status]["description"] = ERROR_DESCRIPTIONS[status]
        return dict(sorted(result.items()))

    def _api_error(self) -> dict:
        if "ApiError" not in self.schemas:
            schema = ApiError.model_json_schema(
                ref_template=REF_TEMPLATE, schema_generator=NinjaGenerateJsonSchema, mode="serialization"
            )
            self.add_schema_definitions({"ApiError": schema})
        return {"$ref": REF_TEMPLATE.format(model="ApiError")}


class NotAJsonObject(ValueError):
    pass


NUL_REFUSED = "请求中含有空字符（\\0），无法处理"


class StrictParser(Parser):
    """A JSON body is an object, in strict JSON. Ninja would read `null`, `[]`, `1` or `"x"` as an object with
    no fields (a PATCH that changes nothing answers 200), and Python's json reads NaN and Infinity, which JSON
    does not have. Either is answered 400 bad_request (ninja's "Cannot parse request body", in our format).

    A list of files (e.g. a progress report's photos) sent as a text field is refused (422) rather than read as
    no files at all."""

    def parse_body(self, request):
        if b"\\u0000" in request.body:  # a NUL in a string: no database column can hold it
            raise NotAJsonObject(NUL_REFUSED)
        data = json.loads(request.body, parse_constant=self._refuse)
        if not isinstance(data, dict):
            raise NotAJsonObject("请求体须为 JSON 对象（{…}）")
        return data

    @staticmethod
    def _refuse(constant: str):
        raise ValueError(f"JSON 中没有 {constant}")

    def parse_querydict(self, data, list_fields, request):
        if any("\x00" in key or any("\x00" in str(v) for v in data.getlist(key)) for key in data):
            raise ValidationError({"__all__": NUL_REFUSED})
        if data is request.FILES:
            as_text = [name for name in list_fields if name not in data and name in request.POST]
            if as_text:
                raise ValidationError({name: "须以文件上传（multipart 中带 filename 的部分）" for name in as_text})
        return super().parse_querydict(data, list_fields, request)


JSON = "application/json; charset=utf-8"


def _error_body(code: str, detail: str) -> bytes:
    return json.dumps({"code": code, "detail": detail}, ensure_ascii=False).encode()


def _method_not_allowed(view) -> HttpResponseNotAllowed:
    methods = sorted({method for operation in view.operations for method in operation.methods})
    detail = f"该接口不支持此请求方法；可用：{'、'.join(methods)}"
    return HttpResponseNotAllowed(methods, content=_error_body("method_not_allowed", detail), content_type=JSON)


@csrf_exempt
def unknown_path(request, *args, **kwargs):
    return HttpResponseNotFound(_error_body("not_found", f"没有这个接口：{request.path}"), content_type=JSON)


class JianGuanAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None):
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return DocumentedErrorsSchema(self, path_prefix)

    def _get_urls(self):
        """Ninja's URLs, answering in the API's error format also where no operation is reached: a method the
        path does not have (405, with Allow) and a path under /api/ that does not exist (404)."""
        urls = super()._get_urls()
        for bound in self._get_bound_routers():
            for view in bound.path_operations.values():
                view._not_allowed = partial(_method_not_allowed, view)
        return [*urls, re_path(r"", unknown_path, name="unknown")]


api = JianGuanAPI(
    title="JianGuan 监管 API",
    version="1",
    description="临沂市建设工程监管平台接口。认证：浏览器会话（Cookie + CSRF）或 `Authorization: Bearer <token>`。",
    auth=REQUIRED,
    urls_namespace="api",
    parser=StrictParser(),
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
    if isinstance(exc.__cause__, NotAJsonObject):
        return _error(request, 400, "bad_request", str(exc.__cause__))
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
