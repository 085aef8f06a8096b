import datetime as dt
import random
import socket
import time

from jianguan.projects.models import State
from jianguan.sites.devices import identity
from jianguan.sites.devices import services as device_services
from jianguan.sites.ingest import simulator
from jianguan.sites.ingest.hj212_gateway import build_gateway
from jianguan.sites.models import Reading
from jianguan.sites.protocols import hj212
from jianguan.testing import factories as f


def test_frames_are_valid_hj212_with_a_daily_pattern():
    monitor = simulator.SimulatedMonitor("SIM1", "pw", random.Random(7))
    packet = hj212.decode(monitor.frame(dt.datetime(2026, 11, 20, 8, 0)))
    assert packet.cn == "2011" and packet.needs_response
    assert {"a34004", "a34002", "LA", "a01007"} <= set(packet.cp.factors)
    night = [monitor.values(dt.datetime(2026, 11, 20, 2, m))["LA"] for m in range(50)]
    day = [monitor.values(dt.datetime(2026, 11, 20, 10, m))["LA"] for m in range(50)]
    assert sum(day) / 50 > sum(night) / 50 + 8


def test_dust_episodes_exceed_the_limit_sometimes():
    monitor = simulator.SimulatedMonitor("SIM1", "pw", random.Random(3))
    values = [monitor.values(dt.datetime(2026, 11, 20, 10) + dt.timedelta(minutes=i))["a34004"] for i in range(2000)]
    assert any(v > 100 for v in values) and sum(v > 75 for v in values) < len(values) / 4


def test_simulated_devices_reach_the_database(transactional_db, lanshan_regulator):
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION)
    identity.invalidate_cache()
    for i in range(2):
        device_services.register_device(
            lanshan_regulator,
            project,
            {"name": f"监测{i}", "kind": "dust_noise", "protocol": "hj212", "mn": f"SIM{i}", "password": "pw"},
        )
    gateway = build_gateway("127.0.0.1", 0)
    stop_gateway = gateway.run_in_thread()
    stop = simulator.run_in_thread([("SIM0", "pw"), ("SIM1", "pw")], "127.0.0.1", gateway.port, interval=0.3)
    try:
        deadline = time.time() + 10
        while time.time() < deadline and Reading.objects.values("device").distinct().count() < 2:
            time.sleep(0.2)
    finally:
        stop()
        stop_gateway()
    assert Reading.objects.values("device").distinct().count() == 2
    assert gateway.stats.snapshot()["frames_ok"] >= 2


def test_a_stopped_simulator_ends_at_once_even_mid_wait():
    """Ctrl+C in the demo: the devices' waits (their start spread, the interval, a reconnect) end with it."""
    with socket.socket() as closed:  # nothing listens here: the devices wait to reconnect
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    stop = simulator.run_in_thread([(f"SIM{i}", "pw") for i in range(20)], "127.0.0.1", port, interval=60)
    time.sleep(0.3)
    started = time.monotonic()
    stop()
    assert time.monotonic() - started < 2
