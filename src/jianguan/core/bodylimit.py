"""The server's own cap on request bodies, around the whole application.

`BodyLimitASGI` wraps the ASGI app (asgi.py) and `BodyLimitWSGI` the WSGI app (wsgi.py). A body declared
larger than the cap (Content-Length) is answered 413 at once, before one byte of it is read; a body without
a declared length (chunked) is counted as it arrives and refused the moment it passes the cap. So nothing
behind them (Django's body spooling, the multipart parser, a view) ever sees more than the cap, and a client
cannot make the process buffer an upload of any size. API paths get the API's error format
(`{"code": "too_large", "detail": …}`), pages a short Chinese page.

Under WSGI the body is read inside Django's request handling, so a chunked body passing the cap there ends as
Django's RequestDataTooBig (413 in the API, 400 on pages); a declared length is refused here in both.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from django.core.exceptions import RequestDataTooBig

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(RequestDataTooBig):
    """Raised inside the wrapped app when a body without a declared length passes the cap."""


def _megabytes(n: int) -> str:
    return f"{n / 1048576:.0f} MB" if n >= 1048576 else f"{n / 1024:.0f} KB"


def refusal(path: str, max_bytes: int) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of the 413 answer."""
    detail = f"请求体过大：上限 {_megabytes(max_bytes)}"
    if path.startswith("/api/"):
        body = json.dumps({"code": "too_large", "detail": detail}, ensure_ascii=False).encode()
        content_type = "application/json"
    else:
        body = (
            '<!doctype html><html lang="zh-Hans"><meta charset="utf-8"><title>上传内容过大</title>'
            f'<h1>上传内容过大</h1><p>{detail}。请压缩或拆分文件后重新上传。</p><p><a href="/">返回首页</a></p>'
        ).encode()
        content_type = "text/html; charset=utf-8"
    # Connection: close, so the server does not read (and discard) the rest of the body to reuse the connection.
    headers = [("content-type", content_type), ("content-length", str(len(body))), ("connection", "close")]
    return 413, headers, body


def declared_length(value: str | bytes | None) -> int | None:
    """The Content-Length as a number; None when absent; -1 when it is not a number (refused as too large)."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    return int(text) if text.isdigit() else -1


class BodyLimitASGI:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = declared_length(headers.get(b"content-length"))
        if declared is not None and not 0 <= declared <= self.max_bytes:
            await self._refuse(scope, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        status, headers, body = refusal(scope.get("path", ""), self.max_bytes)
        raw = [(k.encode(), v.encode()) for k, v in headers]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})


class _LimitedInput:
    """wsgi.input that raises BodyTooLarge once more than `limit` bytes were read."""

    def __init__(self, stream: Any, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.read_bytes = 0

    def _count(self, data: bytes) -> bytes:
        self.read_bytes += len(data)
        if self.read_bytes > self.limit:
            raise BodyTooLarge
        return data

    def read(self, size: int = -1) -> bytes:
        return self._count(self.stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._count(self.stream.readline(size))

    def __iter__(self):
        return iter(self.readline, b"")


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BodyLimitWSGI:
    def __init__(self, app: WSGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        declared = declared_length(environ.get("CONTENT_LENGTH") or None)
        if declared is not None and not 0 <= declared <= self.max_bytes:
            return self._refuse(environ, start_response)
        environ["wsgi.input"] = _LimitedInput(environ["wsgi.input"], self.max_bytes)
        try:
            return self.app(environ, start_response)
        except BodyTooLarge:
            return self._refuse(environ, start_response)

    def _refuse(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        status, headers, body = refusal(environ.get("PATH_INFO", ""), self.max_bytes)
        start_response(f"{status} Request Entity Too Large", headers)
        return [body]
