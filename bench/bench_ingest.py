"""HJ 212 ingest benchmark: N simulated monitors over TCP → gateway → database, with limits evaluated.

    ./run bench ingest                                   # SQLite (a fresh file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test ./run bench ingest
    ./run bench ingest --devices 200 --packets 20

Prints readings/s end to end and the latency of the packets (sent → answered; the gateway answers 9014
only after the readings are stored and the limits evaluated, so an alarm-raising packet's latency bounds
"packet received → alarm stored"). Goal (issue #3): ≥ 50,000 readings/s into PostgreSQL, alarm p99 ≤ 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from common import drop_scratch_database, percentile, setup_database, setup_django

FACTORS = ("a34004", "a34002", "a34001", "LA", "a01001", "a01002", "a01007", "a01008")


def frame(hj212, mn: str, when: dt.datetime, pm25: float) -> bytes:
    values = {"a34004": pm25, "a34002": pm25 * 1.8, "a34001": pm25 * 2.8, "LA": 60.0, "a01001": 12.0,
              "a01002": 55.0, "a01007": 2.5, "a01008": 180.0}  # fmt: skip
    cp = ";".join(f"{code}-Rtd={value:.1f},{code}-Flag=N" for code, value in values.items())
    segment = (
        f"QN={when:%Y%m%d%H%M%S}000;ST=22;CN=2011;PW=benchpw;MN={mn};Flag=5;CP=&&DataTime={when:%Y%m%d%H%M%S};{cp}&&"
    )
    return hj212.frame_segment(segment)


def postgres_cpu_seconds() -> float:
    """CPU time of the machine's postgres processes so far (Linux /proc; 0 elsewhere)."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)
            if "postgres" not in fields[0]:
                continue
            values = fields[1].split()
            total += int(values[11]) + int(values[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / tick


def device_frames(hj212, mn: str, packets: int, alarm_device: bool) -> list[bytes]:
    start = dt.datetime(2026, 11, 20, 10, 0)
    # Alarm devices exceed the PM2.5 limit from the 5th packet on: the 7th raises (sustain 3). Values wander
    # by ±5 so open alarms' values change on every packet, as real ones do.
    return [
        frame(
            hj212,
            mn,
            start + dt.timedelta(seconds=30 * i),
            (120.0 if alarm_device and i >= 4 else 40.0) + (i * 7) % 11 - 5,
        )
        for i in range(packets)
    ]


async def device_session(reader, writer, frames, alarm_device, started, latencies, alarm_latencies):
    await started.wait()
    for i, data in enumerate(frames):
        sent = time.perf_counter()
        writer.write(data)
        await writer.drain()
        await reader.readuntil(b"\r\n")
        elapsed = time.perf_counter() - sent
        latencies.append(elapsed)
        if alarm_device and i == 6:
            alarm_latencies.append(elapsed)
    writer.close()


def client_process(ports: list[int], devices: list[tuple[str, bool]], packets: int, conn) -> None:
    """Runs in its own process: frames are built and connections opened before the clock starts; then
    every device sends a packet and waits for its answer, as a real monitor does."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    from jianguan.sites.protocols import hj212

    latencies: list[float] = []
    alarm_latencies: list[float] = []
    cpu_at_start = [0.0]

    async def run_all():
        started = asyncio.Event()
        sessions = []
        for k, (mn, alarm) in enumerate(devices):
            reader, writer = await asyncio.open_connection("127.0.0.1", ports[k % len(ports)])
            frames = device_frames(hj212, mn, packets, alarm)
            sessions.append(device_session(reader, writer, frames, alarm, started, latencies, alarm_latencies))
        tasks = [asyncio.ensure_future(session) for session in sessions]
        conn.send("ready")
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "go"
        cpu_at_start[0] = time.process_time()
        started.set()
        await asyncio.gather(*tasks)

    from jianguan.sites.protocols.gateway import new_event_loop

    with asyncio.Runner(loop_factory=new_event_loop) as runner:  # a lighter load generator with uvloop
        runner.run(run_all())
    conn.send((latencies, alarm_latencies, time.process_time() - cpu_at_start[0]))
    conn.close()


def gateway_process(worker: str, max_batch: int, conn) -> None:
    """A further gateway process (scale-out): its own event loop, batch writer and database connection."""
    import django

    django.setup()
    from jianguan.sites.ingest.hj212_gateway import BatchWriter, build_gateway

    gateway = build_gateway("127.0.0.1", 0, writer=BatchWriter(worker=worker, max_batch=max_batch))
    stop = gateway.run_in_thread()
    conn.send(gateway.port)
    conn.recv()  # "go"
    cpu = time.process_time()
    conn.recv()  # "stop"
    cpu = time.process_time() - cpu
    stop()
    conn.send((gateway.writer.stats, cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--packets", type=int, default=20, help="packets per device (8 readings each)")
    parser.add_argument("--alarm-share", type=float, default=0.1, help="share of devices that exceed the limit")
    parser.add_argument("--clients", type=int, default=1, help="load-generating processes")
    parser.add_argument("--gateways", type=int, default=1, help="gateway processes (scale-out)")
    parser.add_argument("--max-batch", type=int, default=2000, help="packets per transaction at most")
    args = parser.parse_args()

    engine = setup_database("ingest")
    setup_django()
    from jianguan.sites.devices import identity
    from jianguan.sites.ingest.hj212_gateway import BatchWriter, build_gateway
    from jianguan.sites.models import Alarm, Device, Reading
    from jianguan.testing import factories as f

    project = f.ProjectFactory(state="under_construction")
    pw = identity.password_hash("benchpw")
    Device.objects.bulk_create(
        [
            Device(
                project=project,
                name=f"bench {i}",
                kind="dust_noise",
                protocol="hj212",
                mn=f"BENCH{i:06d}",
                password_hash=pw,
            )
            for i in range(args.devices)
        ]
    )
    writer = BatchWriter(max_batch=args.max_batch)
    gateway = build_gateway("127.0.0.1", 0, writer=writer)
    stop = gateway.run_in_thread()
    context = multiprocessing.get_context("spawn")
    ports = [gateway.port]
    more_gateways = []
    for k in range(1, args.gateways):
        parent, child = context.Pipe()
        process = context.Process(target=gateway_process, args=(f"bench{k}", args.max_batch, child), daemon=True)
        process.start()
        ports.append(parent.recv())
        more_gateways.append((process, parent))
    alarm_devices = max(1, int(args.devices * args.alarm_share))
    devices = [(f"BENCH{i:06d}", i < alarm_devices) for i in range(args.devices)]
    clients = []
    for k in range(args.clients):
        parent, child = context.Pipe()
        process = context.Process(
            target=client_process, args=(ports, devices[k :: args.clients], args.packets, child), daemon=True
        )
        process.start()
        clients.append((process, parent))
    for _, parent in clients:
        assert parent.recv() == "ready"
    print(
        f"HJ 212 ingest benchmark on {engine}: {args.devices} devices × {args.packets} packets"
        f" × {len(FACTORS)} readings; {args.gateways} gateway process(es), {args.clients} client process(es),"
        f" batches ≤ {args.max_batch} packets"
    )
    for _, parent in more_gateways:
        parent.send("go")
    postgres_cpu = postgres_cpu_seconds()
    gateway_cpu = time.process_time()
    started = time.perf_counter()
    for _, parent in clients:
        parent.send("go")
    latencies: list[float] = []
    alarm_latencies: list[float] = []
    client_cpu = 0.0
    for process, parent in clients:
        got, got_alarm, cpu = parent.recv()
        client_cpu += cpu
        latencies += got
        alarm_latencies += got_alarm
        process.join()
    elapsed = time.perf_counter() - started
    gateway_cpu = time.process_time() - gateway_cpu
    postgres_cpu = postgres_cpu_seconds() - postgres_cpu
    stop()
    writer_stats = [writer.stats]
    for process, parent in more_gateways:
        parent.send("stop")
        stats, cpu = parent.recv()
        writer_stats.append(stats)
        gateway_cpu += cpu
        process.join()
    stored = Reading.objects.count()
    alarms = Alarm.objects.count()
    print()
    print(f"engine                 {engine}")
    print(f"readings stored        {stored:,} in {elapsed:.1f} s")
    print(f"readings/s end to end  {stored / elapsed:,.0f}   (goal ≥ 50,000 on PostgreSQL)")
    print(f"packets/s              {len(latencies) / elapsed:,.0f}")
    print(
        f"packet latency         p50 {statistics.median(latencies) * 1000:.1f} ms"
        f"  p99 {percentile(latencies, 0.99) * 1000:.1f} ms"
    )
    if alarm_latencies:
        print(
            f"alarm latency          p50 {statistics.median(alarm_latencies) * 1000:.1f} ms  "
            f"p99 {percentile(alarm_latencies, 0.99) * 1000:.1f} ms   ({alarms} alarms; goal p99 ≤ 1 s)"
        )
    stats = gateway.stats.snapshot()
    print(f"gateway (first)        {stats['frames_ok']:,} frames ok, rejected {stats['frames_rejected']}")
    batches = sum(w["batches"] for w in writer_stats)
    packets = sum(w["packets"] for w in writer_stats)
    print(f"batch writers          {batches:,} transactions, {packets / max(1, batches):.0f} packets each")
    cores = os.cpu_count() or 1
    print(
        f"CPU seconds            gateways {gateway_cpu:.1f}, PostgreSQL {postgres_cpu:.1f},"
        f" load generator {client_cpu:.1f}  (of {elapsed * cores:.1f} on {cores} cores)"
    )
    drop_scratch_database()


if __name__ == "__main__":
    main()
