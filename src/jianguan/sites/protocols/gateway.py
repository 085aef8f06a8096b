"""Asyncio TCP gateway for HJ 212 devices (no Django).

Devices keep a TCP connection open and upload packets; the gateway frames, decodes, authenticates
and hands each valid packet to `handler` (the Django side stores the readings), then sends the answer
the packet's Flag asks for. Nothing a device sends can stop the server: bad frames, unknown devices,
wrong passwords and handler exceptions are logged, counted in `GatewayStats` and the connection goes on,
except that failed authentications are throttled (`AuthThrottle`, protocols/throttle.py): an unknown MN is
answered exactly like a wrong password, after the same delay; a connection is closed after a few failures;
an MN or a peer address whose failures run out is refused unchecked for a while, and `on_guessing` hears of
each such episode once.

Usage from Django (sync world)::

    gateway = Gateway("0.0.0.0", 9212, handler, authenticator, dialect_for_mn)
    stop = gateway.run_in_thread()
    ...
    stop()

See docs/hj212.md for what is answered when.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import inspect
import logging
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, TypeVar

from .framing import FrameBuffer
from .hj212 import (
    STANDARD,
    Dialect,
    HJ212Error,
    Packet,
    QnRtn,
    build_data_response,
    build_request_answer,
    decode,
    encode,
    peek_header,
    qn_rtn_for_error,
)
from .throttle import AuthThrottle, FailureBuckets

__all__ = ["AuthThrottle", "Gateway", "GatewayStats", "GuessingEpisode", "Peer", "new_event_loop", "send_packets"]

log = logging.getLogger("jianguan.sites.gateway")

_SMALL_INT = re.compile(r"[0-9]{1,3}")
_CN = re.compile(r"[0-9]{4}")

_T = TypeVar("_T")
MaybeAwaitable: TypeAlias = _T | Awaitable[_T]


@dataclass(frozen=True, slots=True)
class Peer:
    """The remote end of a device connection."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class GuessingEpisode:
    """An MN or a peer address whose failure bucket just emptied (AuthThrottle): reported once per episode."""

    kind: Literal["mn", "ip"]
    key: str  # the MN, or the peer's address
    peer: Peer  # the connection whose failure emptied the bucket
    known: bool | None  # kind "mn": whether a device has this MN (False for an unknown MN); None for "ip"
    failures: int  # the bucket's size: this many failures within `window` seconds
    window: float


Handler = Callable[[Packet, Peer], MaybeAwaitable[None]]
# (mn, pw) -> True (known device, right password), False (wrong password), None (unknown MN).
Authenticator = Callable[[str, str | None], MaybeAwaitable[bool | None]]
DialectResolver = Callable[[str], MaybeAwaitable[Dialect | None]]
SourceCheck = Callable[[str, Peer], MaybeAwaitable[bool]]
GuessingAlert = Callable[[GuessingEpisode], MaybeAwaitable[None]]
AnswerPolicy = Literal["requested", "always", "never"]


