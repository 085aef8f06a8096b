"""Simulated dust/noise monitors speaking real HJ 212-2017 over TCP, with daily patterns and occasional
dust episodes, so the demo shows live data and alarms. No Django: the caller passes the devices."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import random
import threading
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field

from ..protocols import hj212

log = logging.getLogger("jianguan.sites.simulator")
BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")


def beijing_now() -> dt.datetime:
    """Devices report DataTime in Beijing time, whatever the host's time zone."""
    return dt.datetime.now(BEIJING).replace(tzinfo=None)


@dataclass
class SimulatedMonitor:
    mn: str
    password: str
    rng: random.Random = field(default_factory=random.Random)
    episode_left: int = 0  # readings left in a dust episode (exceedance)
    episode_level: float = 0.0
    episode_chance: float = 0.01  # per reading in working hours

    def values(self, now: dt.datetime) -> dict[str, float]:
        hour = now.hour + now.minute / 60
        # Morning and evening traffic peaks; a working-hours bump for site activity.
        diurnal = 1 + 0.35 * math.exp(-((hour - 8) ** 2) / 4) + 0.3 * math.exp(-((hour - 19) ** 2) / 5)
        working = 7 <= hour < 19
        if self.episode_left == 0 and working and self.rng.random() < self.episode_chance:
            self.episode_left = self.rng.randint(5, 12)
            self.episode_level = self.rng.uniform(100, 200)
        pm25 = 35 * diurnal + self.rng.gauss(0, 5)
        if self.episode_left:
            self.episode_left -= 1
            pm25 = self.episode_level + self.rng.gauss(0, 10)
        noise = (62 if working else 48) + self.rng.gauss(0, 3)
        return {
            "a34004": max(pm25, 3),
            "a34002": max(pm25 * self.rng.uniform(1.6, 2.0), 5),
            "a34001": max(pm25 * self.rng.uniform(2.5, 3.2), 8),
            "LA": noise,
            "a01001": 12 + 8 * math.sin((hour - 9) / 24 * 2 * math.pi) + self.rng.gauss(0, 0.5),
            "a01002": min(max(55 + self.rng.gauss(0, 8), 10), 99),
            "a01007": max(self.rng.gauss(2.5, 1.2), 0),
            "a01008": self.rng.uniform(0, 360),
        }

    def frame(self, now: dt.datetime) -> bytes:
        factors = {code: {"Rtd": f"{value:.1f}", "Flag": "N"} for code, value in self.values(now).items()}
        packet = hj212.Packet(
            qn=hj212.make_qn(now),
            st="22",
            cn=hj212.CN.RTD_DATA,
            pw=self.password,
            mn=self.mn,
            flag=5,  # 2017 edition, answer requested
            pnum=None,
            pno=None,
            cp=hj212.CP(data_time=now.replace(microsecond=0), factors=factors, params={}),
        )
        return hj212.encode(packet)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleeps, but wakes at once when the simulator is stopped."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _run_monitor(monitor: SimulatedMonitor, host: str, port: int, interval: float, stop: asyncio.Event):
    await _pause(stop, monitor.rng.uniform(0, interval))  # spread the devices over the interval
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            await _pause(stop, 5)
            continue
        try:
            while not stop.is_set():
                writer.write(monitor.frame(beijing_now()))
                await writer.drain()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(reader.readuntil(b"\r\n"), timeout=5)
                await _pause(stop, interval)
        except (OSError, asyncio.IncompleteReadError, ConnectionError):
            await _pause(stop, 2)  # reconnect, as real devices do
        finally:
            writer.close()


async def simulate(
    devices: list[tuple[str, str]], host: str, port: int, interval: float, stop: asyncio.Event, seed: int = 0
):
    monitors = [SimulatedMonitor(mn, pw, random.Random(seed + i)) for i, (mn, pw) in enumerate(devices)]
    log.info("simulating %d HJ 212 monitors → %s:%s every %.0f s", len(monitors), host, port, interval)
    await asyncio.gather(*(_run_monitor(m, host, port, interval, stop) for m in monitors))


def run_in_thread(devices: list[tuple[str, str]], host: str, port: int, interval: float) -> Callable[[], None]:
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def target():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(simulate(devices, host, port, interval, stop))

    thread = threading.Thread(target=target, name="hj212-simulator", daemon=True)
    thread.start()

    def stop_all():
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)

    return stop_all
