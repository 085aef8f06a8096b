"""Whole-response cache for the public portal (/public/ pages, /api/public/ API): what anyone may read, the same
for everyone, served from the cache (Redis in production, process memory in the demo) without touching the
session, the user or the database.

Invalidation is by generation: every cached response carries the generation token it was made under (read
with it in one round trip), and `invalidate()` (called by the projects room when something published changes;
again after its transaction commits) replaces the token, so every earlier entry is stale at once. The token is
random, not a counter: were it evicted from the cache, a new one can never bring back an old generation's entries.
PUBLIC_CACHE_SECONDS bounds an entry's life as a backstop (e.g. for bulk database edits made outside the
services).

Why not Django's cache middleware: it cannot be invalidated except by timeout, and it keys on the Vary headers
after the session middleware ran, so a hit still costs the session and user look-ups this one skips.
Why not django-cachalot or cacheops (query caches): a hit would still render the page or serialise the API
answer, which is where the time goes (docs/deployment.md, “Web tier figures”).
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse

GENERATION_KEY = "public-cache:generation"
# Path prefix → whether a request with a session cookie may be answered from the cache. The API's public
# answers are the same for everyone; a public page shows a signed-in user's name in its header.
PREFIXES = {"/api/public/": True, "/public/": False}


def generation() -> str:
    token = cache.get(GENERATION_KEY)
    if token is None:
        cache.add(GENERATION_KEY, secrets.token_hex(8), None)
        token = cache.get(GENERATION_KEY)
    return token


def _new_generation() -> None:
    cache.set(GENERATION_KEY, secrets.token_hex(8), None)


def invalidate() -> None:
    """Drops every cached public response now, and again once the current transaction (if any) has committed:
    a reader between the change and its commit would otherwise have cached the old state again."""
    _new_generation()
    transaction.on_commit(_new_generation)


def _key(request: HttpRequest) -> str:
    digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
    return f"public-cache:{request.method}:{digest}"


def _cacheable(request: HttpRequest) -> bool:
    if request.method not in ("GET", "HEAD") or settings.PUBLIC_CACHE_SECONDS <= 0:
        return False
    if "HTTP_HX_REQUEST" in request.META:  # htmx partials are not cached
        return False
    for prefix, shared in PREFIXES.items():
        if request.path.startswith(prefix):
            return shared or settings.SESSION_COOKIE_NAME not in request.COOKIES
    return False


class PublicCacheMiddleware:
    """Placed after the security and static-file middleware, before the session: a hit skips everything after."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _cacheable(request):
            return self.get_response(request)
        key = _key(request)
        found = cache.get_many([GENERATION_KEY, key])  # one round trip to Redis for both
        token = found.get(GENERATION_KEY) or generation()
        hit = found.get(key)
        if hit is not None and hit[0] == token:
            _, status, headers, content = hit
            response = HttpResponse(content, status=status)
            for name, value in headers:
                response[name] = value
            response["X-Cache"] = "hit"
            return response
        response = self.get_response(request)
        if response.status_code == 200 and not response.streaming and not response.cookies:
            headers = [(k, v) for k, v in response.items() if k.lower() != "set-cookie"]
            entry = (token, response.status_code, headers, response.content)
            cache.set(key, entry, settings.PUBLIC_CACHE_SECONDS)
            response["X-Cache"] = "miss"
        return response
