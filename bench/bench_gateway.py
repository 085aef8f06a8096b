"""HJ 212 gateway alone (no database): CPU per frame on the success path, and how fast passwords can be guessed.

    ./run bench gateway
    ./run bench gateway --connections 200 --packets 200 --guess-seconds 5

1. Throughput: N connections each send M uploads, one at a time (waiting for the 9014); the handler and the
   authenticator do nothing. Prints the gateway process's CPU microseconds per frame: the cost of framing,
   decoding, authentication bookkeeping and answering, which the throttle of failed authentications must not
   raise (issue 8, finding 6).
2. Guessing: one client sends wrong passwords for one MN as fast as the gateway answers, reconnecting when it is
   closed, for a few seconds: with the throttle (the defaults, docs/hj212.md "Password guessing") and without it
   (`auth_throttle=None`, what the gateway did before). Prints the answered guesses per second.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from multiprocessing import Process, Queue

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from jianguan.sites.protocols import hj212
from jianguan.sites.protocols.gateway import Gateway, new_event_loop

PASSWORD = "benchpw"


def frame(mn: str, i: int, pw: str = PASSWORD) -> bytes:
    factors = ";".join(f"a3400{k}-Rtd={k}.5,a3400{k}-Flag=N" for k in range(8))
    segment = f"QN=20261120100000{i % 1000:03d};ST=22;CN=2011;PW={pw};MN={mn};Flag=5;CP=&&DataTime=20261120100000;"
    return hj212.frame_segment(segment + factors + "&&")


def serve(ports: Queue, throttled: bool) -> None:
    logging.getLogger("jianguan.sites.gateway").setLevel(logging.ERROR)  # a line per wrong password is not timed

    async def handler(packet, peer) -> None:
        return None

    def authenticate(mn: str, pw: str | None) -> bool | None:
        return pw == PASSWORD

    options = {} if throttled else {"auth_throttle": None}
    gateway = Gateway("127.0.0.1", 0, handler, authenticate, lambda mn: None, **options)

    async def main() -> None:
        await gateway.start()
        ports.put(gateway.port)
        await asyncio.Event().wait()

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main())


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(throttled: bool) -> tuple[Process, int]:
    ports: Queue = Queue()
    process = Process(target=serve, args=(ports, throttled), daemon=True)
    process.start()
    return process, ports.get(timeout=10)


async def uploads(port: int, connections: int, packets: int) -> None:
    async def one(c: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for data in [frame(f"MN{c:05d}", i) for i in range(packets)]:
            writer.write(data)
            await writer.drain()
            await reader.readuntil(b"\r\n")
        writer.close()

    await asyncio.gather(*(one(c) for c in range(connections)))


async def guess(port: int, seconds: float) -> int:
    answered, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            continue
        try:
            while time.monotonic() < deadline:
                writer.write(frame("GUESSED0001", answered, pw=f"{answered:06d}"))
                await writer.drain()
                await asyncio.wait_for(reader.readuntil(b"\r\n"), max(deadline - time.monotonic(), 0.01))
                answered += 1
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass  # closed by the gateway (or the time is up): reconnect
        finally:
            writer.close()
    return answered


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--packets", type=int, default=200, help="uploads per connection")
    parser.add_argument("--guess-seconds", type=float, default=5.0)
    args = parser.parse_args()

    process, port = start(throttled=True)
    before, started = cpu_seconds(process.pid), time.perf_counter()
    asyncio.run(uploads(port, args.connections, args.packets))
    elapsed, used = time.perf_counter() - started, cpu_seconds(process.pid) - before
    frames = args.connections * args.packets
    print(f"uploads          {frames:,} frames in {elapsed:.1f} s: {frames / elapsed:,.0f} frames/s")
    print(f"gateway CPU      {used:.2f} s = {1e6 * used / frames:.1f} µs per frame (8 readings each)")
    rate = asyncio.run(guess(port, args.guess_seconds)) / args.guess_seconds
    print(f"guessing         {rate:,.1f} wrong passwords answered per second (throttled: the defaults)")
    process.terminate()

    process, port = start(throttled=False)
    rate = asyncio.run(guess(port, args.guess_seconds)) / args.guess_seconds
    print(f"guessing         {rate:,.1f} wrong passwords answered per second (auth_throttle=None: as before)")
    process.terminate()


if __name__ == "__main__":
    main()
