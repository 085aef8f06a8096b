"""Issue 8, "One permission layer": every API route and every page answers each role of the demo cast as the
route table (table.py) says, for an object inside and one outside the role's scope; and the table lists every
route there is, so a new room cannot forget to say who may use its routes.

To add a route: one line in table.ROUTES (or DEVICE_ROUTES), see table.py's docstring. The world (world.py) is
built once per module; each request runs in a savepoint that is rolled back, so a write by one role is not
seen by the next."""

from __future__ import annotations

import json
import logging
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from jianguan.api import api as ninja_api
from jianguan.sites.alarms import live
from jianguan.sites.alarms.rules import invalidate_rules
from jianguan.sites.devices import identity
from jianguan.sites.models import DeviceChangeRequest

from . import table, world
from .table import ANON, ASK, FORBIDDEN, HIDDEN, LOGIN, MISSING, OK, ROLES, SEEN, Route

PAGE_CODES = {FORBIDDEN: 403, MISSING: 404}
API_CODES = {FORBIDDEN: (403, "forbidden"), MISSING: (404, "not_found"), ANON: (401, "unauthenticated")}


@pytest.fixture(scope="module")
def cast(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, in a transaction of its own that ends with the module."""
    requests_log = logging.getLogger("django.request")
    level = requests_log.level
    requests_log.setLevel(logging.ERROR)  # the table's thousand 403s and 404s are expected: no warning each
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("route-table")):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield world.build()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            invalidate_rules()
            identity.invalidate_cache()
            requests_log.setLevel(level)


@pytest.fixture(autouse=True)
def _media_root():
    """The world's files stay where it wrote them (the suite's fixture gives each test a media folder)."""


class FakePublisher:
    """Commands to sprinklers are published to nobody (the MQTT broker is not part of this table)."""

    @staticmethod
    def publish(topic: str, payload: dict) -> bool:
        return True


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    from jianguan.sites.actuators import commands

    monkeypatch.setattr(commands, "publisher", FakePublisher)
    monkeypatch.setattr(live, "USE_POLL_POOL", False)  # the stream's set-up in this thread's transaction


_client = Client()  # one handler for all requests: a new client loads the middleware (whitenoise scans files)


def client_for(cast, role: str, route_is_api: bool) -> Client:
    """The test client as the role: its bearer token on the API, its session on the pages (cookies reset:
    a logout or a message of the previous request does not carry over)."""
    _client.cookies = SimpleCookie()
    _client.defaults.pop("HTTP_AUTHORIZATION", None)
    if role != "anon":
        if route_is_api:
            _client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {cast.tokens[role]}"
        else:
            _client.cookies[settings.SESSION_COOKIE_NAME] = cast.sessions[role]
    return _client


def send(client: Client, route: Route, side):
    url, body = route.url(side), route.payload(side)
    if route.method == "GET":
        return client.get(url)
    if route.is_api and not route.multipart:
        return client.generic(route.method, url, json.dumps(body or {}), content_type="application/json")
    return client.post(url, body or {}) if route.method == "POST" else client.generic(route.method, url)


def body_text(response) -> str:
    if getattr(response, "streaming", False):
        if response.get("Content-Type", "").startswith("text/event-stream"):
            return ""  # a live stream: its status is the answer
        return b"".join(response.streaming_content).decode("utf-8-sig")
    if response.get("Content-Type", "").startswith("application/json"):
        return json.dumps(response.json(), ensure_ascii=False)  # names as they read, not \\u escapes
    return response.content.decode()


def mismatch(route: Route, expected: str, response, side) -> str | None:
    """Why the response is not the expected outcome (None when it is)."""
    status = response.status_code
    if expected == OK:
        return None if status == route.ok else f"wanted {route.ok}"
    if expected == ASK:
        wanted = (202,) if route.is_api else (200, 302)
        return None if status in wanted else f"wanted {' or '.join(map(str, wanted))} (a request)"
    if expected in (SEEN, HIDDEN):
        if status != 200:
            return "wanted 200"
        shown = str(getattr(side, route.marker)) in body_text(response)
        return None if shown == (expected == SEEN) else f"subject {'missing from' if shown is False else 'shown in'} it"
    if expected == LOGIN or (expected == ANON and not route.is_api):
        location = response.get("Location", "")
        return None if status == 302 and "/login/" in location else "wanted a redirect to a login page"
    if route.is_api:
        want_status, want_code = API_CODES[expected]
        code = response.json().get("code") if response.get("Content-Type", "").startswith("application/json") else None
        return None if (status, code) == (want_status, want_code) else f"wanted {want_status} {want_code}"
    return None if status == PAGE_CODES[expected] else f"wanted {PAGE_CODES[expected]}"


def try_route(cast, route: Route, role: str, side_name: str, expected: str) -> str | None:
    side = cast.sides[side_name]
    with transaction.atomic():
        before = route.effect(side) if route.effect else None
        asked = DeviceChangeRequest.objects.filter(state="pending").count()
        try:
            response = send(client_for(cast, role, route.is_api), route, side)
        except Exception as exc:  # a 500: the test client re-raises the view's exception
            transaction.set_rollback(True)
            return f"{role}@{side_name}: expected {expected}, raised {exc!r}"
        problem = mismatch(route, expected, response, side)
        if problem is None and route.effect is not None:
            changed = route.effect(side) != before
            if changed != (expected == OK):
                problem = "the change happened" if changed else "nothing changed"
        pending = DeviceChangeRequest.objects.filter(state="pending").count()
        if problem is None and expected == ASK and pending <= asked:
            problem = "no request was filed"
        transaction.set_rollback(True)
    invalidate_rules()
    if problem is None:
        return None
    detail = body_text(response)[:160].replace("\n", " ") if not getattr(response, "streaming", False) else ""
    return f"{role}@{side_name}: expected {expected}, got {response.status_code} ({problem}) {detail}"


def sides_to_try(route: Route, role: str) -> list[tuple[str, str]]:
    """Both sides; one when the request does not depend on the side (no object, no list to look into)."""
    pairs = list(zip(route.sides, route.expect[role], strict=True))
    same = not route.args and not route.query and pairs[0][1] == pairs[1][1] not in (SEEN, HIDDEN)
    return pairs[:1] if same else pairs


@pytest.mark.parametrize("route", table.ROUTES, ids=str)
def test_the_route_answers_each_role_as_the_table_says(cast, db, route):
    if not route.is_api:  # the filled-in URL reaches the row's own view (a typo would 404 for everyone)
        pattern = resolve(route.url(cast.sides["here"]).split("?")[0]).route
        assert "/" + pattern == route.path or route.path == "/admin/", pattern
    problems = [
        problem
        for role in ROLES
        for side_name, expected in sides_to_try(route, role)
        if (problem := try_route(cast, route, role, side_name, expected))
    ]
    assert not problems, f"{route} ({route.profile}):\n" + "\n".join(problems)


@pytest.mark.parametrize("route", table.DEVICE_ROUTES, ids=str)
def test_a_device_route_takes_only_an_active_devices_token(cast, db, route):
    side = cast.sides["here"]
    tokens = {
        "active": getattr(side, route.device),
        "retired": side.retired_token,
        "wrong": "jgd_" + "x" * 32,
        "none": None,
    }
    problems = []
    for name, expected in zip(table.TOKENS, route.expect, strict=True):
        with transaction.atomic():
            before = route.effect(side)
            headers = {"HTTP_X_DEVICE_TOKEN": tokens[name]} if tokens[name] else {}
            client = client_for(cast, "anon", True)
            response = client.post(route.path, route.payload(), content_type="application/json", **headers)
            changed = route.effect(side) != before
            transaction.set_rollback(True)
        want = (route.ok, None) if expected == OK else API_CODES[ANON]
        got = (response.status_code, response.json().get("code") if want[1] else None)
        if got != want or changed != (expected == OK):
            problems.append(f"{name} token: wanted {want}, got {got}, changed: {changed}")
    assert not problems, f"{route}:\n" + "\n".join(problems)


def test_a_monitors_token_is_no_gate(cast, db):
    side = cast.sides["here"]
    response = client_for(cast, "anon", True).post(
        "/api/ingest/gate",
        {"id_number": "110101199003077777", "direction": "in"},
        content_type="application/json",
        HTTP_X_DEVICE_TOKEN=side.spare_token,
    )
    assert response.status_code == 400 and response.json()["code"] == "not_a_gate"


# --- the table lists every route, and only routes that exist ---------------------------------------------


def api_routes() -> set[tuple[str, str]]:
    routes = set()
    for prefix, router in ninja_api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    routes.add((method, "/api" + (prefix.rstrip("/") + "/" + path.lstrip("/")).rstrip("/")))
    return routes


def page_patterns(patterns=None, prefix: str = "/") -> set[str]:
    """Every page URL pattern; the Django admin counts as one (/admin/); the API's own routes are not pages."""
    found = set()
    for entry in get_resolver("jianguan.urls").url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route == "/admin/":
                found.add(route)
            elif route == "/api/":
                found |= {route + str(p.pattern) for p in entry.url_patterns} & table.API_PAGES
            else:
                found |= page_patterns(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            found.add(route)
    return found


def listed_api() -> set[tuple[str, str]]:
    return {r.key for r in table.ROUTES if r.is_api} | {r.key for r in table.DEVICE_ROUTES}


def test_every_api_route_is_in_the_table():
    missing = sorted(api_routes() - listed_api())
    assert not missing, f"API routes without a row in the route table (core/tests/route_table/table.py): {missing}"


def test_every_page_is_in_the_table():
    missing = sorted(page_patterns() - {r.path for r in table.ROUTES if not r.is_api})
    assert not missing, f"pages without a row in the route table (core/tests/route_table/table.py): {missing}"


def test_the_table_lists_no_route_that_does_not_exist():
    pages = {r.path for r in table.ROUTES if not r.is_api}
    gone = sorted(listed_api() - api_routes()) + sorted(pages - page_patterns())
    assert not gone, f"rows for routes that no longer exist: {gone}"


def test_each_row_of_the_table_is_listed_once():
    rows = [str(r) for r in table.ROUTES]
    assert len(rows) == len(set(rows)), sorted(r for r in rows if rows.count(r) > 1)
