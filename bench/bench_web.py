"""The web tier under load: the production server set-up of docs/deployment.md against PostgreSQL, loaded by wrk.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jianguan REDIS_URL=redis://127.0.0.1:6379/6 ./run bench web
    ... ./run bench web --scale 50 --duration 10 --keep        # keep the scratch database for the next run
    ... ./run bench web --reuse --server uvicorn               # same data, another server mode (for comparison)

Loads the Linyi demo data scaled to 10,000 projects (`seed --scale 50`, plus open and closed alarms on a fifth
of the monitors) into a scratch database <db>_bench_web, starts gunicorn (plain requests) and uvicorn (the
live-alarm streams) as docs/deployment.md says, and runs wrk (Debian package `wrk`; installed here when missing
and we are root) against each route: requests/s, p50 and p99 latency at 16 connections, their ratio to the bare
/healthz route of the same stack, then a pass at 64 connections (with live-alarm streams open on the stream
server) that must see no 5xx. PostgreSQL connections of the scratch database are sampled every 50 ms
(pg_stat_activity) throughout: the peak must stay within the configured bound.
Targets (issue 9): project detail and alarm list ≥ 1,000 req/s, project list (50 rows) ≥ 500 req/s, public pages
and API ≥ 1,500 req/s, p99 ≤ 100 ms at 16 connections; no 5xx at 64.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from common import drop_scratch_database, setup_database, setup_django

BENCH_DIR = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
WEB_PORT, STREAM_PORT = 18931, 18932


@dataclass
class Route:
    label: str
    path: str
    auth: str  # "" (anonymous), "token" (API bearer token) or "session" (browser cookie)
    target: float | None = None  # req/s asked for by issue 9


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    s5: int
    s4: int
    socket_errors: int
    peak_connections: int
    app_cpu_ms: float  # CPU of the server processes per request (independent of what else loads the machine)
    db_cpu_ms: float  # CPU of the scratch database's PostgreSQL backends per request


def _cpu_seconds(pid: int, children: bool = False) -> float:
    """utime + stime of a process (and of its reaped children, e.g. recycled workers) from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def _descendants(roots: list[int]) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, grew = set(roots), True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


class CpuMeter:
    """CPU used by the servers (their process trees) and by the database's backends between two readings."""

    def __init__(self, server_pids: list[int], admin_url: str, database: str):
        self.roots, self.admin_url, self.database = server_pids, admin_url, database

    def app(self, roots: list[int] | None = None) -> float:
        roots = roots or self.roots
        return sum(_cpu_seconds(pid, children=pid in roots) for pid in _descendants(roots))

    def read(self) -> tuple[float, float]:
        import psycopg

        app = self.app()
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database])
            backends = [pid for (pid,) in rows]
        return app, sum(_cpu_seconds(pid) for pid in backends)


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: installing the Debian package…", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=False,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        wrk = shutil.which("wrk")
    if not wrk:
        sys.exit("This benchmark needs wrk (Debian: apt-get install wrk). Not found, and it could not be installed.")
    return wrk


class ConnectionSampler(threading.Thread):
    """Counts the scratch database's server processes every 50 ms; `peak` since the last reset()."""

    def __init__(self, admin_url: str, database: str):
        super().__init__(daemon=True)
        self.admin_url, self.database = admin_url, database
        self.peak = self.overall = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while not self.stopped.is_set():
                row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [self.database])
                count = row.fetchone()[0]
                self.peak, self.overall = max(self.peak, count), max(self.overall, count)
                time.sleep(0.05)

    def reset(self) -> None:
        self.peak = 0


def seed_data(scale: int) -> None:
    import datetime as dt
    import random

    from django.utils import timezone

    from jianguan.demo import seed
    from jianguan.sites.models import Alarm, Device, LimitRule

    started = time.perf_counter()
    seed.seed(progress=lambda line: print(line, file=sys.stderr), scale=scale)
    # The demo's readings raise no alarms: a fifth of the monitors get one (open or closed) for the alarm pages.
    rng = random.Random(9)
    rule = LimitRule.objects.filter(parameter="a34002", jurisdiction=None).first()
    now = timezone.now()
    monitors = list(Device.objects.filter(kind=Device.Kind.DUST_NOISE).order_by("pk")[::5])
    states = [Alarm.State.ACTIVE, Alarm.State.ACKNOWLEDGED, Alarm.State.CLEARED, Alarm.State.RESOLVED]
    alarms = []
    for device in monitors:
        state = rng.choice(states)
        raised = now - dt.timedelta(minutes=rng.randint(5, 3000))
        value = round(rule.warning * rng.uniform(1.05, 2.0), 1)
        closed = state in (Alarm.State.CLEARED, Alarm.State.RESOLVED)
        alarms.append(
            Alarm(
                project_id=device.project_id,
                device=device,
                rule=rule,
                parameter=rule.parameter,
                severity="warning",
                state=state,
                raised_at=raised,
                first_value=value,
                last_value=value,
                peak_value=value,
                cleared_at=raised + dt.timedelta(minutes=30) if closed else None,
                resolved_at=raised + dt.timedelta(hours=2) if state == Alarm.State.RESOLVED else None,
            )
        )
    Alarm.objects.bulk_create(alarms)
    print(f"seeded in {time.perf_counter() - started:.0f} s ({len(alarms)} alarms)", file=sys.stderr)