class GatewayStats:
    """Counters of one gateway. Updated on the gateway's loop; `snapshot()` is safe from any thread."""

    _COUNTERS = (
        "connections",  # accepted, in total
        "active_connections",
        "refused_connections",  # over max_connections
        "idle_timeouts",
        "frames_ok",  # decoded, authenticated, handed to the handler
        "unknown_device",
        "bad_password",
        "auth_refused",  # attempts refused unchecked: MN or address blocked (see `throttled`)
        "source_refused",  # right password, but from a network the device's allow-list does not hold
        "handler_errors",  # handler raised or timed out
        "responses_sent",  # 9014 data responses
        "error_answers_sent",  # 9011 answers to rejected frames
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.connections = 0
        self.active_connections = 0
        self.refused_connections = 0
        self.idle_timeouts = 0
        self.frames_ok = 0
        self.unknown_device = 0
        self.bad_password = 0
        self.auth_refused = 0
        self.source_refused = 0
        self.handler_errors = 0
        self.responses_sent = 0
        self.error_answers_sent = 0
        self.frames_rejected: Counter[str] = Counter()  # by HJ212Error.reason (and "auth_error")
        self.deviations: defaultdict[str, Counter[str]] = defaultdict(Counter)  # MN -> deviation -> n
        # Throttling of failed authentications, by reason: mn_blocked, ip_blocked (attempts refused unchecked,
        # connection closed), connection_failures (connections closed after too many failures).
        self.throttled: Counter[str] = Counter()
        self.guessing_episodes: Counter[str] = Counter()  # by kind: mn_known, mn_unknown, ip

    def incr(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def reject(self, reason: str) -> None:
        with self._lock:
            self.frames_rejected[reason] += 1

    def throttle(self, reason: str) -> None:
        with self._lock:
            self.throttled[reason] += 1

    def episode(self, kind: str) -> None:
        with self._lock:
            self.guessing_episodes[kind] += 1

    def deviated(self, mn: str, deviations: Iterable[str]) -> None:
        with self._lock:
            self.deviations[mn].update(deviations)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            data: dict[str, Any] = {name: getattr(self, name) for name in self._COUNTERS}
            data["frames_rejected"] = dict(self.frames_rejected)
            data["deviations"] = {mn: dict(counts) for mn, counts in self.deviations.items()}
            data["throttled"] = dict(self.throttled)
            data["guessing_episodes"] = dict(self.guessing_episodes)
        return data


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop where installed (libuv: about twice the packets per CPU second of the standard
    loop for this many small reads and writes), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def _resolve(value: MaybeAwaitable[_T]) -> _T:
    if inspect.isawaitable(value):
        return await value
    return value


def _peer_of(writer: asyncio.StreamWriter) -> Peer:
    name = writer.get_extra_info("peername")
    if isinstance(name, tuple) and len(name) >= 2:
        return Peer(str(name[0]), int(name[1]))
    return Peer(str(name), 0)


class _Outcome(enum.Enum):
    REFUSED = "refused"  # an attempt refused unchecked (blocked MN or address): the connection is closed
    AUTH_ERROR = "auth_error"  # the authenticator failed (our fault): no answer, nothing counted


_REFUSED, _AUTH_ERROR = _Outcome.REFUSED, _Outcome.AUTH_ERROR
Verdict = bool | _Outcome | None


class _Connection:
    """One device connection's state: its failed authentications and the (MN, PW) pairs that passed on it."""

    __slots__ = ("_verified", "failures", "peer", "writer")

    def __init__(self, peer: Peer, writer: asyncio.StreamWriter) -> None:
        self.peer, self.writer = peer, writer
        self.failures = 0
        self._verified: set[tuple[str, str | None]] = set()

    def verified(self, mn: str, pw: str | None) -> bool:
        return (mn, pw) in self._verified

    def verify(self, mn: str, pw: str | None) -> None:
        if len(self._verified) < 16:  # a connection is one device (a few for a data logger), not a directory
            self._verified.add((mn, pw))


class Gateway:
    """HJ 212 TCP server.

    Args:
        host, port: where to listen (port 0 picks a free port; read `port` after `start()`).
        handler: `handler(packet, peer)`, sync or async, gets every decoded and authenticated packet
            (uploads and the device's own 9011/9012 answers). Its exception is logged and counted, and
            no data response is sent, so the device sends the packet again; an `HJ212Error` from it
            rejects the packet like a decode error (counted by reason, answered where the table has a code).
        authenticator: `authenticator(mn, pw)`, sync or async: True = accept, False = wrong password,
            None = unknown device. None accepts everything (tests, demo).
        dialect_for_mn: `dialect_for_mn(mn)`, sync or async, the device model's `Dialect`; None or a
            None result means `STANDARD`.
        idle_timeout: seconds without a byte before a connection is closed. The default outlasts the
            slowest real-time interval the standard allows (3600 s).
        handler_timeout: seconds the handler may take per packet (None: no limit).
        answer_errors: when to answer a rejected frame with 9011 (see docs/hj212.md): "requested" only
            if its Flag asked for an answer, "always", or "never".
        max_connections: further connections are closed at once and counted as refused.
        auth_throttle: limits on failed authentications per MN, per peer address and per connection, and the
            uniform delay of their answers (`AuthThrottle`; None: no limits, only for tests and trusted networks).
        on_guessing: `on_guessing(GuessingEpisode)`, sync or async, told once per episode when an MN's or an
            address's failures exhaust its allowance (run as a task: it never holds up a connection).
        source_allowed: `source_allowed(mn, peer)`, sync or async, asked once per connection after a device's
            password passed: False refuses it exactly like a wrong password (answer, delay, counting), so that
            a guesser outside the allowed networks cannot tell a right password from a wrong one.

    Sync callables run on the event loop: keep them fast (cache) or pass coroutines
    (e.g. `asgiref.sync.sync_to_async`) for database work.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        handler: Handler | None = None,
        authenticator: Authenticator | None = None,
        dialect_for_mn: DialectResolver | None = None,
        *,
        idle_timeout: float = 3900.0,
        handler_timeout: float | None = 30.0,
        answer_errors: AnswerPolicy = "requested",
        max_connections: int = 10_000,
        read_size: int = 4096,
        logger: logging.Logger | None = None,
        auth_throttle: AuthThrottle | None = AuthThrottle(),  # noqa: B008  (frozen: one shared default is fine)
        on_guessing: GuessingAlert | None = None,
        source_allowed: SourceCheck | None = None,
    ) -> None:
        if answer_errors not in ("requested", "always", "never"):
            raise ValueError("answer_errors must be 'requested', 'always' or 'never'")
        self.host = host
        self._requested_port = port
        self.handler = handler
        self.authenticator = authenticator
        self.dialect_for_mn = dialect_for_mn
        self.idle_timeout = idle_timeout
        self.handler_timeout = handler_timeout
        self.answer_errors: AnswerPolicy = answer_errors
        self.max_connections = max_connections
        self.read_size = read_size
        self.log = logger or log
        self.stats = GatewayStats()
        self.auth_throttle = auth_throttle
        self.on_guessing = on_guessing
        self.source_allowed = source_allowed
        limits = auth_throttle or AuthThrottle()
        self._mn_failures = FailureBuckets(limits.mn_failures, limits.window, max_keys=limits.max_keys)
        self._ip_failures = FailureBuckets(limits.ip_failures, limits.window, max_keys=limits.max_keys)
        self._alerts: set[asyncio.Task[None]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writers: dict[str, asyncio.StreamWriter] = {}  # MN -> its latest connection
        self._closed: asyncio.Event | None = None
        # Idle connections are found by one watchdog, not a timer per read (a timer armed and cancelled on
        # every read cost a sixth of the gateway's CPU under load). Per connection task: [last read, busy].
        self._activity: dict[asyncio.Task[Any], list[Any]] = {}
        self._idle_closed: set[asyncio.Task[Any]] = set()
        self._watchdog: asyncio.Task[None] | None = None
        # Coroutines awaited by close(), after the connections (e.g. the handler's batch writer).
        self.on_close: list[Callable[[], Awaitable[None]]] = []

    # ---- lifecycle ------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (after `start()`)."""
        if self._server is None or not self._server.sockets:
            return self._requested_port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        if self._server is not None:
            return
        self.loop = asyncio.get_running_loop()
        self._closed = asyncio.Event()
        self._server = await asyncio.start_server(self._on_connection, self.host, self._requested_port)
        self._watchdog = self.loop.create_task(self._watch_idle(), name="hj212-idle-watchdog")
        self.log.info("hj212 gateway listening on %s:%s", self.host, self.port)

    async def _watch_idle(self) -> None:
        assert self.loop is not None
        interval = min(max(self.idle_timeout / 4, 0.02), 30.0)
        while True:
            await asyncio.sleep(interval)
            deadline = self.loop.time() - self.idle_timeout
            for task, (last, busy) in list(self._activity.items()):
                if not busy and last < deadline and task not in self._idle_closed:
                    self._idle_closed.add(task)
                    task.cancel()
            self._mn_failures.sweep()  # refilled buckets: episodes over, memory back
            self._ip_failures.sweep()

    async def serve_forever(self) -> None:
        """Start if needed and run until `close()`."""
        await self.start()
        assert self._closed is not None
        await self._closed.wait()

    async def close(self) -> None:
        """Stop listening, close every connection, wait for their tasks."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        if self._watchdog is not None:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)
            self._watchdog = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*self._alerts, return_exceptions=True)
        for callback in self.on_close:
            try:
                await callback()
            except Exception:
                self.log.exception("hj212 close callback failed")
        await server.wait_closed()
        self._writers.clear()
        if self._closed is not None:
            self._closed.set()
        self.log.info("hj212 gateway closed")

    def run_in_thread(self, *, timeout: float = 10.0) -> Callable[[], None]:
        """Serve from a daemon thread with its own event loop; return a `stop()` that closes it.

        Raises the start error (e.g. port in use) in the caller's thread.
        """
        loop = new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []
        stop_event: asyncio.Event | None = None

        async def main() -> None:
            nonlocal stop_event
            stop_event = asyncio.Event()
            try:
                await self.start()
            except BaseException as exc:  # reported to the caller below
                failure.append(exc)
                started.set()
                return
            started.set()
            await stop_event.wait()
            await self.close()

        def target() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(main())
            finally:
                loop.close()

        thread = threading.Thread(target=target, name="hj212-gateway", daemon=True)
        thread.start()
        if not started.wait(timeout):
            raise RuntimeError("hj212 gateway did not start in time")
        if failure:
            thread.join(timeout)
            raise failure[0]

        def stop() -> None:
            if thread.is_alive() and stop_event is not None:
                with contextlib.suppress(RuntimeError):  # loop already closed
                    loop.call_soon_threadsafe(stop_event.set)
            thread.join(timeout)

        return stop

    # ---- platform -> device ---------------------------------------------------------------------

    async def send(self, mn: str, packet: Packet | bytes) -> bool:
        """Send a packet (e.g. a 1012 set-time request) to the device's latest connection.

        Returns False when the device has no open connection. Call on the gateway's loop (from another
        thread: `asyncio.run_coroutine_threadsafe(gateway.send(...), gateway.loop)`).
        """
        writer = self._writers.get(mn)
        if writer is None or writer.is_closing():
            return False
        await self._write(writer, encode(packet) if isinstance(packet, Packet) else bytes(packet))
        return True

    # ---- connections ----------------------------------------------------------------------------

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _peer_of(writer)
        if self.stats.active_connections >= self.max_connections:
            self.stats.incr("refused_connections")
            self.log.warning("hj212 refused %s: %d connections open", peer, self.stats.active_connections)
            writer.close()
            return
        if self.auth_throttle is not None and self._ip_failures.blocked(peer.host):
            self._refuse("ip_blocked", peer, None)
            writer.close()
            return
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self.stats.incr("connections")
        self.stats.incr("active_connections")
        self.log.debug("hj212 connection from %s", peer)
        frames = FrameBuffer()
        conn = _Connection(peer, writer)
        assert self.loop is not None
        activity: list[Any] = [self.loop.time(), False]  # last read, busy with a frame
        if task is not None:
            self._activity[task] = activity
        try:
            while True:
                data = await reader.read(self.read_size)
                activity[0] = self.loop.time()
                if not data:
                    for error in frames.close():
                        self._framing_error(error, peer)
                    break
                activity[1] = True
                for item in frames.feed(data):
                    if isinstance(item, HJ212Error):
                        self._framing_error(item, peer)
                    elif not await self._on_frame(item, conn):
                        return  # refused: closed below, the rest of what it sent unread
                activity[:] = [self.loop.time(), False]
        except asyncio.CancelledError:
            if task not in self._idle_closed:
                raise  # the gateway is closing
            self.stats.incr("idle_timeouts")
            self.log.info("hj212 %s idle for %.0f s, closing", peer, self.idle_timeout)
        except (ConnectionError, OSError) as exc:
            self.log.info("hj212 %s connection lost: %s", peer, exc)
        except Exception:  # a bug of ours: log it, keep the server
            self.log.exception("hj212 %s connection failed", peer)
        finally:
            self.stats.incr("active_connections", -1)
            for mn in [mn for mn, w in self._writers.items() if w is writer]:
                del self._writers[mn]
            if task is not None:
                self._tasks.discard(task)
                self._activity.pop(task, None)
                self._idle_closed.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    def _framing_error(self, error: HJ212Error, peer: Peer) -> None:
        self.stats.reject(error.reason)
        self.log.info("hj212 %s framing: %s", peer, error)

    async def _on_frame(self, frame: bytes, conn: _Connection) -> bool:
        """Handles one frame; False when the connection is to be closed (a refused or abusive peer)."""
        assert self.loop is not None
        arrived = self.loop.time()
        peer, writer = conn.peer, conn.writer
        head = peek_header(frame)  # unverified: only to pick the dialect and to answer a rejected frame
        mn_hint = head.get("MN")
        dialect = await self._dialect(mn_hint, peer)
        try:
            packet = decode(frame, dialect)
        except HJ212Error as error:
            self.stats.reject(error.reason)
            self.log.info("hj212 %s rejected frame (MN %s, dialect %s): %s", peer, mn_hint, dialect.name, error)
            if mn_hint and self.authenticator is not None and not conn.verified(mn_hint, head.get("PW")):
                # A stranger learns nothing from its broken frames (not even whether the MN exists): unless the
                # MN and password read from it are right, it is answered as a wrong password.
                checked = await self._authenticate(mn_hint, head.get("PW"), conn)
                if checked is _REFUSED:
                    return False
                if checked is not True:
                    return await self._auth_failed(mn_hint, checked, conn, arrived, head=head, dialect=dialect)
            code = qn_rtn_for_error(error)
            if code is not None and mn_hint:
                await self._answer_rejected(head, code, dialect, writer)
            return True

        verdict: Verdict = True
        if self.authenticator is not None:
            verdict = await self._authenticate(packet.mn, packet.pw, conn)
            if verdict is _REFUSED:
                return False
        if verdict is not True:
            return await self._auth_failed(packet.mn, verdict, conn, arrived, packet=packet, dialect=dialect)

        self._writers[packet.mn] = writer
        if packet.deviations:
            self.stats.deviated(packet.mn, packet.deviations)
        self.stats.incr("frames_ok")
        if self.handler is not None:
            try:
                result = self.handler(packet, peer)
                if inspect.isawaitable(result):
                    if self.handler_timeout is None:
                        await result
                    else:
                        async with asyncio.timeout(self.handler_timeout):
                            await result
            except HJ212Error as error:  # the handler found the content unusable (e.g. DataTime out of range)
                self.stats.reject(error.reason)
                self.log.info("hj212 %s rejected packet (MN %s CN %s): %s", peer, packet.mn, packet.cn, error)
                code = qn_rtn_for_error(error)
                if code is not None:
                    await self._answer_packet(packet, code, dialect, writer)
                return True
            except Exception:
                # No data response: the device keeps the packet and sends it again.
                self.stats.incr("handler_errors")
                self.log.exception("hj212 %s handler failed for MN %s CN %s", peer, packet.mn, packet.cn)
                return True
        if packet.needs_response and not packet.cn.startswith("9"):
            edition = packet.edition if packet.edition is not None else dialect.edition
            await self._write(writer, encode(build_data_response(packet, edition=edition)))
            self.stats.incr("responses_sent")
        return True

    # ---- authentication and its throttle ---------------------------------------------------------

    async def _authenticate(self, mn: str, pw: str | None, conn: _Connection) -> Verdict:
        """The authenticator's verdict (True, False: wrong password, None: unknown MN), or _REFUSED when the MN or
        the address is blocked (then nothing is checked) or the authenticator failed. A pair that passed on this
        connection is not throttled again (a blocked address must not cut off its devices' open sessions)."""
        assert self.authenticator is not None
        verified = conn.verified(mn, pw)
        if self.auth_throttle is not None and not verified:
            if self._ip_failures.blocked(conn.peer.host):
                return self._refuse("ip_blocked", conn.peer, mn)
            if self._mn_failures.blocked(mn):
                return self._refuse("mn_blocked", conn.peer, mn)
        try:
            verdict: Verdict = await _resolve(self.authenticator(mn, pw))
        except Exception:
            self.stats.reject("auth_error")
            self.log.exception("hj212 %s authenticator failed for MN %s", conn.peer, mn)
            return True if verified else _AUTH_ERROR
        if verdict is True and not verified and self.source_allowed is not None:
            try:
                allowed: bool = await _resolve(self.source_allowed(mn, conn.peer))
            except Exception:
                self.stats.reject("auth_error")
                self.log.exception("hj212 %s source check failed for MN %s", conn.peer, mn)
                return _AUTH_ERROR
            if not allowed:
                self.stats.incr("source_refused")
                self.log.warning("hj212 %s: MN %s is not allowed from this network", conn.peer, mn)
                verdict = False
        if verdict is True and not verified:
            conn.verify(mn, pw)
        return verdict

    def _refuse(self, reason: str, peer: Peer, mn: str | None) -> _Outcome:
        self.stats.incr("auth_refused")
        self.stats.throttle(reason)
        self.log.debug("hj212 %s refused (%s, MN %s)", peer, reason, mn)
        return _REFUSED

    async def _auth_failed(
        self,
        mn: str,
        verdict: Verdict,
        conn: _Connection,
        arrived: float,
        *,
        packet: Packet | None = None,
        head: dict[str, str] | None = None,
        dialect: Dialect = STANDARD,
    ) -> bool:
        """A failed authentication: counted, throttled and answered QnRtn=3 whether the MN is unknown or the
        password wrong (docs/hj212.md says why 3), always `failure_delay` after the frame arrived. False when the
        connection is to be closed."""
        peer = conn.peer
        if verdict is _AUTH_ERROR:
            return True  # our fault, not the device's: no answer, no count (the device sends again)
        if verdict is None:
            self.stats.incr("unknown_device")
            self.log.warning("hj212 %s unknown device MN %s", peer, mn)
        else:
            self.stats.incr("bad_password")
            self.log.warning("hj212 %s wrong password for MN %s", peer, mn)
        throttle = self.auth_throttle
        if throttle is not None:
            conn.failures += 1
            if self._mn_failures.fail(mn):
                self._episode(GuessingEpisode("mn", mn, peer, verdict is False, throttle.mn_failures, throttle.window))
            if self._ip_failures.fail(peer.host):
                self._episode(GuessingEpisode("ip", peer.host, peer, None, throttle.ip_failures, throttle.window))
            assert self.loop is not None
            wait = arrived + throttle.failure_delay - self.loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        if packet is not None:
            await self._answer_packet(packet, QnRtn.PW_ERROR, dialect, conn.writer)
        elif head is not None:
            await self._answer_rejected(head, QnRtn.PW_ERROR, dialect, conn.writer)
        if throttle is not None and conn.failures >= throttle.per_connection:
            self.stats.throttle("connection_failures")
            self.log.info("hj212 %s closed after %d failed authentications", peer, conn.failures)
            return False
        return True

    def _episode(self, episode: GuessingEpisode) -> None:
        kind = episode.kind if episode.kind == "ip" else ("mn_known" if episode.known else "mn_unknown")
        self.stats.episode(kind)
        self.log.warning(
            "hj212 password guessing? %s %s: %d failures within %.0f s (last from %s); refusing it for now",
            episode.kind,
            episode.key,
            episode.failures,
            episode.window,
            episode.peer,
        )
        if self.on_guessing is None or self.loop is None:
            return
        task = self.loop.create_task(self._alert(episode))
        self._alerts.add(task)
        task.add_done_callback(self._alerts.discard)

    async def _alert(self, episode: GuessingEpisode) -> None:
        assert self.on_guessing is not None
        try:
            await _resolve(self.on_guessing(episode))
        except Exception:
            self.log.exception("hj212 guessing alert failed for %s %s", episode.kind, episode.key)

    async def _dialect(self, mn: str | None, peer: Peer) -> Dialect:
        if mn is None or self.dialect_for_mn is None:
            return STANDARD
        try:
            return await _resolve(self.dialect_for_mn(mn)) or STANDARD
        except Exception:
            self.log.exception("hj212 %s dialect_for_mn failed for MN %s; using STANDARD", peer, mn)
            return STANDARD

    def _wants_answer(self, flag: int | None) -> bool:
        if self.answer_errors == "never":
            return False
        return self.answer_errors == "always" or (flag is not None and bool(flag & 1))

    async def _answer_packet(self, packet: Packet, code: QnRtn, dialect: Dialect, writer: asyncio.StreamWriter) -> None:
        if not self._wants_answer(packet.flag):
            return
        edition = packet.edition if packet.edition is not None else dialect.edition
        await self._write(writer, encode(build_request_answer(packet, code, edition=edition)))
        self.stats.incr("error_answers_sent")

    async def _answer_rejected(
        self, head: dict[str, str], code: QnRtn, dialect: Dialect, writer: asyncio.StreamWriter
    ) -> None:
        flag_text = head.get("Flag", "")
        flag = int(flag_text) if _SMALL_INT.fullmatch(flag_text) and int(flag_text) <= 255 else None
        if not self._wants_answer(flag):
            return
        cn = head.get("CN", "")
        pseudo = Packet(
            qn=head.get("QN"),
            cn=cn if _CN.fullmatch(cn) else "0000",
            pw=head.get("PW"),
            mn=head["MN"],
            flag=flag,
        )
        try:
            edition = pseudo.edition if pseudo.edition is not None else dialect.edition
            frame = encode(build_request_answer(pseudo, code, edition=edition))
        except HJ212Error:  # the peeked fields cannot even make an answer
            return
        await self._write(writer, frame)
        self.stats.incr("error_answers_sent")

    async def _write(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        if writer.transport.get_write_buffer_size() == 0 and not writer.is_closing():
            return  # sent at once (the usual case): no drain, no timer
        # A device that stops reading must not hold the connection's task forever.
        async with asyncio.timeout(self.idle_timeout):
            await writer.drain()


async def send_packets(
    host: str,
    port: int,
    frames: Iterable[bytes | Packet],
    read_responses: bool = True,
    *,
    expect: int | None = None,
    timeout: float = 5.0,
    quiet: float = 0.3,
    chunk_size: int | None = None,
    chunk_delay: float = 0.0,
) -> list[bytes]:
    """Client for tests and the simulator: send frames on one connection, return response frames.

    The frames are sent back to back; `chunk_size` cuts the stream into writes of that many bytes
    (with `chunk_delay` seconds between them) to imitate TCP segmentation. Responses are read while
    sending, until `expect` frames arrived, or (without `expect`) until the server has been quiet for
    `quiet` seconds after the last write, or `timeout` in any case.
    """
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection(host, port)
    data = b"".join(encode(f) if isinstance(f, Packet) else bytes(f) for f in frames)
    responses: list[bytes] = []
    done_writing = asyncio.Event()
    deadline = loop.time() + timeout

    async def collect() -> None:
        buffer = FrameBuffer()
        while expect is None or len(responses) < expect:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                chunk = await asyncio.wait_for(reader.read(65536), min(quiet, remaining))
            except TimeoutError:
                if expect is None and done_writing.is_set():
                    return
                continue
            if not chunk:
                return
            responses.extend(item for item in buffer.feed(chunk) if isinstance(item, bytes))

    collector = asyncio.create_task(collect()) if read_responses else None
    try:
        step = chunk_size or len(data) or 1
        for offset in range(0, len(data), step):
            writer.write(data[offset : offset + step])
            await writer.drain()
            if chunk_delay:
                await asyncio.sleep(chunk_delay)
        done_writing.set()
        if collector is not None:
            await collector
    finally:
        if collector is not None and not collector.done():
            collector.cancel()
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    return responses
