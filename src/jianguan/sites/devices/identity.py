"""Device identities for the ingest paths: the keyed password hash, and the HJ 212 gateway's cache of active
devices (MN → id, password hash, dialect), asked on every frame."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time

from django.conf import settings

from ..models import Device
from ..protocols import hj212

DIALECTS = {Device.Dialect.STANDARD: hj212.STANDARD, Device.Dialect.LENIENT: hj212.LENIENT}


def password_hash(password: str) -> str:
    # Keyed and fast: checked on every packet (a slow KDF would cap the gateway), never reversible.
    key = hashlib.sha256(b"jianguan-device-pw\x00" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, password.encode(), hashlib.sha256).hexdigest()


_cache_lock = threading.Lock()
# MN → (pk, password hash, dialect), or None for an MN no active device has. Reloaded in one query when older
# than IDENTITY_TTL, so a device registered, changed or retired in another process (the web pages) is seen
# by a running gateway within that time; in this process at once (invalidate_cache).
IDENTITY_TTL = 60.0
_identity_cache: dict[str, tuple[int, str, str] | None] = {}
_identity_loaded_at = 0.0


def invalidate_cache() -> None:
    global _identity_loaded_at
    with _cache_lock:
        _identity_cache.clear()
        _identity_loaded_at = 0.0


def _identity_fresh() -> bool:
    return time.monotonic() - _identity_loaded_at < IDENTITY_TTL


def identity_for(mn: str) -> tuple[int, str, str] | None:
    """The active HJ 212 device's (pk, password hash, dialect), from the cache or the database."""
    if not _identity_fresh():
        warm_identity_cache()
    with _cache_lock:
        if mn in _identity_cache:
            return _identity_cache[mn]
    row = (
        Device.objects.filter(mn=mn, protocol=Device.Protocol.HJ212, retired_at__isnull=True)
        .values_list("pk", "password_hash", "dialect")
        .first()
    )
    with _cache_lock:
        _identity_cache[mn] = row  # an unknown MN too: a flood of its frames costs no queries
    return row


def warm_identity_cache() -> int:
    """Loads every active HJ 212 identity in one query (a gateway starting with thousands of devices
    connecting at once would otherwise look each up on its first frame); again every IDENTITY_TTL."""
    global _identity_loaded_at
    rows = (
        Device.objects.filter(protocol=Device.Protocol.HJ212, retired_at__isnull=True)
        .exclude(mn=None)
        .values_list("mn", "pk", "password_hash", "dialect")
    )
    fresh = {mn: tuple(identity) for mn, *identity in rows}
    with _cache_lock:
        _identity_cache.clear()
        _identity_cache.update(fresh)
        _identity_loaded_at = time.monotonic()
    return len(fresh)


def cached_identity(mn: str) -> tuple[int, str, str] | None:
    """The cached identity only (no database): lets the gateway's event loop skip a thread hop. None when
    not cached or the cache is due for a reload (the caller then asks identity_for in a thread)."""
    return _identity_cache.get(mn) if _identity_fresh() else None


_NOT_CACHED = object()


def cached_lookup(mn: str) -> tuple[bool, tuple[int, str, str] | None]:
    """(True, identity or None) when the cache knows the MN (None: no such active device, looked up before);
    (False, None) when it must be looked up (identity_for). No database: for the gateway's event loop."""
    if not _identity_fresh():
        return False, None
    found = _identity_cache.get(mn, _NOT_CACHED)  # one dict read (atomic): no lock, as on every frame
    return (False, None) if found is _NOT_CACHED else (True, found)


def password_matches(identity: tuple[int, str, str] | None, password: str | None) -> bool | None:
    """None for an unknown device, False for a wrong password."""
    if identity is None:
        return None
    return hmac.compare_digest(identity[1], password_hash(password or ""))


def dialect_of(identity: tuple[int, str, str] | None) -> hj212.Dialect | None:
    return DIALECTS.get(identity[2]) if identity else None


def authenticate(mn: str, password: str | None) -> bool | None:
    """None for an unknown MN, False for a wrong password."""
    return password_matches(identity_for(mn), password)


def device_for_mqtt(client_id: str) -> int | None:
    active = Device.objects.filter(mqtt_client_id=client_id, retired_at__isnull=True)
    return active.values_list("pk", flat=True).first()


def device_for_token(token: str) -> Device | None:
    if not token:
        return None
    return Device.objects.filter(token_hash=password_hash("token:" + token), retired_at__isnull=True).first()
