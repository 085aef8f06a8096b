"""Browser test on a 360 px phone: the general contractor asks to retire its dust monitor, the district
regulator finds the request in its navigation, reads the reason and approves it on the queue page; the pages
fit the screen (no sideways scrolling)."""

from __future__ import annotations

import pytest

from jianguan.accounts.models import Department, User
from jianguan.projects.models import State
from jianguan.sites.devices import services as device_services
from jianguan.sites.models import Device, DeviceChangeRequest
from jianguan.testing import factories as f

from .conftest import login

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api").expect
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def site(transactional_db):
    lanshan = f.division("371302", "兰山区")
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=lanshan, name="沂河湾安置房一期")
    f.UserFactory(
        username="regulator",
        role=User.Role.DISTRICT_REGULATOR,
        department=Department.objects.create(name="兰山区住房和城乡建设局", kind="housing", jurisdiction=lanshan),
    )
    builder = f.UserFactory(
        username="builder",
        role=User.Role.ENTERPRISE_USER,
        enterprise=project.participants.get(role="general_contractor").enterprise,
    )
    monitor = device_services.register_device(
        builder,
        project,
        {"name": "东门扬尘噪声监测仪", "kind": "dust_noise", "protocol": "hj212", "mn": "LY371302E2E00001",
         "password": "123456", "lat": 35.06, "lon": 118.34},
    )  # fmt: skip
    return project, monitor


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_retiring_a_monitor_waits_for_the_district_on_a_phone(asgi_live_server, browser, site):
    project, monitor = site
    base = asgi_live_server
    contractor = browser.new_page(viewport=PHONE)
    login(contractor, base, "builder")
    contractor.goto(f"{base}/sites/devices/{monitor.pk}/edit/")
    expect(contractor.locator("#change-control-notice")).to_be_visible()
    assert fits(contractor)
    form = contractor.locator("#device-service form")
    form.locator("input[name=reason]").fill("设备送厂校准")
    form.locator("button[type=submit]").click()
    expect(contractor.locator(".messages li.info")).to_contain_text("停用申请已提交区县住建部门审批")
    assert not Device.objects.get(pk=monitor.pk).retired

    regulator = browser.new_page(viewport=PHONE)
    login(regulator, base, "regulator")
    regulator.goto(f"{base}/projects/{project.pk}/#site")
    expect(regulator.locator("#device-changes-pending")).to_contain_text("设备送厂校准")
    assert fits(regulator)
    regulator.locator("header nav a", has_text="设备审批").click()
    change = DeviceChangeRequest.objects.get()
    row = regulator.locator(f"#change-{change.pk}")
    expect(row).to_contain_text("设备送厂校准")
    assert fits(regulator)
    row.locator("summary").click()
    row.locator("form[action$='/approve/'] input[name=comment]").fill("同意，校准后申请恢复")
    row.locator("form[action$='/approve/'] button").click()
    expect(regulator.locator(".messages li.success")).to_contain_text("已批准")
    assert fits(regulator)
    assert Device.objects.get(pk=monitor.pk).retired
    change.refresh_from_db()
    assert change.state == DeviceChangeRequest.State.APPROVED and change.decision_comment == "同意，校准后申请恢复"
