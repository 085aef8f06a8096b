"""Live alarms: the project page's alarm panel and the server-sent-events feed that keeps the alarm list and
that panel current without reloading (docs/operations.md, “实时告警 / Live alarms”).

The feed polls the database (every POLL_SECONDS) through `permissions.visible_alarms(user)`, so a user hears only
of alarms they may read. Alarms carry no "updated at" column, so each connection keeps a fingerprint of the
alarms it watches (open ones, new ones, and those acknowledged, cleared or resolved recently) and sends those
whose fingerprint changed. The SSE event id is a cursor "<highest alarm id>-<poll time in ms>": a browser that
reconnects sends it back (Last-Event-ID) and receives what may have changed meanwhile — alarms created after
the id, alarms acknowledged / cleared / resolved after the time, and the open alarms' current state (their
values and severity change without a timestamp). Clients replace rows by id, so a repeat is harmless.

The polls of all open streams share a small pool of threads (LIVE_ALARM_POLL_THREADS), each with its own
database connection (on PostgreSQL borrowed from the process's connection pool for the poll's duration only),
so a hundred regulators' open pages use a handful of connections rather than a hundred: a stream holds no
connection between polls. The request's own connection (session, user, the watch's setup) is
closed before streaming starts. A connection ends after MAX_SECONDS (the browser reconnects with its cursor).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections
from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from jianguan.accounts import sharing
from jianguan.projects import services as project_services

from .. import permissions
from ..models import Alarm

POLL_SECONDS = 2.0
HEARTBEAT_SECONDS = 15.0
MAX_SECONDS = 300.0  # then the stream ends and the browser reconnects (after RETRY_MS)
RETRY_MS = 3000
RECENT = dt.timedelta(minutes=15)  # closed alarms stay watched this long (cleared_at is device time)
SLACK = dt.timedelta(seconds=2)
WATCH_LIMIT = 200
OPEN_STATES = Alarm.OPEN_STATES
CLOSED_STATES = (Alarm.State.CLEARED, Alarm.State.RESOLVED)
PANEL_OPEN_LIMIT = 30
PANEL_CLOSED_LIMIT = 5


@dataclass(frozen=True)
class Cursor:
    last_id: int
    at: dt.datetime

    def __str__(self) -> str:
        return f"{self.last_id}-{int(self.at.timestamp() * 1000)}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        try:
            last_id, ms = (text or "").strip().split("-")
            return cls(int(last_id), dt.datetime.fromtimestamp(int(ms) / 1000, tz=dt.UTC))
        except (ValueError, OverflowError, OSError):
            return None


def _visible(user, project_id: int | None = None):
    qs = permissions.visible_alarms(user)
    return qs.filter(project_id=project_id) if project_id is not None else qs


def cursor_now(user, project_id: int | None = None) -> Cursor:
    """Where a freshly rendered page stands: its client asks the feed for what happens after this."""
    now = timezone.now()
    last_id = _visible(user, project_id).aggregate(m=Max("id"))["m"] or 0
    return Cursor(last_id, now)


def project_panel(user, project) -> dict:
    """The project page's alarms: every open one and the last few closed, with what the user may do."""
    qs = _visible(user, project.pk)
    can_ack, can_resolve = permissions.alarm_powers(user, project)
    cursor = cursor_now(user, project.pk)
    return {
        "open": list(qs.filter(state__in=OPEN_STATES)[:PANEL_OPEN_LIMIT]),
        "closed": list(
            qs.filter(state__in=CLOSED_STATES).order_by(
                Coalesce("resolved_at", "cleared_at", "raised_at").desc(), "-id"
            )[:PANEL_CLOSED_LIMIT]
        ),
        "can_ack": can_ack,
        "can_resolve": can_resolve,
        "cursor": str(cursor),
        "max_id": cursor.last_id,
        "stream_url": f"{reverse('sites:alarm_stream')}?project={project.pk}",
        "next": f"{reverse('projects:detail', args=[project.pk])}#site",
    }


def _fingerprint(alarm: Alarm) -> tuple:
    return (
        alarm.state,
        alarm.severity,
        alarm.last_value,
        alarm.peak_value,
        alarm.cleared_at,
        alarm.acknowledged_at,
        alarm.resolved_at,
        alarm.comment,
    )


def watch_for(user, project_id: int | None, cursor: Cursor | None = None, csrf_token: str = "") -> AlarmWatch:
    """The user's alarm feed, or one project's: Project.DoesNotExist (404) when the user cannot see the project,
    PermissionDenied (403) when its monitoring part is withheld. A department's read is logged with its rule."""
    project = None
    if project_id is None:
        sharing.note_read(user, permissions.MONITORING, what="实时告警推送")
    else:
        project = project_services.get_project_for(user, project_id, permissions.MONITORING, what="实时告警推送")
    return AlarmWatch(user, project=project, cursor=cursor, csrf_token=csrf_token)


