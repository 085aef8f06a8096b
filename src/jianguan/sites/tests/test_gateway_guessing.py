"""Device passwords cannot be guessed at wire speed (issue 8, finding 6): the HJ 212 gateway answers an unknown MN
exactly like a wrong password (same QnRtn, same delay), throttles failures per MN and per peer address, closes
abusive connections, and reports each guessing episode once. Pure: real localhost sockets, no Django."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from jianguan.sites.protocols.gateway import AuthThrottle, Gateway, GuessingEpisode, send_packets
from jianguan.sites.protocols.hj212 import decode
from jianguan.sites.protocols.throttle import FailureBuckets

from .test_gateway import DEVICES, Recorder, authenticate, upload


def run(scenario: Callable[[Gateway, list[GuessingEpisode]], Awaitable[Any]], **limits: Any) -> Gateway:
    episodes: list[GuessingEpisode] = []

    async def alert(episode: GuessingEpisode) -> None:
        await asyncio.sleep(0)
        episodes.append(episode)

    source_allowed = limits.pop("source_allowed", None)
    limits = {"failure_delay": 0.05, **limits}
    gateway = Gateway(
        "127.0.0.1",
        0,
        Recorder().handler,
        authenticate,
        auth_throttle=AuthThrottle(**limits),
        source_allowed=source_allowed,
    )
    gateway.on_guessing = alert

    async def main() -> None:
        await gateway.start()
        try:
            await asyncio.wait_for(scenario(gateway, episodes), 15)
        finally:
            await gateway.close()

    asyncio.run(main())
    return gateway


async def exchange(gateway: Gateway, frame: bytes, *, timeout: float = 2.0) -> tuple[bytes | None, bool]:
    """Sends one frame on a new connection: (the answer, False), or (None, True) when the server closed the
    connection without one."""
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        writer.write(frame)
        await writer.drain()
        try:
            return await asyncio.wait_for(reader.readuntil(b"\r\n"), timeout), False
        except (asyncio.IncompleteReadError, ConnectionError):
            return None, True
    finally:
        writer.close()


def test_an_unknown_mn_and_a_wrong_password_get_the_same_answer_at_the_same_time():
    async def scenario(gateway: Gateway, episodes) -> None:
        timings = {}
        answers = {}
        for mn, pw in (("NOBODY", "123456"), ("DUST01", "000000")):
            started = asyncio.get_running_loop().time()
            answer, _ = await exchange(gateway, upload(mn, pw=pw))
            timings[mn] = asyncio.get_running_loop().time() - started
            answers[mn] = decode(answer)
        assert {mn: (a.cn, a.cp.params) for mn, a in answers.items()} == {
            "NOBODY": ("9011", {"QnRtn": "3"}),
            "DUST01": ("9011", {"QnRtn": "3"}),
        }
        assert all(t >= 0.3 for t in timings.values())  # the answer waits failure_delay, whatever the cause
        # A broken frame of a stranger is answered as a wrong password too (not with its CRC error: that would
        # tell a frame of a known lenient device from an unknown one); a device's own broken frame keeps its code.
        stranger, _ = await exchange(gateway, upload("NOBODY")[:-6] + b"0000\r\n")
        own, _ = await exchange(gateway, upload("DUST01")[:-6] + b"0000\r\n")
        assert decode(stranger).cp.params == {"QnRtn": "3"} and decode(own).cp.params == {"QnRtn": "9"}

    gateway = run(scenario, failure_delay=0.3)
    stats = gateway.stats.snapshot()
    assert (stats["unknown_device"], stats["bad_password"]) == (2, 1)  # the operator still sees which


def test_a_connection_is_closed_after_its_failures_and_guessing_on_it_is_slow():
    async def scenario(gateway: Gateway, episodes) -> None:
        guesses = [upload("DUST01", n=i, pw=f"{i:06d}") for i in range(10)]
        started = asyncio.get_running_loop().time()
        answers = await send_packets("127.0.0.1", gateway.port, guesses, timeout=3)
        elapsed = asyncio.get_running_loop().time() - started
        assert len(answers) == 3  # then the server closed the connection
        assert elapsed >= 3 * 0.1  # one answer per failure_delay: ten a second at most on a connection

    gateway = run(scenario, per_connection=3, failure_delay=0.1)
    assert gateway.stats.snapshot()["throttled"] == {"connection_failures": 1}


def test_an_mn_is_refused_after_its_failures_and_the_district_is_told_once():
    async def scenario(gateway: Gateway, episodes) -> None:
        for i in range(4):
            answer, _ = await exchange(gateway, upload("DUST01", n=i, pw=f"{i:06d}"))
            assert decode(answer).cp.params == {"QnRtn": "3"}
        # Blocked: even the right password is refused unchecked (a blocked MN is no oracle), the connection closed.
        answer, closed = await exchange(gateway, upload("DUST01", pw=DEVICES["DUST01"]))
        assert answer is None and closed
        other, _ = await exchange(gateway, upload("DUST02", pw=DEVICES["DUST02"]))
        assert decode(other).cn == "9014"  # other devices behind the same address go on
        await asyncio.sleep(0.05)
        assert [(e.kind, e.key, e.known, e.failures) for e in episodes] == [("mn", "DUST01", True, 4)]
        await asyncio.sleep(2.1)  # a token is back (one per 2 s): one more try
        answer, _ = await exchange(gateway, upload("DUST01", pw=DEVICES["DUST01"]))
        assert decode(answer).cn == "9014"

    gateway = run(scenario, mn_failures=4, ip_failures=100, window=8.0)
    stats = gateway.stats.snapshot()
    assert stats["throttled"] == {"mn_blocked": 1} and stats["guessing_episodes"] == {"mn_known": 1}


def test_listing_mns_from_one_address_is_refused_and_reported_once():
    async def scenario(gateway: Gateway, episodes) -> None:
        for i in range(5):
            answer, _ = await exchange(gateway, upload(f"GUESS{i:04d}"))
            assert decode(answer).cp.params == {"QnRtn": "3"}
        for i in range(5, 8):  # the address is blocked: closed at once, nothing read
            answer, closed = await exchange(gateway, upload(f"GUESS{i:04d}"))
            assert answer is None and closed
        await asyncio.sleep(0.05)
        assert [(e.kind, e.key, e.known) for e in episodes] == [("ip", "127.0.0.1", None)]

    gateway = run(scenario, mn_failures=100, ip_failures=5, window=600)
    stats = gateway.stats.snapshot()
    assert stats["unknown_device"] == 5 and stats["throttled"] == {"ip_blocked": 3}


def test_a_device_already_connected_keeps_its_session_while_its_address_is_blocked():
    async def scenario(gateway: Gateway, episodes) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(upload("DUST01", n=1))
        await writer.drain()
        assert decode(await asyncio.wait_for(reader.readuntil(b"\r\n"), 2)).cn == "9014"
        for i in range(3):  # a neighbour behind the same carrier NAT guesses
            await exchange(gateway, upload("DUST02", n=i, pw="bad"))
        blocked, _ = await exchange(gateway, upload("DUST02", pw=DEVICES["DUST02"]))
        assert blocked is None
        writer.write(upload("DUST01", n=2))  # the connected device's next upload is still stored and answered
        await writer.drain()
        assert decode(await asyncio.wait_for(reader.readuntil(b"\r\n"), 2)).cn == "9014"
        writer.close()

    run(scenario, mn_failures=100, ip_failures=3)


def test_without_limits_nothing_is_throttled():
    async def scenario(gateway: Gateway, episodes) -> None:
        guesses = [upload("DUST01", n=i, pw=f"{i:06d}") for i in range(20)]
        assert len(await send_packets("127.0.0.1", gateway.port, guesses, expect=20)) == 20

    gateway = Gateway("127.0.0.1", 0, Recorder().handler, authenticate, auth_throttle=None)

    async def main() -> None:
        await gateway.start()
        try:
            await scenario(gateway, [])
        finally:
            await gateway.close()

    asyncio.run(main())


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_failure_buckets_let_a_burst_through_then_one_per_refill_and_report_an_episode_once():
    clock = Clock()
    buckets = FailureBuckets(3, 60.0, clock=clock)  # 3 failures, then one every 20 s
    assert [buckets.fail("MN1") for _ in range(3)] == [False, False, True]  # the third empties it: episode
    assert buckets.blocked("MN1") and not buckets.blocked("MN2")
    clock.now = 19.0
    assert buckets.blocked("MN1")
    clock.now = 20.0
    assert not buckets.blocked("MN1")  # one token back
    assert buckets.fail("MN1") is False and buckets.blocked("MN1")  # still the same episode: not reported again
    clock.now = 100.0
    assert buckets.sweep() == 1 and len(buckets) == 0  # refilled: forgotten, the episode is over
    assert [buckets.fail("MN1") for _ in range(3)] == [False, False, True]  # a new episode


def test_failure_buckets_stay_bounded_under_a_flood_of_keys():
    clock = Clock()
    buckets = FailureBuckets(2, 60.0, max_keys=100, clock=clock)
    buckets.fail("kept")
    buckets.fail("kept")  # in an episode: kept while calmer buckets go
    for i in range(1000):
        buckets.fail(f"random{i}")
    assert len(buckets) <= 100 and buckets.blocked("kept")


def test_limits_must_be_positive():
    with pytest.raises(ValueError):
        AuthThrottle(mn_failures=0)
    with pytest.raises(ValueError):
        AuthThrottle(failure_delay=-1)


def test_a_right_password_from_a_network_not_allowed_is_refused_like_a_wrong_one():
    async def scenario(gateway: Gateway, episodes) -> None:
        outside, _ = await exchange(gateway, upload("DUST01", pw=DEVICES["DUST01"]))
        wrong, _ = await exchange(gateway, upload("DUST01", pw="000000"))
        assert decode(outside).cp.params == decode(wrong).cp.params == {"QnRtn": "3"}
        inside, _ = await exchange(gateway, upload("DUST02", pw=DEVICES["DUST02"]))
        assert decode(inside).cn == "9014"

    gateway = run(scenario, source_allowed=lambda mn, peer: mn != "DUST01")
    stats = gateway.stats.snapshot()
    assert (stats["source_refused"], stats["bad_password"], stats["frames_ok"]) == (1, 2, 1)