def vacuum_analyze() -> None:
    """As autovacuum would have done on a database in use: planner statistics and the visibility map (without
    them a fresh database sorts every project for a page of 50, and counts read the heap)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def session_cookie(username: str) -> str:
    from django.conf import settings
    from django.test import Client

    from jianguan.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def credentials() -> tuple[str, str]:
    """(API token, session cookie value) of the city bureau's administrator, who sees every project."""
    from jianguan.accounts.models import ApiToken, User

    _, token = ApiToken.issue(User.objects.get(username="admin"), "bench")
    return token, session_cookie("admin")


def start_servers(mode: str, env: dict[str, str]) -> list[subprocess.Popen]:
    """The set-up of docs/deployment.md (mode "production"), or an alternative all-in-one mode for comparison."""
    web = f"127.0.0.1:{WEB_PORT}"
    stream_env = {**env, "DB_POOL_MAX_SIZE": env.get("STREAM_DB_POOL_MAX_SIZE", "6")}
    uvicorn_streams = [str(BIN / "uvicorn"), "jianguan.asgi:application", "--host", "127.0.0.1"]
    uvicorn_streams += ["--port", str(STREAM_PORT), "--lifespan", "off", "--no-access-log", "--workers", "1"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if mode in ("production", "sync"):
        worker_env = {**env, "WEB_BIND": web}
        if mode == "sync":
            worker_env |= {"WEB_WORKER_CLASS": "sync", "WEB_THREADS": "1"}
        web_cmd = [str(BIN / "gunicorn"), "-c", "python:jianguan.gunicorn_conf", "jianguan.wsgi"]
        procs = [subprocess.Popen(web_cmd, env=worker_env, **quiet)]
    elif mode == "uvicorn":  # everything on uvicorn, as docs/deployment.md said before issue 9
        workers = env.get("WEB_CONCURRENCY", "2")
        cmd = [str(BIN / "uvicorn"), "jianguan.asgi:application", "--host", "127.0.0.1", "--port", str(WEB_PORT)]
        cmd += ["--lifespan", "off", "--no-access-log", "--workers", workers]
        procs = [subprocess.Popen(cmd, env=env, **quiet)]
    else:
        raise SystemExit(f"unknown server mode {mode}")
    procs.append(subprocess.Popen(uvicorn_streams, env=stream_env, **quiet))
    for port in (WEB_PORT, STREAM_PORT):
        wait_http(f"http://127.0.0.1:{port}/healthz")
    return procs


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server at {url} did not come up")


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_wrk(wrk: str, url: str, headers: list[str], connections: int, seconds: int) -> dict:
    cmd = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(BENCH_DIR / "wrk_report.lua")]
    for header in headers:
        cmd += ["-H", header]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRK-JSON "))
    return json.loads(line.removeprefix("WRK-JSON "))


def wait_idle(cpu: CpuMeter, limit: float = 180.0) -> None:
    """Waits until the servers have finished what wrk left queued (a slow route's backlog outlives its run and
    would be counted against the next route): the web server's CPU use below a tenth of a core for half a second
    (the stream server keeps polling for its open streams)."""
    web = cpu.roots[:1]
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = cpu.app(web)
        time.sleep(0.5)
        if cpu.app(web) - before < 0.05:
            return


def measure(wrk, route: Route, headers, connections, seconds, sampler: ConnectionSampler, cpu: CpuMeter) -> Result:
    url = f"http://127.0.0.1:{WEB_PORT}{route.path}"
    wait_idle(cpu)
    run_wrk(wrk, url, headers, connections, 1)  # warm-up: first requests, caches, pool
    sampler.reset()
    app_before, db_before = cpu.read()
    data = run_wrk(wrk, url, headers, connections, seconds)
    app_after, db_after = cpu.read()
    done = max(1, data["requests"])
    errors = data["connect_errors"] + data["read_errors"] + data["write_errors"] + data["timeouts"]
    return Result(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        requests=data["requests"],
        s5=data["s5"],
        s4=data["s4"],
        socket_errors=errors,
        peak_connections=sampler.peak,
        app_cpu_ms=(app_after - app_before) * 1000 / done,
        db_cpu_ms=max(0.0, db_after - db_before) * 1000 / done,  # a backend that closed meanwhile takes its CPU
    )


