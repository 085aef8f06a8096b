"""Monitoring pages on a real database: the overview (监测总览) over a city's monitors and one monitor's trend.

    ./run bench overview                     # SQLite (a fresh file): 1000 monitors, 3 hours of readings each
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test ./run bench overview
    ./run bench overview --monitors 3000 --hours 2

PostgreSQL runs use a scratch database (<name>_bench_overview), created for the run and dropped after it.
Readings: one a minute per parameter (PM2.5, PM10, noise), plus a week for one monitor (its trend chart).
Goal: the overview of all monitors in well under a second; a 7-day trend in under 0.3 s. Also times the
hourly roll-up (aggregates with exceedance counts) of one of those hours.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time

from common import drop_scratch_database, setup_database, setup_django


def timed(fn, runs: int) -> tuple[float, float]:
    """(median, worst) seconds of `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--hours", type=int, default=3, help="hours of readings per monitor")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    engine = setup_database("overview")
    # The test client speaks plain HTTP to the pages; they are served as in production (collected statics).
    setup_django(ALLOWED_HOSTS="testserver", SECURE_SSL_REDIRECT="0")
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from jianguan.accounts.models import User
    from jianguan.sites.models import Device, Reading
    from jianguan.sites.readings import aggregates, overview, trends
    from jianguan.testing import factories as f

    call_command("collectstatic", "--noinput", verbosity=0)
    rng = random.Random(7)
    projects = [f.ProjectFactory(state="under_construction") for _ in range(max(1, args.monitors // 5))]
    Device.objects.bulk_create(
        [
            Device(
                project=projects[i % len(projects)],
                name=f"监测 {i}",
                kind="dust_noise",
                protocol="hj212",
                mn=f"OV{i:06d}",
                last_seen_at=timezone.now(),
            )
            for i in range(args.monitors)
        ]
    )
    devices = list(Device.objects.order_by("pk"))
    now = timezone.now().replace(second=0, microsecond=0)
    minutes = args.hours * 60
    total = 0
    started = time.perf_counter()
    for k, device in enumerate(devices):
        rows = []
        for m in range(minutes):
            ts = now - dt.timedelta(minutes=m)
            pm25 = rng.gauss(45, 15)
            rows += [
                Reading(device=device, parameter="a34004", series=0, ts=ts, value=round(pm25, 1), flag="N"),
                Reading(device=device, parameter="a34002", series=0, ts=ts, value=round(pm25 * 1.8, 1), flag="N"),
                Reading(device=device, parameter="LA", series=0, ts=ts, value=round(rng.gauss(60, 5), 1), flag="N"),
            ]
        Reading.objects.bulk_create(rows, batch_size=5000)
        total += len(rows)
        if (k + 1) % max(1, len(devices) // 10) == 0:
            print(f"  readings: {k + 1}/{len(devices)} monitors, {total:,} rows", file=sys.stderr)
    week_device = devices[0]
    week = [
        Reading(device=week_device, parameter=p, series=0, ts=now - dt.timedelta(minutes=m), value=40.0, flag="N")
        for m in range(minutes, 7 * 24 * 60)
        for p in ("a34004", "a34002", "LA")
    ]
    Reading.objects.bulk_create(week, batch_size=5000)
    total += len(week)
    print(
        f"monitoring-pages benchmark on {engine}: {len(devices):,} monitors, {total:,} readings "
        f"(loaded in {time.perf_counter() - started:.0f} s)"
    )

    admin = User.objects.create_user("bench_admin", password="x", role=User.Role.BUREAU_ADMIN)
    client = Client()
    client.force_login(admin)

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    def report(label: str, fn) -> None:
        median, worst = timed(fn, args.runs)
        print(f"{label}: median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms")

    report(f"overview of {len(devices):,} monitors (service)", lambda: overview.overview(admin))
    report("/sites/monitors/ page (all monitors ranked, 50 shown)", lambda: get("/sites/monitors/"))
    for hours in (24, 168):
        report(f"trend of one monitor, {hours} h (service)", lambda h=hours: trends.device_trend(week_device, hours=h))
    report("GET /api/devices/{id}/trend?hours=168", lambda: get(f"/api/devices/{week_device.pk}/trend?hours=168"))
    hour = aggregates.hour_floor(now - dt.timedelta(hours=2))
    in_hour = Reading.objects.filter(ts__gte=hour, ts__lt=hour + aggregates.HOUR).count()
    report(f"roll-up of one hour ({in_hour:,} readings, with exceedance counts)", lambda: aggregates.roll_hour(hour))
    drop_scratch_database()


if __name__ == "__main__":
    main()
