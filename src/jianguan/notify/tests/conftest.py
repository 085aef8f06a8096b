"""A real local HTTP server playing a DingTalk/WeCom group robot, and the outbox's test settings."""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Robot:
    """Answers POSTs like a group robot. `mode`: "ok" (errcode 0), "500" (HTTP 500), "errcode" (errcode 310000).
    Every request is kept in `requests` (path, query, content type, JSON body)."""

    def __init__(self, port: int = 0):
        self.mode = "ok"
        self.requests: list[dict] = []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                split = urllib.parse.urlsplit(self.path)
                robot.requests.append(
                    {
                        "path": split.path,
                        "query": dict(urllib.parse.parse_qsl(split.query)),
                        "content_type": self.headers.get("Content-Type", ""),
                        "json": json.loads(body),
                    }
                )
                if robot.mode == "500":
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                reply = {"errcode": 0, "errmsg": "ok"}
                if robot.mode == "errcode":
                    reply = {"errcode": 310000, "errmsg": "sign not match"}
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, token: str = "T0K") -> str:
        return f"http://127.0.0.1:{self.port}/robot/send?access_token={token}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    """A port nobody listens on (connection refused), usable for a server started later."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def start_robot():
    robots: list[Robot] = []

    def start(port: int = 0) -> Robot:
        robot = Robot(port)
        robots.append(robot)
        return robot

    yield start
    for robot in robots:
        robot.stop()


@pytest.fixture
def robot(start_robot):
    return start_robot()


@pytest.fixture(autouse=True)
def outbox_settings(settings, monkeypatch):
    settings.NOTIFY_EMAIL = True
    settings.SITE_URL = "https://jg.example.gov.cn"
    settings.NOTIFY_WEBHOOK_TIMEOUT_SECONDS = 2
    settings.NOTIFY_MAX_ATTEMPTS = 10
    settings.NOTIFY_RETRY_BASE_SECONDS = 60
    settings.NOTIFY_RETRY_MAX_SECONDS = 3600
    # The robot is local: never through a proxy a developer's shell may have set.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
