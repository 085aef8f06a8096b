"""Puts the current request where services can see it (actor and IP for the audit trail)."""

from __future__ import annotations

from contextvars import ContextVar

from django.http import HttpRequest

current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


NUL_MESSAGE = "请求中含有空字符（\\0），无法处理"


class RefuseNulMiddleware:
    """Refuses a request whose query string or URL-encoded form carries a NUL character (%00): no database text
    can hold it (PostgreSQL raised on it: a 500), and no user types it. The API answers 422 in its own format;
    pages 400 with a short Chinese text. JSON bodies and multipart fields are checked by the API's parser;
    Django's form fields refuse NUL themselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw = request.META.get("QUERY_STRING", "")
        form = request.META.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
        if "%00" in raw or "\x00" in raw or "\x00" in request.path or (form and b"%00" in _body(request)):
            return _refusal(request)
        return self.get_response(request)


def _body(request) -> bytes:
    try:
        return request.body
    except Exception:  # over the size limit, or already read as a stream: the view's own checks answer
        return b""


def _refusal(request):
    from django.http import HttpResponse, JsonResponse

    if request.path.startswith("/api/"):
        # 422 invalid, as the API answers any parameter it cannot take (documented on every route with some)
        body = {"code": "invalid", "detail": NUL_MESSAGE, "fields": {"__all__": [NUL_MESSAGE]}}
        return JsonResponse(body, status=422, json_dumps_params={"ensure_ascii": False})
    return HttpResponse(NUL_MESSAGE, status=400, content_type="text/plain; charset=utf-8")
