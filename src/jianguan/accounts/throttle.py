"""Login throttling on the cache (Redis in production): failures counted per username and per client IP.

Small on purpose: the authentication backend (backends.ThrottledModelBackend) asks it for every password
presented (login page, API token endpoint, Django admin), with the same keys.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _keys(username: str, ip: str | None) -> list[str]:
    # The name as typed is any text of any length: hashed, it makes a short key of safe characters.
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()
    keys = [f"login-fail:user:{name}"]
    if ip:
        keys.append(f"login-fail:ip:{ip}")
    return keys


def is_locked(username: str, ip: str | None) -> bool:
    limit = settings.LOGIN_MAX_FAILURES
    user_key, *ip_key = _keys(username, ip)
    if (cache.get(user_key) or 0) >= limit:
        return True
    # An IP gets more room: several people may sit behind one office NAT.
    return bool(ip_key) and (cache.get(ip_key[0]) or 0) >= limit * 4


def register_failure(username: str, ip: str | None) -> None:
    for key in _keys(username, ip):
        if cache.add(key, 1, settings.LOGIN_FAILURE_WINDOW_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, settings.LOGIN_FAILURE_WINDOW_SECONDS)


def reset(username: str) -> None:
    cache.delete(_keys(username, None)[0])


def locked_message() -> str:
    minutes = max(1, round(settings.LOGIN_FAILURE_WINDOW_SECONDS / 60))
    return f"登录失败次数过多，请{minutes}分钟后再试。"
