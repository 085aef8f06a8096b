"""Wires the pure HJ 212 gateway to the database.

Device identities come from a per-process cache on the event loop (a thread hop only on a miss). Packets
are not written one by one: each connection hands its packet's samples to the `BatchWriter` and waits;
the writer stores everything that arrived meanwhile in one transaction (one INSERT, one rule-state read)
and then wakes the connections, which answer their devices. The answer (9014) still means "stored":
a device whose packet could not be stored gets no answer and sends it again.

When the database is unreachable, batches go to a local disk spool (fsynced JSON lines) and the devices
are answered (their data is safe on disk); the writer replays the spool in order before any new batch
once the database is back. An outage delays data, never drops it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections

from ..devices import guarding, identity
from ..protocols.gateway import AuthThrottle, Gateway, GuessingEpisode
from . import store
from .spool import Spool

log = logging.getLogger("jianguan.sites.ingest")
OUTAGE = (OperationalError, InterfaceError)  # the database is away (not: our data is wrong)
IDLE_REPLAY = 5.0  # seconds: an idle writer replays the spool this often

_identity_in_thread = sync_to_async(identity.identity_for, thread_sensitive=True)


async def _identity(mn: str):
    # Cached (a device's, or the "no such device" of an MN looked up before): no database, no thread hop.
    # Otherwise (not cached, or the cache is due for its reload) the lookup runs in a thread: the event loop
    # never queries the database itself.
    hit, found = identity.cached_lookup(mn)
    return found if hit else await _identity_in_thread(mn)


async def authenticate(mn: str, password: str | None) -> bool | None:
    return identity.password_matches(await _identity(mn), password)


async def dialect_for(mn: str):
    return identity.dialect_of(await _identity(mn))


async def source_allowed(mn: str, peer) -> bool:
    return identity.source_allowed(await _identity(mn), peer.host)


class BatchWriter:
    """Collects the samples of many packets and stores them together (see the module's docstring).

    `max_batch` bounds a transaction's packets; `linger` is how long the writer waits for more packets
    when a batch is small (a little latency buys larger batches under load; 0 = never wait).
    """

    def __init__(
        self,
        store: Callable[[store.Batch], list[int]] = store.store_batch,
        *,
        max_batch: int = 2000,
        linger: float = 0.002,
        spool_path: Path | None = None,
        worker: str = "",
    ) -> None:
        self._store = sync_to_async(self._store_or_spool, thread_sensitive=True)
        self._replay_async = sync_to_async(self.replay_spool, thread_sensitive=True)
        self._store_batch = store
        self.max_batch = max_batch
        self.linger = linger
        self.spool = Spool(
            spool_path or Path(settings.VAR_DIR) / "spool" / f"hj212{'-' + worker if worker else ''}.jsonl"
        )
        self.dead_letters = Spool(self.spool.path.with_suffix(".rejected.jsonl"))
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._retry_at = 0.0
        self.retry_after = 2.0  # seconds between replay attempts while the database is away
        self.stats = {"batches": 0, "packets": 0, "stored": 0, "spooled": 0, "replayed": 0, "failed": 0}

    async def submit(self, device_id: int, samples: list[store.Sample]) -> None:
        """Returns once the samples are stored (or safely spooled); raises if neither was possible."""
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="hj212-batch-writer")
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((device_id, samples, future))
        await future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
            await sync_to_async(connections.close_all, thread_sensitive=True)()  # the writer thread's own

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            try:
                items = [await asyncio.wait_for(self._queue.get(), IDLE_REPLAY)]
            except TimeoutError:
                if len(self.spool):
                    await self._replay_async()
                continue
            if self.linger and self._queue.qsize() < self.max_batch:
                await asyncio.sleep(self.linger)
            while len(items) < self.max_batch and not self._queue.empty():
                items.append(self._queue.get_nowait())
            batch = [(device_id, samples) for device_id, samples, _ in items]
            try:
                failures = await self._store(batch)
            except BaseException as exc:  # every waiting connection learns of it; the writer goes on
                self.stats["failed"] += 1
                log.exception("hj212 batch of %d packets failed", len(items))
                failures = [exc if isinstance(exc, Exception) else RuntimeError(str(exc))] * len(items)
                if not isinstance(exc, Exception):
                    for *_, future in items:
                        if not future.done():
                            future.set_exception(failures[0])
                    raise
            for (*_, future), failure in zip(items, failures, strict=True):
                if future.done():
                    continue
                if failure is None:
                    future.set_result(None)
                else:
                    future.set_exception(failure)

    # --- the database side (one worker thread) -----------------------------------------------------

    def _store_or_spool(self, batch: store.Batch) -> list[Exception | None]:
        """Stores (or spools) the batch; returns per packet None or why it could not be stored."""
        self.stats["batches"] += 1
        self.stats["packets"] += len(batch)
        if len(self.spool) and not self._replay():
            self._spool(batch)  # keep the order: nothing new goes in before the spool is replayed
            return [None] * len(batch)
        try:
            self.stats["stored"] += sum(self._store_batch(batch))
        except OUTAGE as exc:
            log.warning("database unavailable (%s): spooling %d packets", exc, len(batch))
            close_old_connections()
            self._spool(batch)
        except Exception:
            if len(batch) == 1:
                raise
            # One bad packet (e.g. of a device deleted since its identity was cached) must not fail the
            # packets it shares the batch with: store them one by one, fail only the culprit.
            log.exception("hj212 batch of %d packets failed; storing them one by one", len(batch))
            identity.invalidate_cache()
            return [self._store_one(item) for item in batch]
        return [None] * len(batch)

    def _store_one(self, item) -> Exception | None:
        if len(self.spool):
            self._spool([item])  # the database went away meanwhile: keep the order
            return None
        try:
            self.stats["stored"] += sum(self._store_batch([item]))
        except OUTAGE:
            close_old_connections()
            self._spool([item])
        except Exception as exc:
            self.stats["failed"] += 1
            log.warning("hj212 packet of device %s not stored: %s", item[0], exc)
            return exc
        return None

    def _spool(self, batch: store.Batch) -> None:
        self.spool.append({"batch": [[device_id, [s.as_json() for s in samples]] for device_id, samples in batch]})
        self.stats["spooled"] += len(batch)

    def _replay(self) -> bool:
        """Replays the spool in order; True when it is empty afterwards."""
        if time.monotonic() < self._retry_at:
            return False

        def handle(record: dict) -> None:
            try:
                batch = [(d, [store.Sample.from_json(s) for s in samples]) for d, samples in record["batch"]]
                self._store_batch(batch)
            except OUTAGE:
                raise
            except Exception:  # a record that can never be stored must not block the ones behind it
                log.exception("hj212 spooled batch cannot be stored; moved to %s", self.dead_letters.path)
                self.dead_letters.append(record)
                return
            self.stats["replayed"] += len(batch)

        try:
            self.spool.replay(handle)
        except OUTAGE:
            close_old_connections()
            self._retry_at = time.monotonic() + self.retry_after  # don't hammer a database that is away
            return False
        return not len(self.spool)

    def replay_spool(self) -> bool:
        """For a periodic caller (and tests): replays what is spooled when the gateway is idle."""
        self._retry_at = 0.0
        return self._replay()


def auth_throttle() -> AuthThrottle:
    """The gateway's limits on failed authentications, from the settings (docs/configuration.md)."""
    return AuthThrottle(
        mn_failures=settings.HJ212_AUTH_MN_FAILURES,
        ip_failures=settings.HJ212_AUTH_IP_FAILURES,
        window=settings.HJ212_AUTH_WINDOW_SECONDS,
        per_connection=settings.HJ212_AUTH_CONNECTION_FAILURES,
        failure_delay=settings.HJ212_AUTH_FAILURE_DELAY_SECONDS,
    )


_announce_guessing = sync_to_async(guarding.announce_guessing, thread_sensitive=True)


async def on_guessing(episode: GuessingEpisode) -> None:
    """An MN's or an address's failures ran out: the district of a known device hears of it (once)."""
    await _announce_guessing(
        episode.kind, episode.key, str(episode.peer), episode.known, episode.failures, episode.window
    )


def build_gateway(
    host: str = "127.0.0.1", port: int = 9212, *, writer: BatchWriter | None = None, **options
) -> Gateway:
    writer = writer or BatchWriter()
    try:
        identity.warm_identity_cache()
    except OperationalError:  # the database is away at start: identities load on first frames instead
        log.warning("hj212 gateway starts without its device cache (database unavailable)")

    async def handle_packet(packet, peer) -> None:
        identity = await _identity(packet.mn)
        if identity is None:
            return
        samples = store.rows_from_packet(packet)
        if samples:
            await writer.submit(identity[0], samples)

    # The batch writer answers every waiting packet when its batch commits or fails, so no timer per packet
    # (a database that hangs holds the answers; the devices send again, and nothing is stored twice).
    options.setdefault("handler_timeout", None)
    options.setdefault("auth_throttle", auth_throttle())
    options.setdefault("on_guessing", on_guessing)
    options.setdefault("source_allowed", source_allowed)
    gateway = Gateway(host, port, handle_packet, authenticate, dialect_for, **options)
    gateway.on_close.append(writer.close)
    gateway.writer = writer  # type: ignore[attr-defined]  # for stats and tests
    return gateway
