"""Browser test: with the Content-Security-Policy in force, chromium reports no violation on the pages people use
(the project page with its trend chart and tooltip, the alarm list, the monitoring overview, 我的账号, the admin,
the API docs), and a confirm-before-submit form still asks first. The account page fits a 360 px screen."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from jianguan.accounts.models import ApiToken, User
from jianguan.projects.models import State
from jianguan.sites.devices import services as device_services
from jianguan.sites.ingest import store
from jianguan.sites.protocols.telemetry import Telemetry
from jianguan.testing import factories as f

from .conftest import login

pytestmark = pytest.mark.e2e

COLLECT = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push([e.violatedDirective, e.blockedURI || "inline", e.sourceFile + ":" + e.lineNumber].join(" "));
});
"""


@pytest.fixture
def site(transactional_db):
    lanshan = f.division("371302", "兰山区")
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=lanshan, name="沂河湾安置房一期")
    admin = f.UserFactory(
        username="boss",
        role=User.Role.BUREAU_ADMIN,
        is_staff=True,
        is_superuser=True,
        department=f.DepartmentFactory(name="临沂市住房和城乡建设局", jurisdiction=f.city()),
    )
    device = device_services.register_device(
        admin, project, {"name": "东门扬尘监测", "kind": "dust_noise", "protocol": "http"}
    )
    now = timezone.now().replace(second=0, microsecond=0)
    for minutes in range(0, 120, 5):
        store.store_telemetry(
            device.pk, Telemetry(now - dt.timedelta(minutes=minutes), {"a34004": 40 + minutes % 30, "LA": 60.0})
        )
    ApiToken.issue(admin, "数据交换程序")
    return project, admin


def violations(page) -> list[str]:
    return page.evaluate("window.__csp")


def test_pages_load_without_a_policy_violation(asgi_live_server, browser, site):
    project, _admin = site
    base = asgi_live_server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(COLLECT)
    page = context.new_page()
    login(page, base, "boss")
    seen = {}
    for path in [
        f"/projects/{project.pk}/",
        "/projects/",
        "/sites/alarms/",
        "/sites/monitors/",
        "/account/",
        "/admin/",
        "/admin/accounts/user/",
        "/api/docs",
        "/public/",
    ]:
        page.goto(base + path)
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)  # deferred scripts and what they fetch (an open live feed never idles)
        if path == f"/projects/{project.pk}/":
            chart = page.locator("[data-trend]").first
            chart.wait_for(state="visible")
            page.wait_for_timeout(500)
            box = chart.bounding_box()
            page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)  # the tooltip
            page.wait_for_timeout(500)
            assert page.locator("[data-trend] svg").count() >= 1  # ECharts drew
        seen[path] = violations(page)
    assert {path: v for path, v in seen.items() if v} == {}
    context.close()


def test_a_confirmation_still_guards_the_revoke_button(asgi_live_server, browser, site):
    base = asgi_live_server
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.add_init_script(COLLECT)
    page = context.new_page()
    login(page, base, "boss")
    page.goto(f"{base}/account/")
    page.screenshot(path="/tmp/jianguan-account-360.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # fits the phone, no sideways scroll
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#api-tokens button.danger")
    assert not ApiToken.objects.get().revoked  # dismissed: nothing sent
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#api-tokens button.danger")
    page.wait_for_selector("text=已撤销令牌")
    assert ApiToken.objects.get().revoked
    assert violations(page) == []
    context.close()
