"""Live alarms: the server-sent-events feed (only what the user may read, changes since the client's cursor,
heartbeat, a bounded life) and the pages that listen to it (alarm list, project panel)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connections
from django.test import AsyncClient, Client
from django.utils import timezone

from jianguan.accounts.models import Department, User
from jianguan.projects.models import State
from jianguan.sites.alarms import handling, live
from jianguan.sites.models import Alarm, Device, LimitRule
from jianguan.testing import factories as f

STREAM = "/sites/alarms/stream/"


@pytest.fixture(autouse=True)
def quick_stream(monkeypatch):
    """Streams that poll fast and end after a moment (MAX_SECONDS is the knob a test turns)."""
    monkeypatch.setattr(live, "POLL_SECONDS", 0.02)
    monkeypatch.setattr(live, "MAX_SECONDS", 0.0)
    # Polls run in the test's thread, where its transaction holds the data (poll_pool below: the real pool).
    monkeypatch.setattr(live, "USE_POLL_POOL", False)


@pytest.fixture
def site(lanshan, luozhuang):
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=lanshan)
    device = Device.objects.create(project=project, name="东门监测", kind="dust_noise", protocol="hj212", mn="LIVE1")
    regulator = f.UserFactory(
        role=User.Role.DISTRICT_REGULATOR,
        department=Department.objects.create(name="兰山区住建局", kind="housing", jurisdiction=lanshan),
    )
    other = f.UserFactory(
        role=User.Role.DISTRICT_REGULATOR,
        department=Department.objects.create(name="罗庄区住建局", kind="housing", jurisdiction=luozhuang),
    )
    builder = f.UserFactory(
        role=User.Role.ENTERPRISE_USER, enterprise=project.participants.get(role="general_contractor").enterprise
    )
    return SimpleNamespace(project=project, device=device, regulator=regulator, other=other, builder=builder)


def raise_alarm(device, value=120.0, state=Alarm.State.ACTIVE, **kwargs) -> Alarm:
    return Alarm.objects.create(
        project=device.project,
        device=device,
        rule=LimitRule.objects.get(parameter="a34004", jurisdiction=None),
        parameter="a34004",
        severity="warning",
        state=state,
        raised_at=kwargs.pop("raised_at", timezone.now()),
        first_value=value,
        last_value=value,
        peak_value=value,
        **kwargs,
    )


def listen(user, url=STREAM, headers=None, during=None):
    """Opens the stream with Django's async client and reads it to its end; `during(n)` runs (in the test's
    thread, with its database) after the n-th chunk. Returns the response and its chunks as text."""

    async def run():
        client = AsyncClient()
        if user is not None:
            await client.aforce_login(user)
        response = await client.get(url, headers=headers or {})
        chunks = []
        if response.streaming:
            async for chunk in response.streaming_content:
                chunks.append(chunk.decode())
                if during is not None:
                    await sync_to_async(during)(len(chunks))
        return response, chunks

    return async_to_sync(run)()


def events(chunks) -> list[dict]:
    found = []
    for block in "".join(chunks).split("\n\n"):
        lines = block.split("\n")
        if "event: alarm" in lines:
            found.append(json.loads(next(line[6:] for line in lines if line.startswith("data: "))))
    return found


def ids(chunks) -> list[str]:
    return [line[4:] for line in "".join(chunks).split("\n") if line.startswith("id: ")]


def test_anonymous_is_sent_to_the_login_page(site):
    response, chunks = listen(None)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert chunks == []


def test_a_reconnecting_client_gets_what_changed_since_its_cursor(site):
    project, device, regulator = site.project, site.device, site.regulator
    alarm = raise_alarm(device)
    response, chunks = listen(regulator, headers={"Last-Event-ID": "0-0"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"] == "no-cache"
    first = chunks[0]
    assert first.startswith("retry: ")
    [event] = events(chunks)
    assert event["id"] == alarm.pk and event["state"] == "active" and event["project"] == project.pk
    assert f'id="alarm-{alarm.pk}"' in event["html"] and "PM2.5" in event["html"]
    assert "确认" in event["html"] and "关闭" in event["html"]  # a regulator of the district may do both
    [cursor] = ids(chunks)
    assert live.Cursor.parse(cursor).last_id == alarm.pk


def test_another_districts_regulator_and_a_bystander_hear_nothing(site):
    project, device, regulator, other = site.project, site.device, site.regulator, site.other
    raise_alarm(device)
    for user in (other, f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=f.EnterpriseFactory())):
        response, chunks = listen(user, headers={"Last-Event-ID": "0-0"})
        assert response.status_code == 200
        assert events(chunks) == [] and "alarm-" not in "".join(chunks)
        # Nor can they ask for the project's feed.
        response, chunks = listen(user, f"{STREAM}?project={project.pk}&since=0-0")
        assert response.status_code == 404
    assert listen(regulator, f"{STREAM}?project=abc")[0].status_code == 404


def test_new_and_changed_alarms_are_pushed_while_connected(site, monkeypatch):
    device, regulator = site.device, site.regulator
    old = raise_alarm(device, state=Alarm.State.RESOLVED, resolved_at=timezone.now() - dt.timedelta(hours=2))
    open_alarm = raise_alarm(device, value=100)
    monkeypatch.setattr(live, "MAX_SECONDS", 1.0)
    created = []

    def change(n):
        if n == 1:  # after the first chunk (the baseline: nothing sent)
            open_alarm.last_value = open_alarm.peak_value = 180.0
            open_alarm.severity = "critical"
            open_alarm.save()
            created.append(raise_alarm(device, value=130))

    _, chunks = listen(regulator, during=change)
    assert events(chunks[:1]) == []  # no cursor: the page just rendered the current state
    sent = events(chunks)
    assert [e["id"] for e in sent] == [open_alarm.pk, created[0].pk]  # oldest first: the client prepends
    assert "180.0" in sent[0]["html"] and "严重" in sent[0]["html"]
    assert old.pk not in [e["id"] for e in sent]
    assert live.Cursor.parse(ids(chunks)[-1]).last_id == created[0].pk


def test_acknowledged_and_resolved_alarms_update_the_project_panel(site, monkeypatch):
    project, device, builder = site.project, site.device, site.builder
    alarm = raise_alarm(device)
    monkeypatch.setattr(live, "MAX_SECONDS", 1.0)

    def change(n):
        if n == 1:
            handling.acknowledge(builder, Alarm.objects.get(pk=alarm.pk), "雾炮已开启")

    _, chunks = listen(builder, f"{STREAM}?project={project.pk}", during=change)
    [event] = events(chunks)
    assert event["state"] == "acknowledged" and "雾炮已开启" in event["html"]
    assert event["html"].startswith("<li")  # the project panel's item, not the list's row
    assert "关闭" not in event["html"]  # the contractor may acknowledge, only the regulator resolves


def test_last_event_id_replays_open_and_recently_changed_alarms_only(site):
    device, regulator = site.device, site.regulator
    long_closed = raise_alarm(device, state=Alarm.State.RESOLVED, resolved_at=timezone.now() - dt.timedelta(hours=3))
    still_open = raise_alarm(device)
    cursor = live.Cursor(still_open.pk, timezone.now() - dt.timedelta(minutes=1))
    Alarm.objects.filter(pk=still_open.pk).update(state=Alarm.State.RESOLVED, resolved_at=timezone.now())
    newer = raise_alarm(device)
    _, chunks = listen(regulator, f"{STREAM}?since=1-1", headers={"Last-Event-ID": str(cursor)})
    sent = [e["id"] for e in events(chunks)]
    assert sent == [still_open.pk, newer.pk]  # resolved after the cursor; created after it
    assert long_closed.pk not in sent


def test_heartbeat_and_bounded_life(site, monkeypatch):
    regulator = site.regulator
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.0)
    monkeypatch.setattr(live, "POLL_SECONDS", 0.05)
    monkeypatch.setattr(live, "MAX_SECONDS", 0.5)  # time for a few polls even on a busy machine
    _, chunks = listen(regulator)
    assert any(": keep-alive" in c for c in chunks[1:])
    assert len(chunks) <= 12  # ended by itself (the browser reconnects with its Last-Event-ID)
    assert all("event: alarm" not in c for c in chunks)


@pytest.fixture
def poll_pool(transactional_db, monkeypatch, settings):
    """The shared poll pool as served in production, with two threads; its connections closed afterwards."""
    monkeypatch.setattr(live, "USE_POLL_POOL", True)
    settings.LIVE_ALARM_POLL_THREADS = 2
    live.reset_poll_pool()
    yield
    live.reset_poll_pool()


def test_many_open_pages_share_a_few_database_connections(poll_pool, site, monkeypatch):
    alarm = raise_alarm(site.device)
    monkeypatch.setattr(live, "MAX_SECONDS", 0.3)
    connections_used, threads = set(), set()
    poll_and_render = live.AlarmWatch.poll_and_render

    def watched(self):
        connections_used.add(id(connections["default"]))
        threads.add(threading.current_thread().name)
        return poll_and_render(self)

    monkeypatch.setattr(live.AlarmWatch, "poll_and_render", watched)

    async def page() -> str:
        client = AsyncClient()
        await client.aforce_login(site.regulator)
        response = await client.get(STREAM, headers={"Last-Event-ID": "0-0"})
        return "".join([chunk.decode() async for chunk in response.streaming_content])

    async def eight_pages():
        return await asyncio.gather(*(page() for _ in range(8)))

    bodies = async_to_sync(eight_pages)()
    assert all(f'"id": {alarm.pk}' in body for body in bodies)  # every page heard of the alarm
    assert threads and all(name.startswith("live-alarms") for name in threads)
    assert 1 <= len(connections_used) <= 2  # eight open streams, at most one connection per pool thread


def test_cursor_parsing():
    cursor = live.Cursor(42, dt.datetime(2026, 11, 20, 2, 3, 4, 500000, tzinfo=dt.UTC))
    assert live.Cursor.parse(str(cursor)) == cursor
    for bad in (None, "", "x", "1-2-3", "a-b", "1-99999999999999999999"):
        assert live.Cursor.parse(bad) is None


def test_pages_listen_and_offer_what_the_user_may_do(site):
    project, device, regulator, builder = site.project, site.device, site.regulator, site.builder
    active = raise_alarm(device)
    cleared = raise_alarm(device, state=Alarm.State.CLEARED, cleared_at=timezone.now())
    web = Client()
    web.force_login(builder)
    page = web.get(f"/projects/{project.pk}/").content.decode()
    assert "现场设备与告警" in page and f'data-alarm-live="{STREAM}?project={project.pk}"' in page
    assert f'id="alarm-{active.pk}"' in page and f'id="alarm-{cleared.pk}"' in page
    assert "live-alarms.js" in page and "data-live-indicator" in page
    panel = page.split('id="site"')[1].split("状态记录")[0]
    assert "acknowledge" in panel and "/resolve/" not in panel  # the contractor acknowledges only
    web.force_login(regulator)
    panel = web.get(f"/projects/{project.pk}/").content.decode().split('id="site"')[1].split("状态记录")[0]
    assert "acknowledge" in panel and "/resolve/" in panel
    listing = web.get("/sites/alarms/").content.decode()
    assert f'data-alarm-live="{STREAM}"' in listing and 'data-prepend="1"' in listing
    assert f'data-max-id="{cleared.pk}"' in listing
    assert 'data-prepend="1"' not in web.get("/sites/alarms/?state=resolved").content.decode()


def test_alarm_actions_go_back_to_the_page_but_never_off_site(site):
    project, device, regulator = site.project, site.device, site.regulator
    alarm = raise_alarm(device)
    web = Client()
    web.force_login(regulator)
    back = web.post(
        f"/sites/alarms/{alarm.pk}/acknowledge/", {"comment": "已处理", "next": f"/projects/{project.pk}/#site"}
    )
    assert back["Location"] == f"/projects/{project.pk}/#site"
    off = web.post(f"/sites/alarms/{alarm.pk}/resolve/", {"comment": "x", "next": "https://evil.example/"})
    assert off["Location"] == "/sites/alarms/"
    alarm.refresh_from_db()
    assert alarm.state == Alarm.State.RESOLVED