class AlarmWatch:
    """One connection's view of the alarms: poll() returns those to send and the cursor after them."""

    def __init__(self, user, *, project=None, cursor: Cursor | None = None, csrf_token: str = ""):
        self.user, self.project, self.cursor = user, project, cursor
        self.project_id = project.pk if project is not None else None
        self.csrf_token = csrf_token
        self.seen: dict[int, tuple] = {}
        self.first = True
        self.can_ack, self.can_resolve = permissions.alarm_powers(user, project)

    def poll(self) -> tuple[list[Alarm], Cursor]:
        now = timezone.now()
        base = _visible(self.user, self.project_id)
        baseline = self.first and self.cursor is None
        replay = self.first and self.cursor is not None
        if baseline:  # no cursor: what exists now is the baseline, only later changes are sent
            self.cursor = Cursor(base.aggregate(m=Max("id"))["m"] or 0, now)
        since = now - RECENT
        if replay:  # a reconnect (or a page's cursor): look back to the cursor's time
            since = min(since, self.cursor.at - SLACK)
        watched = list(
            base.filter(
                Q(pk__gt=self.cursor.last_id)
                | Q(state__in=OPEN_STATES)
                | Q(acknowledged_at__gte=since)
                | Q(cleared_at__gte=since)
                | Q(resolved_at__gte=since)
            ).order_by("-id")[:WATCH_LIMIT]
        )
        watched.reverse()  # oldest first: the client prepends, so the newest ends on top
        if baseline:
            send = []
        elif replay:
            send = [a for a in watched if self._maybe_changed_since(a, self.cursor.at - SLACK)]
        else:
            send = [a for a in watched if self.seen.get(a.pk) != _fingerprint(a)]
        self.first = False
        self.seen = {a.pk: _fingerprint(a) for a in watched}
        self.cursor = Cursor(max([self.cursor.last_id, *(a.pk for a in watched)]), now)
        return send, self.cursor

    def _maybe_changed_since(self, alarm: Alarm, at: dt.datetime) -> bool:
        if alarm.pk > self.cursor.last_id or alarm.state in OPEN_STATES:
            return True
        if alarm.cleared_at is not None and alarm.cleared_at >= at - RECENT:  # device time may lag
            return True
        return any(t is not None and t >= at for t in (alarm.acknowledged_at, alarm.resolved_at))

    def render(self, alarm: Alarm) -> str:
        """One SSE event: the alarm's row as the page renders it (list row, or the project panel's item)."""
        if self.project is not None:
            template = "sites/_panel_alarm.html"
            next_url = f"{reverse('projects:detail', args=[self.project_id])}#site"
        else:
            template = "sites/_alarm_row.html"
            next_url = reverse("sites:alarms")
        html = render_to_string(
            template,
            {
                "a": alarm,
                "can_ack": self.can_ack,
                "can_resolve": self.can_resolve,
                "csrf_token": self.csrf_token,
                "next": next_url,
            },
        )
        data = {"id": alarm.pk, "project": alarm.project_id, "state": alarm.state, "html": html}
        return f"event: alarm\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"

    def poll_and_render(self) -> str:
        """The next chunk: changed alarms' events, then the cursor (an id without data moves Last-Event-ID;
        sent after the events, so a connection lost halfway replays the whole batch)."""
        baseline = self.first and self.cursor is None
        send, cursor = self.poll()
        if not send and not baseline:
            return ""
        return "".join(self.render(a) for a in send) + f"id: {cursor}\n\n"


T = TypeVar("T")
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_pool_connections: weakref.WeakSet = weakref.WeakSet()
USE_POLL_POOL = True  # off in the unit tests, whose data lives in the test thread's open transaction


def _poll_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(settings.LIVE_ALARM_POLL_THREADS, thread_name_prefix="live-alarms")
        return _pool


def _in_pool_thread(fn: Callable[[], T]) -> T:
    close_old_connections()  # like a request: drop a connection that broke or outlived CONN_MAX_AGE
    conn = connections[DEFAULT_DB_ALIAS]
    _pool_connections.add(conn)
    try:
        return fn()
    finally:
        if getattr(conn, "pool", None) is not None:
            conn.close()  # with the database pool (PostgreSQL), a poll borrows a connection only while it runs


async def run_poll(fn: Callable[[], T]) -> T:
    """Runs a stream's database work on the shared poll pool (see the module's doc)."""
    if not USE_POLL_POOL:
        return await sync_to_async(fn)()
    return await sync_to_async(_in_pool_thread, thread_sensitive=False, executor=_poll_pool())(fn)


def reset_poll_pool() -> None:
    """Closes the poll threads' database connections and ends the threads; the next poll starts new ones.
    For a test server's setup and teardown, when no stream is polling (a process exiting needs nothing)."""
    global _pool
    with _pool_lock:
        for conn in list(_pool_connections):
            conn.inc_thread_sharing()
            try:
                conn.close()
            finally:
                conn.dec_thread_sharing()
        _pool_connections.clear()
        if _pool is not None:
            _pool.shutdown(wait=True)
            _pool = None


async def stream(watch: AlarmWatch) -> AsyncIterator[str]:
    """The text/event-stream body: poll, send, heartbeat; end after MAX_SECONDS."""
    started = last_beat = time.monotonic()
    first = await run_poll(watch.poll_and_render)
    yield f"retry: {RETRY_MS}\n: 实时告警\n\n" + first
    while True:
        now = time.monotonic()
        if now - started >= MAX_SECONDS:
            return
        await asyncio.sleep(min(POLL_SECONDS, MAX_SECONDS - (now - started)))
        chunk = await run_poll(watch.poll_and_render)
        if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
            chunk += ": keep-alive\n\n"
            last_beat = time.monotonic()
        if chunk:
            yield chunk
