"""Browser-test fixtures: Debian's chromium driven by Playwright (headless), and an ASGI live server.

pytest-django's `live_server` is a WSGI server: it serves the pages, but it buffers an async streaming response
(the live-alarm feed, server-sent events) until the stream ends. `asgi_live_server` serves the ASGI app with
uvicorn, as production does (docs/deployment.md), so such responses reach the browser as they are sent.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def login(page, base: str, username: str) -> None:
    """Signs a factory user in through the login page (the factories' password); the user lands on their home
    (an enterprise user's to-do list, everyone else's project list)."""
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-123456")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.startswith(f"{base}/projects/"))


@pytest.fixture
def browser(monkeypatch):
    if not os.path.exists(CHROMIUM):
        # CI installs chromium (./run test does it as root); elsewhere say clearly why this is skipped.
        if os.environ.get("CI"):
            raise RuntimeError("chromium is required for the browser tests in CI")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from django.db import connections

    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the ORM is used beside Playwright's event loop
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        # Inside sync_playwright the test body runs in another contextvars context, and Django keeps its
        # connections per context: close the one the test used there, or PostgreSQL's test database stays in use.
        connections.close_all()
        browser.close()


@pytest.fixture
def asgi_live_server(transactional_db, monkeypatch):
    """The ASGI app (static files included) served by uvicorn from a thread; yields its base URL.

    Like `live_server`, threads share the test's in-memory SQLite connection (a second connection to it would
    hit shared-cache table locks): the request threads, and asgiref's one thread for thread-sensitive work
    outside a request (the HJ 212 gateway's writer), which may keep a connection from an earlier test. With
    PostgreSQL each thread opens its own connection, closed when the server stops.
    """
    import uvicorn
    from asgiref.sync import SyncToAsync
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.core.asgi import get_asgi_application
    from django.db import connections

    from jianguan.sites.alarms import live

    shared = {c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()}
    for conn in shared.values():
        conn.inc_thread_sharing()
    create, opened = connections.create_connection, []

    def connection_for(alias):
        if alias in shared:
            return shared[alias]
        opened.append(create(alias))
        return opened[-1]

    monkeypatch.setattr(connections, "create_connection", connection_for)

    def share() -> None:
        for alias, conn in shared.items():
            connections[alias] = conn

    def unshare() -> None:  # the thread opens a connection of its own again when next needed
        for alias in shared:
            del connections[alias]

    sync_thread = SyncToAsync.single_thread_executor
    sync_thread.submit(share).result()
    live.reset_poll_pool()  # the live-alarm poll threads start afresh, with connections made as above

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        ASGIStaticFilesHandler(get_asgi_application()),
        loop="asyncio",
        lifespan="off",
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="asgi-live-server")
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the ASGI live server did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        live.reset_poll_pool()
        sync_thread.submit(unshare).result()
        for conn in opened:  # PostgreSQL: the server threads' connections, or the test database stays in use
            conn.inc_thread_sharing()
            conn.close()
        for conn in shared.values():
            conn.dec_thread_sharing()
