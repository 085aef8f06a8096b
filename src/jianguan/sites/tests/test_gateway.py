"""FrameBuffer (stream framing) and the asyncio gateway over real localhost sockets."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jianguan.sites.protocols.framing import FrameBuffer
from jianguan.sites.protocols.gateway import AuthThrottle, Gateway, Peer, send_packets
from jianguan.sites.protocols.hj212 import (
    CP,
    LENIENT,
    MAX_FRAME,
    HJ212Error,
    Packet,
    QnRtn,
    decode,
    encode,
    frame_segment,
    make_qn,
)


def upload(mn: str = "DUST01", n: int = 0, *, flag: int = 5, pw: str = "123456", pm25: str = "35.2") -> bytes:
    packet = Packet(
        qn=make_qn(datetime(2024, 5, 1, 12, 0, 0, n % 1000 * 1000)),
        st="22",
        cn="2011",
        pw=pw,
        mn=mn,
        flag=flag,
        cp=CP(
            data_time=datetime(2024, 5, 1, 12, 0, 0),
            factors={"a34004": {"Rtd": pm25, "Flag": "N"}, "a34002": {"Rtd": str(n), "Flag": "N"}},
        ),
    )
    return encode(packet)


# --------------------------------------------------------------------------------------------------
# FrameBuffer

_FRAMES = [upload(n=i, pm25=str(i) * (i % 7 + 1)) for i in range(6)]


def _feed_all(buffer: FrameBuffer, stream: bytes, cuts: list[int]) -> list[bytes | HJ212Error]:
    out: list[bytes | HJ212Error] = []
    last = 0
    for cut in [*sorted(cuts), len(stream)]:
        out += buffer.feed(stream[last:cut])
        last = cut
    return out


@settings(max_examples=200)
@given(
    st.lists(st.sampled_from(_FRAMES), min_size=1, max_size=8),
    st.lists(st.binary(max_size=20).filter(lambda g: b"#" not in g), max_size=9),
    st.lists(st.integers(0, 3000), max_size=30),
)
def test_framing_random_splits_and_garbage(frames, garbage, cuts):
    # Frames with junk between them, cut into random TCP segments: every frame comes out intact.
    parts = []
    for i, frame in enumerate(frames):
        parts.append(garbage[i] if i < len(garbage) else b"")
        parts.append(frame)
    stream = b"".join(parts)
    buffer = FrameBuffer()
    out = _feed_all(buffer, stream, [c for c in cuts if c <= len(stream)])
    assert [o for o in out if isinstance(o, bytes)] == frames
    assert all(e.reason == "garbage" for e in out if isinstance(e, HJ212Error))
    assert buffer.pending == 0 and buffer.close() == []


def test_framing_concatenated_frames_in_one_chunk():
    buffer = FrameBuffer()
    assert buffer.feed(b"".join(_FRAMES)) == _FRAMES
    assert buffer.frames == len(_FRAMES)


def test_framing_byte_by_byte():
    buffer = FrameBuffer()
    stream = b"".join(_FRAMES)
    out = [item for byte in stream for item in buffer.feed(bytes([byte]))]
    assert out == _FRAMES


def test_framing_resynchronises_after_bad_frames():
    good = _FRAMES[0]
    stream = (
        b"\x00junk##"  # garbage, then '##' without digits (more garbage)
        + b"##9999"  # claims a segment over 1024
        + good[:-2]  # length says CR LF here, but it is missing
        + b"XX"
        + b"###"  # stray '#' before a good header
        + good
        + b"\r\n\r\n"  # keep-alive filler is not garbage
        + good
    )
    for cuts in ([], list(range(0, len(stream), 5))):
        buffer = FrameBuffer()
        out = _feed_all(buffer, stream, cuts)
        assert [o for o in out if isinstance(o, bytes)] == [good, good]
        reasons = [o.reason for o in out if isinstance(o, HJ212Error)]
        assert {"garbage", "bad_length", "too_long"} <= set(reasons)


def test_framing_bounds_memory():
    rng = random.Random(1)
    buffer = FrameBuffer()
    noise = bytes(rng.choice(b"abc;=&\x00#") for _ in range(1_000_000)).replace(b"##", b"#")
    errors = buffer.feed(noise)
    assert buffer.pending <= 1 and [e.reason for e in errors] == ["garbage"]  # one report per run
    buffer.feed(b"##1000" + b"x" * 500)  # a plausible, unfinished frame is kept...
    assert buffer.pending == 506
    out = buffer.feed(b"y" * 600)  # ...until its announced end shows it was not one
    assert [o.reason for o in out if isinstance(o, HJ212Error)] == ["bad_length"]
    assert buffer.pending < MAX_FRAME
    assert buffer.feed(_FRAMES[0]) == [_FRAMES[0]]


def test_framing_truncated_at_close():
    buffer = FrameBuffer()
    assert buffer.feed(_FRAMES[0][:40]) == []
    assert [e.reason for e in buffer.close()] == ["truncated"]
    assert buffer.pending == 0


# --------------------------------------------------------------------------------------------------
# Gateway

DEVICES = {"DUST01": "123456", "DUST02": "654321", "OLD01": "123456", "VEND01": "123456"}


class Recorder:
    def __init__(self) -> None:
        self.packets: list[tuple[Packet, Peer]] = []
        self.fail_on: set[str] = set()  # QN values whose handling raises

    async def handler(self, packet: Packet, peer: Peer) -> None:
        await asyncio.sleep(0)
        if packet.qn in self.fail_on:
            raise RuntimeError("database is down")
        self.packets.append((packet, peer))


def authenticate(mn: str, pw: str | None) -> bool | None:
    if mn not in DEVICES:
        return None
    return DEVICES[mn] == pw


def run(scenario: Callable[[Gateway, Recorder], Awaitable[Any]], **options: Any) -> tuple[Gateway, Recorder]:
    """Start a gateway on an ephemeral port, run the scenario, close the gateway."""
    recorder = Recorder()
    options.setdefault("dialect_for_mn", lambda mn: LENIENT if mn == "VEND01" else None)
    options.setdefault("auth_throttle", AuthThrottle(failure_delay=0.05))  # test_gateway_guessing.py: the limits
    gateway = Gateway("127.0.0.1", 0, recorder.handler, authenticate, **options)

    async def main() -> None:
        await gateway.start()
        try:
            await asyncio.wait_for(scenario(gateway, recorder), 8)
        finally:
            await gateway.close()

    asyncio.run(main())
    return gateway, recorder


def test_uploads_reach_handler_and_get_data_responses():
    frames = [upload(n=1), upload(n=2, flag=4), upload(n=3)]

    async def scenario(gateway: Gateway, recorder: Recorder) -> None:
        responses = await send_packets("127.0.0.1", gateway.port, frames, expect=2)
        assert len(responses) == 2
        for response, request in zip(responses, (frames[0], frames[2]), strict=True):
            answer, asked = decode(response), decode(request)
            assert (answer.cn, answer.st, answer.flag, answer.cp) == ("9014", "91", 4, CP())
            assert (answer.qn, answer.pw, answer.mn) == (asked.qn, asked.pw, asked.mn)
        assert [p.qn for p, _ in recorder.packets] == [decode(f).qn for f in frames]
        assert recorder.packets[0][1].host == "127.0.0.1"

    gateway, _ = run(scenario)
    stats = gateway.stats.snapshot()
    assert stats["frames_ok"] == 3 and stats["responses_sent"] == 2 and stats["frames_rejected"] == {}


def test_many_concurrent_clients_with_split_packets():
    clients, per_client = 40, 10

    async def scenario(gateway: Gateway, recorder: Recorder) -> None:
        async def client(i: int) -> list[bytes]:
            mn = "DUST01" if i % 2 else "DUST02"
            pw = DEVICES[mn]
            frames = [upload(mn, i * 100 + j, pw=pw) for j in range(per_client)]
            return await send_packets(
                "127.0.0.1",
                gateway.port,
                frames,
                expect=per_client,
                chunk_size=7 + i % 50,
                chunk_delay=0.0005,
            )

        results = await asyncio.gather(*(client(i) for i in range(clients)))
        assert [len(r) for r in results] == [per_client] * clients
        assert all(decode(f).cn == "9014" for r in results for f in r)
        assert len(recorder.packets) == clients * per_client

    gateway, _ = run(scenario)
    stats = gateway.stats.snapshot()
    assert stats["connections"] == clients and stats["frames_ok"] == clients * per_client


def test_garbage_and_bad_crc_are_counted_and_answered_and_the_server_continues():
    good = upload(n=7)
    bad_crc = upload(n=8)[:-6] + b"0000\r\n"

    async def scenario(gateway: Gateway, recorder: Recorder) -> None:
        stream = [b"\x01\x02garbage", bad_crc, b"##0003", b"abc1234XX", good]
        responses = await send_packets("127.0.0.1", gateway.port, stream, expect=2)
        answers = [decode(r) for r in responses]
        assert (answers[0].cn, answers[0].cp.params) == ("9011", {"QnRtn": str(QnRtn.CRC_ERROR.value)})
        assert answers[0].qn == decode(upload(n=8)).qn
        assert answers[1].cn == "9014"
        # The same server still serves a new client.
        assert len(await send_packets("127.0.0.1", gateway.port, [upload(n=9)], expect=1)) == 1
        assert len(recorder.packets) == 2

    gateway, _ = run(scenario)
    stats = gateway.stats.snapshot()
    assert stats["frames_rejected"]["bad_crc"] == 1
    assert stats["frames_rejected"]["garbage"] >= 1
    assert stats["frames_rejected"]["bad_length"] == 1
    assert stats["error_answers_sent"] == 1 and stats["frames_ok"] == 2


def test_unknown_device_and_wrong_password_are_answered_alike():
    async def scenario(gateway: Gateway, recorder: Recorder) -> None:
        frames = [upload("NOBODY"), upload("DUST01", pw="000000"), upload("DUST01", flag=4, pw="000000")]
        responses = await send_packets("127.0.0.1", gateway.port, frames, expect=2)
        # QnRtn 3 for both: an unknown MN must not be told apart from a known one (docs/hj212.md)
        assert [decode(r).cp.params for r in responses] == [{"QnRtn": "3"}, {"QnRtn": "3"}]
        assert all(decode(r).mn == m for r, m in zip(responses, ["NOBODY", "DUST01"], strict=True))
        assert recorder.packets == []

    gateway, _ = run(scenario)
    stats = gateway.stats.snapshot()
    assert (stats["unknown_device"], stats["bad_password"], stats["frames_ok"]) == (1, 2, 0)


def test_error_answers_can_be_switched_off():
    async def scenario(gateway: Gateway, recorder: Recorder) -> None:
        frames = [upload("NOBODY"), upload(n=1)[:-6] + b"0000\r\n", upload(n=2)]
        responses = await send_packets("127.0.0.1", gateway.port, frames, expect=1)
        assert [decode(r).cn for r in responses] == ["9014"]

    gateway, _ = run(scenario, answer_errors="never")
    assert gateway.stats.snapshot()["error_answers_sent"] == 0


def test_handler_exception_keeps_the_connection():
    frames = [upload(n=1), upload(n=2), upload(n=3)]

    async def scenario(gateway: Gateway, recorder: Recorder) -> None:
        recorder.fail_on.add(decode(frames[1]).qn)
        responses = await send_packets("127.0.0.1", gateway.port, frames, expect=2)
        # No data response for the failed packet (the device will send it again), the rest go on.
        assert [decode(r).qn for r in responses] == [decode(frames[0]).qn, decode(frames[2]).qn]
        assert len(recorder.packets) == 2

    gateway, _ = run(scenario)
    stats = gateway.stats.snapshot()
    assert stats["handler_errors"] == 1 and stats["connections"] == 1


def test_dialect_per_device_and_deviation_counts():
    segment = encode(Packet(qn="20240501120000000", st="22", cn="2011", pw="123456", mn="VEND01", flag=5))[6:-6]
    segment = segment.replace(b"CP=&&&&", b"CP=&&PM25-Rtd=40,PM25-Flag=N;NOIS-Rtd=61.5&&")
    frame = frame_segment(segment)
    swapped = frame[:-6] + frame[-4:-2] + frame[-6:-4] + b"\r\n"
    assert swapped != frame
    standard_device = swapped.replace(b"MN=VEND01", b"MN=DUST01")  # same CRC bytes: now simply wrong

    async def scenario(gateway: Gateway, recorder: Recorder) -> None:
        responses = await send_packets("127.0.0.1", gateway.port, [swapped, swapped, standard_device], expect=3)
        assert [decode(r).cn for r in responses] == ["9014", "9014", "9011"]
        packet = recorder.packets[0][0]
        assert packet.cp.factors == {"a34004": {"Rtd": "40", "Flag": "N"}, "LA": {"Rtd": "61.5"}}

    gateway, _ = run(scenario)
    stats = gateway.stats.snapshot()
    assert stats["deviations"] == {"VEND01": {"crc_byte_swapped": 2, "vendor_code:PM25": 2, "vendor_code:NOIS": 2}}
    assert stats["frames_rejected"] == {"bad_crc": 1}


def test_async_callbacks_and_2005_edition_device():
    async def auth(mn: str, pw: str | None) -> bool | None:
        await asyncio.sleep(0)
        return authenticate(mn, pw)

    async def dialect(mn: str):
        return LENIENT

    old = frame_segment(b"QN=20240501120000000;ST=32;CN=2051;PW=123456;MN=OLD01;Flag=1;CP=&&a34004-Avg=5&&")

    async def scenario(gateway: Gateway, recorder: Recorder) -> None:
        gateway.authenticator = auth
        (response,) = await send_packets("127.0.0.1", gateway.port, [old], expect=1)
        answer = decode(response, LENIENT)
        assert answer.qn is None and answer.flag is None and answer.cn == "9014"
        assert answer.cp.params == {"QN": "20240501120000000", "CN": "2051"}

    run(scenario, dialect_for_mn=dialect)


def test_idle_timeout_closes_the_connection():
    async def scenario(gateway: Gateway, recorder: Recorder) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(upload(n=1)[:30])
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 3) == b""  # closed by the server
        writer.close()

    gateway, _ = run(scenario, idle_timeout=0.2)
    stats = gateway.stats.snapshot()
    assert stats["idle_timeouts"] == 1 and stats["active_connections"] == 0


def test_platform_sends_a_command_to_a_connected_device():
    async def scenario(gateway: Gateway, recorder: Recorder) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(upload(flag=4))
        await writer.drain()
        while not recorder.packets:
            await asyncio.sleep(0.01)
        command = Packet(qn=make_qn(), st="22", cn="1012", pw="123456", mn="DUST01", flag=5)
        command.cp.params["SystemTime"] = "20240501120000"
        assert await gateway.send("DUST01", command)
        assert not await gateway.send("NOBODY", command)
        received = FrameBuffer().feed(await asyncio.wait_for(reader.read(4096), 3))
        assert decode(received[0]).cp.params == {"SystemTime": "20240501120000"}  # type: ignore[arg-type]
        writer.close()

    run(scenario)


def test_run_in_thread():
    recorder = Recorder()
    gateway = Gateway("127.0.0.1", 0, recorder.handler, authenticate)
    stop = gateway.run_in_thread()
    try:
        assert gateway.port != 0
        responses = asyncio.run(send_packets("127.0.0.1", gateway.port, [upload(n=1)], expect=1))
        assert decode(responses[0]).cn == "9014"
        assert gateway.stats.snapshot()["frames_ok"] == 1
    finally:
        stop()
    stop()  # idempotent
    with pytest.raises(OSError):
        asyncio.run(send_packets("127.0.0.1", gateway.port, [upload(n=2)], expect=1, timeout=1))


def test_run_in_thread_reports_a_busy_port():
    first = Gateway("127.0.0.1", 0)
    stop = first.run_in_thread()
    try:
        with pytest.raises(OSError):
            Gateway("127.0.0.1", first.port).run_in_thread()
    finally:
        stop()
