"""The server caps request bodies itself (core.bodylimit around the ASGI and WSGI apps): a body declared larger
than REQUEST_BODY_MAX_BYTES is answered 413 before one byte is read; a chunked body is refused as it passes."""

from __future__ import annotations

import asyncio
import io
import json

from jianguan.core.bodylimit import BodyLimitASGI, BodyLimitWSGI, BodyTooLarge


class RecordingApp:
    """An ASGI app that reads the whole body, then answers 200 with its length."""

    def __init__(self):
        self.called = False

    async def __call__(self, scope, receive, send):
        self.called = True
        size = 0
        while True:
            message = await receive()
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(size).encode()})


def run_asgi(app, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]):
    scope = {"type": "http", "path": path, "headers": headers, "method": "POST"}
    pending = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    reads, sent = [], []

    async def receive():
        reads.append(1)
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, len(reads), dict(next(m["headers"] for m in sent if m["type"] == "http.response.start"))


def test_a_declared_length_over_the_cap_is_refused_before_reading():
    inner = RecordingApp()
    status, body, reads, headers = run_asgi(
        BodyLimitASGI(inner, 1000), "/api/projects/1/documents", [(b"content-length", b"209715200")], [b"x"]
    )
    assert status == 413 and reads == 0 and not inner.called
    assert json.loads(body) == {"code": "too_large", "detail": "请求体过大：上限 1 KB"}
    assert headers[b"connection"] == b"close"


def test_a_chunked_body_is_refused_when_it_passes_the_cap():
    inner = RecordingApp()
    status, body, reads, _ = run_asgi(BodyLimitASGI(inner, 1000), "/projects/1/documents/", [], [b"x" * 400] * 10)
    assert status == 413 and reads == 3  # the third chunk passes 1000 bytes: nothing after it is read
    assert "上传内容过大" in body.decode()


def test_a_body_within_the_cap_reaches_the_app():
    status, body, _, _ = run_asgi(
        BodyLimitASGI(RecordingApp(), 1000), "/api/x", [(b"content-length", b"800")], [b"x" * 800]
    )
    assert (status, body) == (200, b"800")


def test_a_content_length_that_is_not_a_number_is_refused():
    status, *_ = run_asgi(BodyLimitASGI(RecordingApp(), 1000), "/api/x", [(b"content-length", b"12abc")], [b""])
    assert status == 413


def test_other_connections_pass_untouched():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    asyncio.run(BodyLimitASGI(app, 10)({"type": "lifespan"}, None, None))
    assert seen == ["lifespan"]


def wsgi_call(app, environ):
    started = {}

    def start_response(status, headers):
        started["status"], started["headers"] = status, dict(headers)

    body = b"".join(app(environ, start_response))
    return started["status"], body


def test_wsgi_refuses_a_declared_length_over_the_cap_without_reading():
    class Unreadable(io.BytesIO):
        def read(self, *args):
            raise AssertionError("the body was read")

    def app(environ, start_response):
        raise AssertionError("the app was called")

    environ = {"CONTENT_LENGTH": "209715200", "PATH_INFO": "/api/x", "wsgi.input": Unreadable()}
    status, body = wsgi_call(BodyLimitWSGI(app, 1000), environ)
    assert status.startswith("413") and json.loads(body)["code"] == "too_large"


def test_wsgi_stops_a_body_without_a_declared_length_at_the_cap():
    stream = io.BytesIO(b"x" * 5000)

    def app(environ, start_response):
        while environ["wsgi.input"].read(400):
            pass
        start_response("200 OK", [])
        return [b"read"]

    status, body = wsgi_call(BodyLimitWSGI(app, 1000), {"PATH_INFO": "/x", "wsgi.input": stream})
    assert status.startswith("413") and "上传内容过大" in body.decode()
    assert stream.tell() == 1200  # three reads of 400: the third passed the cap and nothing more was read


def test_inside_django_the_wsgi_refusal_is_requestdatatoobig():
    from django.core.exceptions import RequestDataTooBig

    assert issubclass(BodyTooLarge, RequestDataTooBig)  # so Django and the API answer it (413 in the API)
