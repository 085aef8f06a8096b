"""Browser test: a dust monitor's sustained PM2.5 exceedance, sent over TCP (HJ 212) to the gateway, raises one
alarm that appears live (no reload) on the district regulator's alarm list; the regulator acknowledges it with a
comment on the project page, the open list follows, and the alarm notification reached the right people.

The pages are served by uvicorn (`asgi_live_server`, conftest.py) so the server-sent-events feed streams."""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from jianguan.accounts.models import Department, User
from jianguan.notify.models import Notification
from jianguan.projects.models import State
from jianguan.sites.alarms import live
from jianguan.sites.alarms.rules import invalidate_rules
from jianguan.sites.devices import identity
from jianguan.sites.devices import services as device_services
from jianguan.sites.ingest.hj212_gateway import build_gateway
from jianguan.sites.limits.defaults import ensure_defaults
from jianguan.sites.models import Alarm, LimitRule
from jianguan.sites.protocols import hj212
from jianguan.sites.protocols.gateway import send_packets
from jianguan.testing import factories as f

from .conftest import login

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect

MN, PW = "LY371302DUST0009", "123456"
WAIT = 8000  # ms: the feed polls every 0.2 s here (2 s in production)


@pytest.fixture
def site(transactional_db):
    # The flush of transactional tests removes the migrations' default limits: put them back (PM2.5 > 75 µg/m³
    # three readings in a row raises), and forget rules and device identities cached by earlier tests.
    invalidate_rules()
    identity.invalidate_cache()
    ensure_defaults(LimitRule)
    lanshan = f.division("371302", "兰山区")
    luozhuang = f.division("371311", "罗庄区")
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=lanshan, name="沂河湾安置房一期")
    regulator = f.UserFactory(
        username="regulator",
        role=User.Role.DISTRICT_REGULATOR,
        department=Department.objects.create(name="兰山区住房和城乡建设局", kind="housing", jurisdiction=lanshan),
    )
    elsewhere = f.UserFactory(
        role=User.Role.DISTRICT_REGULATOR,
        department=Department.objects.create(name="罗庄区住房和城乡建设局", kind="housing", jurisdiction=luozhuang),
    )
    builder = f.UserFactory(
        role=User.Role.ENTERPRISE_USER, enterprise=project.participants.get(role="general_contractor").enterprise
    )
    device = device_services.register_device(
        regulator,
        project,
        {"name": "东门扬尘监测", "kind": "dust_noise", "protocol": "hj212", "mn": MN, "password": PW},
    )
    return SimpleNamespace(project=project, device=device, regulator=regulator, elsewhere=elsewhere, builder=builder)


@pytest.fixture
def gateway(asgi_live_server, site):
    gw = build_gateway("127.0.0.1", 0)
    stop = gw.run_in_thread()
    yield gw
    stop()


def frame(when: dt.datetime, pm25: float) -> bytes:
    """An HJ 212 real-time upload (CN 2011); `when` is the device's clock, Beijing time."""
    return hj212.frame_segment(
        f"QN={when:%Y%m%d%H%M%S}000;ST=22;CN=2011;PW={PW};MN={MN};Flag=5;"
        f"CP=&&DataTime={when:%Y%m%d%H%M%S};a34004-Rtd={pm25},a34004-Flag=N&&"
    )


def send(port: int, frames: list[bytes]) -> list[bytes]:
    # asyncio.run needs a thread without an event loop: Playwright's runs in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, send_packets("127.0.0.1", port, frames, expect=len(frames))).result()


