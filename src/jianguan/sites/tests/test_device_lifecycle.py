"""A device after registration: its details and HJ 212 password changed, its HTTP token reissued, taken out of
service (every ingest path refuses it, its data stays) and put back; on the pages and the API. A running
gateway sees such changes made in another process within the identity cache's lifetime. (Changes that a permitted
project's contractor must ask the district bureau for: test_device_changes.py.)"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from jianguan.accounts.models import User
from jianguan.core.models import AuditEvent
from jianguan.projects.models import State
from jianguan.sites.actuators import commands
from jianguan.sites.devices import identity
from jianguan.sites.devices import services as device_services
from jianguan.sites.models import Device
from jianguan.sites.readings import overview
from jianguan.testing import factories as f

TELEMETRY = json.dumps({"ts": "2026-11-20T10:00:00+08:00", "values": {"wind_ms": 5.0}})


@pytest.fixture
def project(db):
    identity.invalidate_cache()
    return f.staffed_project(state=State.UNDER_CONSTRUCTION)


@pytest.fixture
def regulator(project, lanshan_regulator) -> User:
    assert project.jurisdiction.code == "371302"  # 兰山区: the regulator's district
    return lanshan_regulator


@pytest.fixture
def contractor(project) -> User:
    gc = project.participants.get(role="general_contractor").enterprise
    return f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=gc)


def client_for(user) -> Client:
    web = Client()
    web.force_login(user)
    return web


def register(user, project, **data) -> Device:
    return device_services.register_device(user, project, {"name": "东门监测", "kind": "dust_noise", **data})


def test_details_and_password_change_on_the_page(project, contractor):
    project.state = State.UNDER_REVIEW  # before the permit the contractor changes its devices freely
    project.save(update_fields=["state"])
    monitor = register(contractor, project, protocol="hj212", mn="LIFE0001", password="old-pw")
    web = client_for(contractor)
    assert f'href="/sites/devices/{monitor.pk}/edit/"' in web.get(f"/projects/{project.pk}/").content.decode()
    page = web.get(f"/sites/devices/{monitor.pk}/edit/").content.decode()
    assert 'value="东门监测"' in page and "新的访问密码" in page and "LIFE0001" in page
    bad = web.post(
        f"/sites/devices/{monitor.pk}/edit/", {"name": "东门监测", "dialect": "standard", "rtd_interval_s": 5}
    )
    assert bad.status_code == 200 and not Device.objects.filter(rtd_interval_s=5).exists()
    done = web.post(
        f"/sites/devices/{monitor.pk}/edit/",
        {
            "name": "东门扬尘监测",
            "dialect": "lenient",
            "rtd_interval_s": 60,
            "calibrated_on": "2026-11-01",
            "password": "new-pw",
        },
    )
    assert done.status_code == 302 and done["Location"].endswith(f"/projects/{project.pk}/#site")
    monitor.refresh_from_db()
    assert (monitor.name, monitor.dialect, monitor.calibrated_on) == ("东门扬尘监测", "lenient", dt.date(2026, 11, 1))
    assert identity.authenticate("LIFE0001", "old-pw") is False  # this process's cache knew at once
    assert identity.authenticate("LIFE0001", "new-pw") is True
    event = AuditEvent.objects.filter(object_id=str(monitor.pk), action="update").latest("at")
    assert event.changes["password"] == "（已更换）" and "new-pw" not in json.dumps(event.changes)


def test_only_the_devices_managers_may_change_it(project, contractor, lanshan, luozhuang):
    monitor = register(contractor, project, protocol="hj212", mn="LIFE0002", password="pw")
    supervisor = f.UserFactory(
        role=User.Role.ENTERPRISE_USER, enterprise=project.participants.get(role="supervisor").enterprise
    )
    assert client_for(supervisor).get(f"/sites/devices/{monitor.pk}/edit/").status_code == 403
    stranger = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=f.EnterpriseFactory())
    assert client_for(stranger).get(f"/sites/devices/{monitor.pk}/edit/").status_code == 404
    assert client_for(stranger).post(f"/sites/devices/{monitor.pk}/retire/", {"reason": "x"}).status_code == 404
    api = client_for(supervisor)
    assert api.patch(f"/api/devices/{monitor.pk}", {"name": "x"}, content_type="application/json").status_code == 403


def test_a_retired_device_is_refused_everywhere_and_can_come_back(project, contractor, regulator):
    monitor = register(contractor, project, protocol="hj212", mn="LIFE0003", password="pw")
    crane = register(contractor, project, name="1号塔吊", kind="crane", protocol="mqtt", mqtt_client_id="crane-9")
    gate = register(contractor, project, name="东门闸机", kind="gate", protocol="http")
    fog = register(contractor, project, name="雾炮", kind="actuator", protocol="mqtt", mqtt_client_id="fog-9")
    web = client_for(regulator)  # the district bureau's changes apply at once
    assert identity.authenticate("LIFE0003", "pw") is True

    refused = web.post(f"/sites/devices/{monitor.pk}/retire/", {"reason": " "})
    assert refused.status_code == 302 and not Device.objects.get(pk=monitor.pk).retired  # a reason is needed
    for device in (monitor, crane, gate, fog):
        assert web.post(f"/sites/devices/{device.pk}/retire/", {"reason": "设备拆除"}).status_code == 302
    assert identity.authenticate("LIFE0003", "pw") is None  # answered as an unknown device
    assert identity.device_for_mqtt("crane-9") is None
    http = Client(HTTP_X_DEVICE_TOKEN=gate.issued_token)
    posted = http.post("/api/ingest/telemetry", TELEMETRY, content_type="application/json")
    assert posted.status_code == 401
    with pytest.raises(ValidationError, match="已停用"):  # no permission matter: the bureau may command it
        commands.issue_manually(f.UserFactory(role=User.Role.BUREAU_ADMIN), Device.objects.get(pk=fog.pk), "on")
    page = web.get(f"/projects/{project.pk}/").content.decode()
    assert page.count('<span class="badge">已停用</span>') == 4
    assert overview.overview(contractor).total == 0 and overview.overview(regulator).total == 0  # not listed
    audit = AuditEvent.objects.filter(object_id=str(monitor.pk)).latest("at")
    assert audit.changes == {"label": "停用", "reason": "设备拆除"}

    assert web.post(f"/sites/devices/{monitor.pk}/restore/").status_code == 302
    assert identity.authenticate("LIFE0003", "pw") is True
    assert web.post(f"/sites/devices/{monitor.pk}/nonsense/").status_code == 404


def test_a_gateway_sees_another_processs_changes_within_the_cache_lifetime(
    project, contractor, django_assert_num_queries
):
    register(contractor, project, protocol="hj212", mn="LIFE0004", password="pw")
    assert identity.warm_identity_cache() == 1
    # Another process (the web pages) retires the device: this one's cache does not hear of it ...
    Device.objects.filter(mn="LIFE0004").update(retired_at=timezone.now())
    assert identity.authenticate("NOSUCHMN", "pw") is None  # looked up once ...
    with django_assert_num_queries(0):  # ... and remembered: a flood of an unknown MN's frames costs nothing
        assert identity.authenticate("NOSUCHMN", "pw") is None
        assert identity.authenticate("LIFE0004", "pw") is True
    # ... until the cache is IDENTITY_TTL old, when one query reloads every identity.
    identity._identity_loaded_at -= identity.IDENTITY_TTL + 1
    assert identity.cached_identity("LIFE0004") is None  # the event loop's fast path steps aside
    with django_assert_num_queries(2):  # the reload, then the lookup of the MN it no longer holds
        assert identity.authenticate("LIFE0004", "pw") is None


def test_token_reissue_and_the_api(project, contractor, regulator):
    gate = register(contractor, project, name="东门闸机", kind="gate", protocol="http")
    web = client_for(regulator)
    page = web.post(f"/sites/devices/{gate.pk}/token/")
    token = page.context["device"].issued_token
    assert token and token != gate.issued_token and "已重置接入令牌" in page.content.decode()
    old = Client(HTTP_X_DEVICE_TOKEN=gate.issued_token)
    assert old.post("/api/ingest/telemetry", TELEMETRY, content_type="application/json").status_code == 401
    by_api = web.post(f"/api/devices/{gate.pk}/token", content_type="application/json").json()["token"]
    assert identity.device_for_token(by_api) == gate and identity.device_for_token(token) is None

    monitor = register(contractor, project, protocol="hj212", mn="LIFE0005", password="pw")
    patched = web.patch(
        f"/api/devices/{monitor.pk}",
        {"name": "西门监测", "calibrated_on": "2026-10-30", "password": "pw2"},
        content_type="application/json",
    )
    assert patched.status_code == 200 and patched.json()["name"] == "西门监测"
    assert identity.authenticate("LIFE0005", "pw2") is True
    not_http = web.post(f"/api/devices/{monitor.pk}/token", content_type="application/json")
    assert not_http.status_code == 422  # not an HTTP device
    retire = web.post(f"/api/devices/{monitor.pk}/retire", {"reason": "更换"}, content_type="application/json")
    assert retire.status_code == 200 and retire.json()["retired_at"] and not retire.json()["online"]
    assert web.post(f"/api/devices/{monitor.pk}/retire", {}, content_type="application/json").status_code == 422
    restored = web.post(f"/api/devices/{monitor.pk}/restore", content_type="application/json")  # no body
    assert restored.status_code == 200 and restored.json()["retired_at"] is None
