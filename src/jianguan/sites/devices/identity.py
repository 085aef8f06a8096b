"""Device identities for the ingest paths: the keyed password hash, and the HJ 212 gateway's cache of active
devices (MN → id, password hash, dialect, allowed source networks), asked on every frame."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import threading
import time

from django.conf import settings

from ..models import Device, Network, parse_networks
from ..protocols import hj212

log = logging.getLogger(__name__)
Identity = tuple[int, str, str, tuple[Network, ...]]  # pk, password hash, dialect, allowed networks (empty: any)
NOWHERE = (ipaddress.ip_network("0.0.0.0/32"),)  # an allow-list that cannot be read admits nobody

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
_identity_cache: dict[str, Identity | None] = {}
_identity_loaded_at = 0.0


def invalidate_cache() -> None:
    global _identity_loaded_at
    with _cache_lock:
        _identity_cache.clear()
        _identity_loaded_at = 0.0


def _identity_fresh() -> bool:
    return time.monotonic() - _identity_loaded_at < IDENTITY_TTL


def _networks(mn: str, text: str) -> tuple[Network, ...]:
    try:
        return parse_networks(text)
    except ValueError:
        log.error("device %s: its allowed networks %r cannot be read; refusing it everywhere", mn, text)
        return NOWHERE


_COLUMNS = ("pk", "password_hash", "dialect", "allowed_networks")


def identity_for(mn: str) -> Identity | None:
    """The active HJ 212 device's (pk, password hash, dialect, networks), from the cache or the database."""
    if not _identity_fresh():
        warm_identity_cache()
    with _cache_lock:
        if mn in _identity_cache:
            return _identity_cache[mn]
    row = (
        Device.objects.filter(mn=mn, protocol=Device.Protocol.HJ212, retired_at__isnull=True)
        .values_list(*_COLUMNS)
        .first()
    )
    found = None if row is None else (row[0], row[1], row[2], _networks(mn, row[3]))
    with _cache_lock:
        _identity_cache[mn] = found  # an unknown MN too: a flood of its frames costs no queries
    return found


def warm_identity_cache() -> int:
    """Loads every active HJ 212 identity in one query (a gateway starting with thousands of devices
    connecting at once would otherwise look each up on its first frame); again every IDENTITY_TTL."""
    global _identity_loaded_at
    rows = (
        Device.objects.filter(protocol=Device.Protocol.HJ212, retired_at__isnull=True)
        .exclude(mn=None)
        .values_list("mn", *_COLUMNS)
    )
    fresh: dict[str, Identity | None] = {
        mn: (pk, pw, dialect, _networks(mn, nets)) for mn, pk, pw, dialect, nets in rows
    }
    with _cache_lock:
        _identity_cache.clear()
        _identity_cache.update(fresh)
        _identity_loaded_at = time.monotonic()
    return len(fresh)


def cached_identity(mn: str) -> Identity | None:
    """The cached identity only (no database): lets the gateway's event loop skip a thread hop. None when
    not cached or the cache is due for a reload (the caller then asks identity_for in a thread)."""
    return _identity_cache.get(mn) if _identity_fresh() else None


_NOT_CACHED = object()


def cached_lookup(mn: str) -> tuple[bool, Identity | None]:
    """(True, identity or None) when the cache knows the MN (None: no such active device, looked up before);
    (False, None) when it must be looked up (identity_for). No database: for the gateway's event loop."""
    if not _identity_fresh():
        return False, None
    found = _identity_cache.get(mn, _NOT_CACHED)  # one dict read (atomic): no lock, as on every frame
    return (False, None) if found is _NOT_CACHED else (True, found)


def password_matches(identity: Identity | None, password: str | None) -> bool | None:
    """None for an unknown device, False for a wrong password."""
    if identity is None:
        return None
    return hmac.compare_digest(identity[1], password_hash(password or ""))


def dialect_of(identity: Identity | None) -> hj212.Dialect | None:
    return DIALECTS.get(identity[2]) if identity else None


def source_allowed(identity: Identity | None, host: str) -> bool:
    """Whether the device may connect from `host` (its allow-list, if any; an IPv4 peer seen as IPv6 too)."""
    if identity is None or not identity[3]:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in identity[3])


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