class StreamClients:
    """Live-alarm pages open on the stream server during the 64-connection pass: each must have its stream
    (200, text/event-stream, the first events) before the pass starts and still have it when the pass ends."""

    def __init__(self, count: int, cookie: str):
        self.count, self.cookie = count, cookie
        self.opened = self.closed = 0
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self.one, daemon=True) for _ in range(count)]

    def one(self) -> None:
        with socket.create_connection(("127.0.0.1", STREAM_PORT), timeout=60) as sock:
            request = (
                "GET /sites/alarms/stream/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Cookie: sessionid={self.cookie}\r\nAccept: text/event-stream\r\n\r\n"
            )
            sock.sendall(request.encode())
            received = b""
            while b"retry:" not in received:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                received += chunk
            if not (received.startswith(b"HTTP/1.1 200") and b"text/event-stream" in received):
                return
            with self.lock:
                self.opened += 1
            sock.settimeout(0.5)
            while not self.stopped.is_set():
                try:
                    if not sock.recv(4096):
                        with self.lock:
                            self.closed += 1
                        return
                except TimeoutError:
                    continue

    @property
    def open_throughout(self) -> int:
        return self.opened - self.closed

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        deadline = time.monotonic() + 60
        while self.opened < self.count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        for thread in self.threads:
            thread.join(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=50, help="demo data × scale (50: 10,000 projects)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per route and pass")
    parser.add_argument("--server", default="production", choices=["production", "sync", "uvicorn"])
    parser.add_argument("--routes", default="", help="only routes whose label contains one of these (comma-separated)")
    parser.add_argument("--streams", type=int, default=20, help="live-alarm streams open during the 64 pass")
    parser.add_argument("--reuse", action="store_true", help="use the data of an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench web measures the production set-up: set DATABASE_URL to a PostgreSQL database.")
    if not os.environ.get("REDIS_URL"):
        print("warning: REDIS_URL is not set: each process caches on its own (production uses Redis)", file=sys.stderr)
    wrk = ensure_wrk()
    setup_database("web", reuse=args.reuse)
    setup_django(ALLOWED_HOSTS="127.0.0.1,localhost", SECURE_SSL_REDIRECT="0")
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connections

    from jianguan.projects.models import Project
    from jianguan.projects.permissions import PUBLISHED_STATES
    from jianguan.sites.models import Alarm, Device

    if not Project.objects.exists():
        seed_data(args.scale)
    elif args.reuse:
        print("reusing the scratch database of an earlier run", file=sys.stderr)
    vacuum_analyze()
    call_command("collectstatic", "--noinput", verbosity=0)
    cache.clear()
    token, cookie = credentials()
    district_cookie = session_cookie("lanshan_reg")
    detail_id = Project.objects.exclude(state="draft").order_by("pk").values_list("pk", flat=True)[149]
    public_id = Project.objects.filter(state__in=PUBLISHED_STATES).order_by("pk").values_list("pk", flat=True)[99]
    data_line = (
        f"{Project.objects.count():,} projects ({Project.objects.filter(state__in=PUBLISHED_STATES).count():,} "
        f"published), {Device.objects.filter(kind='dust_noise').count():,} monitors, {Alarm.objects.count():,} alarms"
    )
    database = settings.DATABASES["default"]["NAME"]
    connections.close_all()
    for conn in connections.all(initialized_only=True):
        conn.close_pool()  # this process's pooled connections would count against the servers' bound

    routes = [
        Route("hello (/healthz, yardstick)", "/healthz", ""),
        Route("API project list, 50 rows", "/api/projects?page_size=50", "token", 500),
        Route("API project detail", f"/api/projects/{detail_id}", "token", 1000),
        Route("API alarm list, 50 rows", "/api/alarms", "token", 1000),
        Route("API public project list", "/api/public/projects", "", 1500),
        Route("public list page /public/", "/public/", "", 1500),
        Route("public project page", f"/public/{public_id}/", "", 1500),
        Route("project list page /projects/", "/projects/", "session"),
        Route("alarm list page /sites/alarms/", "/sites/alarms/", "session"),
        Route("monitoring overview /sites/monitors/", "/sites/monitors/", "session"),
        Route("same, 兰山区 regulator", "/sites/monitors/", "district"),
    ]
    wanted = [w.strip() for w in args.routes.split(",")]
    routes = [r for r in routes if any(w in r.label for w in wanted) or r.path == "/healthz"]
    auth_headers = {
        "": [],
        "token": [f"Authorization: Bearer {token}"],
        "session": [f"Cookie: sessionid={cookie}"],
        "district": [f"Cookie: sessionid={district_cookie}"],
    }

    env = dict(os.environ)
    workers = int(env.setdefault("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
    threads = 1 if args.server == "sync" else int(env.setdefault("WEB_THREADS", "2"))
    stream_pool = int(env.setdefault("STREAM_DB_POOL_MAX_SIZE", str(settings.LIVE_ALARM_POLL_THREADS + 2)))
    if args.server == "uvicorn":
        env.setdefault("DB_POOL_MAX_SIZE", "4")
        bound = workers * int(env["DB_POOL_MAX_SIZE"]) + stream_pool
        setup_line = f"uvicorn ASGI, {workers} workers × pool {env['DB_POOL_MAX_SIZE']}"
    else:
        bound = workers * threads + stream_pool
        kind = "sync" if args.server == "sync" else f"gthread × {threads} threads"
        setup_line = f"gunicorn WSGI, {workers} workers ({kind}; pool {threads} each)"
    setup_line += f" + uvicorn for the live streams (pool {stream_pool}): connection bound {bound}"

    sampler = ConnectionSampler(os.environ["JIANGUAN_BENCH_ADMIN_URL"], database)
    sampler.start()
    before = os.getloadavg()
    procs = start_servers(args.server, env)
    cpu = CpuMeter([p.pid for p in procs], os.environ["JIANGUAN_BENCH_ADMIN_URL"], database)
    try:
        results = {}
        for route in routes:
            headers = auth_headers[route.auth]
            results[route.label] = measure(wrk, route, headers, 16, args.duration, sampler, cpu)
            print(f"  {route.label}: {results[route.label].rps:,.0f} req/s", file=sys.stderr)
        load = os.getloadavg()
        print(f"64-connection pass ({args.streams} live-alarm streams open)…", file=sys.stderr)
        heavy = {}
        with StreamClients(args.streams, cookie) as streams:
            for route in routes:
                heavy[route.label] = measure(
                    wrk, route, auth_headers[route.auth], 64, max(3, args.duration // 2), sampler, cpu
                )
            streams_ok = streams.open_throughout
    finally:
        stop(procs)
        sampler.stopped.set()
        sampler.join(2)

    hello = results[routes[0].label]
    print(
        f"\nweb benchmark: {data_line}; PostgreSQL {database}; REDIS_URL {'set' if env.get('REDIS_URL') else 'unset'}"
    )
    print(f"server: {setup_line}")
    print(f"wrk: 2 threads, 16 connections, {args.duration} s per route (after 1 s warm-up), same machine")
    print(
        f"load average (1, 5, 15 min) before the servers started: {before[0]:.2f} {before[1]:.2f} {before[2]:.2f};"
        f" at the end of the 16-connection runs: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n"
    )
    print(
        f"{'route':40} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'÷hello':>6} {'target':>6} {'5xx':>4}"
        f" {'peak conn':>9} {'CPU ms/req: app':>15} {'db':>5}"
    )
    for route in routes:
        r = results[route.label]
        target = f"{route.target:,.0f}" if route.target else "—"
        ratio = r.rps / hello.rps
        mark = "" if not route.target or (r.rps >= route.target and r.p99_ms <= 100) else " ✗"
        print(
            f"{route.label:40} {r.rps:8,.0f} {r.p50_ms:7.1f} {r.p99_ms:7.1f} {ratio:6.2f} {target:>6} {r.s5:4d} "
            f"{r.peak_connections:9d} {r.app_cpu_ms:15.2f} {r.db_cpu_ms:5.2f}{mark}"
        )
    passes = f"{max(3, args.duration // 2)} s per route, {streams_ok}/{args.streams} live streams open throughout"
    print(f"\n64 connections ({passes}):")
    print(f"{'route':40} {'req/s':>8} {'p99 ms':>8} {'5xx':>5} {'4xx':>5} {'sock err':>8} {'peak conn':>9}")
    for route in routes:
        r = heavy[route.label]
        print(
            f"{route.label:40} {r.rps:8,.0f} {r.p99_ms:8.1f} {r.s5:5d} {r.s4:5d} {r.socket_errors:8d}"
            f" {r.peak_connections:9d}"
        )
    total_5xx = sum(r.s5 for r in (*results.values(), *heavy.values()))
    print(
        f"\npeak PostgreSQL connections over the whole run: {sampler.overall} (bound {bound}); 5xx answers: {total_5xx}"
    )
    if not args.keep:
        drop_scratch_database()
    if total_5xx or sampler.overall > bound or streams_ok < args.streams:
        sys.exit(1)


if __name__ == "__main__":
    main()
