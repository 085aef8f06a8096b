"""Throttling of failed device authentications (no Django): token buckets per key (an MN, a peer address).

A key holds `capacity` tokens; every failure takes one and they come back at `capacity / window` per second, so
`capacity` failures in a burst, and then one per `window / capacity` seconds, are let through. While a key's
bucket is empty the key is blocked: the gateway refuses its attempts without checking them (a blocked key must
not be an oracle, or guessing would go on at the speed of the refusals). The moment a bucket empties starts an
*episode* (reported once: the district is alerted once, not per packet); it ends when the bucket is full again.

Memory is bounded: buckets that have refilled are dropped by `sweep()`, and when `max_keys` are held the
fullest half of the buckets outside an episode go first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["AuthThrottle", "FailureBuckets"]


@dataclass(frozen=True, slots=True)
class AuthThrottle:
    """The gateway's limits on failed authentications (docs/hj212.md, "Password guessing").

    mn_failures / ip_failures: failures per MN / per peer address within `window` seconds before the MN / the
    address is refused (an address gets more room: devices behind one carrier NAT share it).
    per_connection: failures on one connection before it is closed.
    failure_delay: seconds from a frame's arrival to the answer of a failed authentication, whatever the cause
    (it slows one connection's guessing and hides how long the check took).
    max_keys: buckets kept at most per kind (MNs, addresses).
    """

    mn_failures: int = 10
    ip_failures: int = 30
    window: float = 600.0
    per_connection: int = 3
    failure_delay: float = 1.0
    max_keys: int = 100_000

    def __post_init__(self) -> None:
        if min(self.mn_failures, self.ip_failures, self.per_connection, self.max_keys) < 1 or self.window <= 0:
            raise ValueError("AuthThrottle limits must be positive")
        if self.failure_delay < 0:
            raise ValueError("AuthThrottle.failure_delay must not be negative")


class FailureBuckets:
    """Token buckets of failures per key. Not thread-safe: used on the gateway's event loop only."""

    def __init__(
        self, capacity: int, window: float, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / window  # tokens back per second
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: dict[str, list[float]] = {}  # key -> [tokens, at, in episode (0/1)]

    def __len__(self) -> int:
        return len(self._buckets)

    def _level(self, entry: list[float], now: float) -> float:
        return min(self.capacity, entry[0] + (now - entry[1]) * self.rate)

    def blocked(self, key: str) -> bool:
        entry = self._buckets.get(key)
        return entry is not None and self._level(entry, self.clock()) < 1.0

    def fail(self, key: str) -> bool:
        """Counts one failure of `key`; True when it empties the bucket and so starts an episode."""
        now = self.clock()
        entry = self._buckets.get(key)
        if entry is None:
            if len(self._buckets) >= self.max_keys:
                self._shed(now)
            entry = self._buckets[key] = [self.capacity, now, 0.0]
        level = self._level(entry, now)
        episode = entry[2] if level < self.capacity else 0.0  # a full bucket: the last episode is over
        tokens = max(level - 1.0, 0.0)
        starts = tokens < 1.0 and not episode
        entry[:] = [tokens, now, 1.0 if starts or episode else 0.0]
        return starts

    def sweep(self) -> int:
        """Drops the buckets that have refilled (their keys are as if never seen). Returns how many."""
        now = self.clock()
        full = [key for key, entry in self._buckets.items() if self._level(entry, now) >= self.capacity]
        for key in full:
            del self._buckets[key]
        return len(full)

    def _shed(self, now: float) -> None:
        if self.sweep() and len(self._buckets) < self.max_keys:
            return
        calm = sorted(
            (key for key, entry in self._buckets.items() if not entry[2]),
            key=lambda key: -self._level(self._buckets[key], now),
        )
        for key in calm[: max(len(self._buckets) // 2, 1)]:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:  # all in an episode (a flood of keys): forget the oldest
            for key in list(self._buckets)[: len(self._buckets) // 2 or 1]:
                del self._buckets[key]