def test_exceedance_appears_live_and_is_acknowledged(asgi_live_server, browser, site, gateway, monkeypatch):
    monkeypatch.setattr(live, "POLL_SECONDS", 0.2)
    base = asgi_live_server
    context = browser.new_context()
    listing = context.new_page()
    login(listing, base, "regulator")

    # 1. The alarm list, connected to the live feed, with nothing open yet.
    listing.goto(f"{base}/sites/alarms/")
    expect(listing.locator("[data-live-indicator]")).to_have_text("● 实时", timeout=WAIT)
    expect(listing.locator("[data-alarm-empty]")).to_be_visible()
    assert listing.locator("[data-alarm-rows] tr").count() == 0
    listing.evaluate("window.notReloaded = true")

    # 2. The monitor reports PM2.5 over 75 µg/m³ for four minutes: the third reading in a row raises the alarm.
    start = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0) - dt.timedelta(minutes=5)
    values = [90.0, 95.0, 100.0, 110.0]
    answers = send(gateway.port, [frame(start + dt.timedelta(minutes=i), v) for i, v in enumerate(values)])
    assert [hj212.decode(a).cn for a in answers] == ["9014"] * len(values)  # stored and acknowledged
    alarm = Alarm.objects.get()
    assert (alarm.parameter, alarm.state, alarm.peak_value) == ("a34004", Alarm.State.ACTIVE, 110.0)

    # 3. It appears on the open list without a reload.
    row = listing.locator(f"#alarm-{alarm.pk}")
    expect(row).to_be_visible(timeout=WAIT)
    expect(row).to_contain_text("PM2.5")
    expect(row).to_contain_text("告警中")
    expect(row).to_contain_text("110.0")
    expect(row).to_contain_text("沂河湾安置房一期")
    expect(listing.locator("[data-alarm-empty]")).to_have_count(0)
    assert listing.evaluate("window.notReloaded === true")

    # 4. The project page's alarm panel shows it; the regulator acknowledges it there with a comment.
    project_page = context.new_page()
    project_page.goto(f"{base}/projects/{site.project.pk}/")
    item = project_page.locator(f"#site #alarm-{alarm.pk}")
    expect(item).to_contain_text("告警中")
    expect(item).to_contain_text("PM2.5")
    expect(project_page.locator("#site [data-live-indicator]")).to_have_text("● 实时", timeout=WAIT)
    # The monitor's latest PM2.5, over the limit, and its chart (ECharts draws it as SVG) with the limit line.
    expect(project_page.locator("[data-latest-values]")).to_contain_text("PM2.5 110.0 µg/m³ 超标")
    chart = project_page.locator(".trend-chart svg")
    expect(chart).to_be_visible(timeout=WAIT)
    expect(chart).to_contain_text("限值 75")
    item.locator("summary").click()
    ack = item.locator("form[action$='/acknowledge/']")
    ack.locator("input[name=comment]").fill("已通知施工单位洒水降尘")
    ack.get_by_role("button", name="确认", exact=True).click()
    expect(project_page.locator(".messages li.success")).to_be_visible()
    item = project_page.locator(f"#site #alarm-{alarm.pk}")
    expect(item).to_contain_text("已确认")
    expect(item).to_contain_text("已通知施工单位洒水降尘")
    alarm.refresh_from_db()
    assert alarm.state == Alarm.State.ACKNOWLEDGED
    assert alarm.acknowledged_by == site.regulator and alarm.comment == "已通知施工单位洒水降尘"

    # 5. The alarm list, still open, follows the change in place.
    expect(row).to_contain_text("已确认", timeout=WAIT)
    expect(row.locator("button", has_text="确认")).to_have_count(0)
    assert listing.evaluate("window.notReloaded === true")
    project_page.close()

    # 6. One alarm, one notification each for the district regulator and the general contractor, none elsewhere.
    assert Alarm.objects.count() == 1
    raised = Notification.objects.filter(topic="alarm.raise")
    assert sorted(n.recipient_id for n in raised) == sorted([site.regulator.pk, site.builder.pk])
    assert not Notification.objects.filter(recipient=site.elsewhere).exists()
    listing.goto(f"{base}/notifications/")
    expect(listing.locator("main")).to_contain_text("PM2.5")
    context.close()
