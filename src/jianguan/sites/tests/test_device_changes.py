"""The monitored party cannot switch its monitor off (issue 8, finding 4): from the permit on, the general
contractor's retiring, restoring, re-keying, moving or re-timing of a monitor is a request that the district
bureau approves or rejects; it is announced to the district at once, audited, applied only on approval, and
the requester hears of the decision. The bureau's own changes apply at once. Before the permit the contractor
changes freely, and sprinklers (actuators) stay the contractor's own."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from jianguan.accounts.models import User
from jianguan.core.models import AuditEvent
from jianguan.notify.models import Delivery, Notification
from jianguan.projects.models import State
from jianguan.sites import permissions
from jianguan.sites.devices import identity
from jianguan.sites.devices import services as device_services
from jianguan.sites.models import Device, DeviceChangeRequest
from jianguan.testing import factories as f

TELEMETRY = json.dumps({"ts": "2026-11-20T10:00:00+08:00", "values": {"wind_ms": 5.0}})
Action, Req = DeviceChangeRequest.Action, DeviceChangeRequest.State


@pytest.fixture
def project(lanshan):
    return f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=lanshan)


@pytest.fixture
def contractor(project) -> User:
    gc = project.participants.get(role="general_contractor").enterprise
    return f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=gc, display_name="张施工")


@pytest.fixture
def monitor(project, contractor) -> Device:
    return device_services.register_device(
        contractor,
        project,
        {"name": "东门扬尘监测", "kind": "dust_noise", "protocol": "hj212", "mn": "CHG0001", "password": "pw-1",
         "lat": 35.06, "lon": 118.34},
    )  # fmt: skip


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_contractor_cannot_retire_its_monitor_without_the_district_bureau(
    project, contractor, monitor, lanshan_regulator, luozhuang_regulator
):
    robot = f.WebhookEndpointFactory(jurisdiction=project.jurisdiction, topics="device.")
    answer = web(contractor).post(f"/sites/devices/{monitor.pk}/retire/", {"reason": "设备送修"})
    assert answer.status_code == 302
    monitor.refresh_from_db()
    assert not monitor.retired and identity.authenticate("CHG0001", "pw-1") is True  # still monitoring
    change = DeviceChangeRequest.objects.get(device=monitor)
    assert (change.action, change.state, change.reason, change.requested_by) == (
        Action.RETIRE,
        Req.PENDING,
        "设备送修",
        contractor,
    )
    # The district bureau hears of it at once, with the reason (in-app and its group robot); nobody elsewhere.
    note = Notification.objects.get(recipient=lanshan_regulator, topic="device.change_requested")
    assert "停用" in note.title and "设备送修" in note.body and "张施工" in note.body
    assert not Notification.objects.filter(recipient=luozhuang_regulator).exists()
    assert Delivery.objects.filter(endpoint=robot, message__topic="device.change_requested").exists()
    assert AuditEvent.objects.filter(object_type="sites.devicechangerequest", actor=contractor).exists()

    # The regulator finds it in its queue and on the project page, and approves it.
    regulator = web(lanshan_regulator)
    queue = regulator.get("/sites/device-changes/").content.decode()
    assert f'id="change-{change.pk}"' in queue and "设备送修" in queue and "批准" in queue
    assert "设备审批" in regulator.get("/projects/").content.decode()  # in the navigation, with its count
    detail = regulator.get(f"/projects/{project.pk}/").content.decode()
    assert 'id="device-changes-pending"' in detail and f"/sites/device-changes/{change.pk}/approve/" in detail
    done = regulator.post(f"/sites/device-changes/{change.pk}/approve/", {"comment": "同意，修复后申请恢复"})
    assert done.status_code == 302
    monitor.refresh_from_db()
    assert monitor.retired and identity.authenticate("CHG0001", "pw-1") is None
    change.refresh_from_db()
    assert (change.state, change.decided_by, change.decision_comment) == (
        Req.APPROVED,
        lanshan_regulator,
        "同意，修复后申请恢复",
    )
    told = Notification.objects.get(recipient=contractor, topic="device.change_decided")
    assert "已批准" in told.title and "同意，修复后申请恢复" in told.body
    device_audit = AuditEvent.objects.filter(object_type="sites.device", object_id=str(monitor.pk)).latest("at")
    assert device_audit.actor == lanshan_regulator and f"批准变更申请 {change.pk}" in device_audit.changes["label"]
    # The contractor sees the request and its outcome, but has no approval queue in its navigation.
    assert "设备审批" not in web(contractor).get("/projects/").content.decode()


def test_a_rejected_password_change_leaves_the_device_and_tells_the_requester_why(
    project, contractor, monitor, lanshan_regulator
):
    page = web(contractor).get(f"/sites/devices/{monitor.pk}/edit/").content.decode()
    assert 'id="change-control-notice"' in page and "变更原因" in page
    edit = {"name": "东门扬尘监测", "dialect": "standard", "rtd_interval_s": 60, "lat": 35.06, "lon": 118.34}
    no_reason = web(contractor).post(f"/sites/devices/{monitor.pk}/edit/", {**edit, "password": "pw-2"})
    assert no_reason.status_code == 200 and "请填写变更原因" in no_reason.content.decode()
    assert not DeviceChangeRequest.objects.exists()
    asked = web(contractor).post(
        f"/sites/devices/{monitor.pk}/edit/", {**edit, "password": "pw-2", "reason": "运维人员离职"}
    )
    assert asked.status_code == 302
    assert identity.authenticate("CHG0001", "pw-1") is True and identity.authenticate("CHG0001", "pw-2") is False
    change = DeviceChangeRequest.objects.get(device=monitor, action=Action.PASSWORD)
    assert "pw-2" not in json.dumps(change.payload) and "pw-2" not in change.summary  # only its keyed hash

    regulator = web(lanshan_regulator)
    refused = regulator.post(f"/sites/device-changes/{change.pk}/reject/", {"comment": " "})
    assert refused.status_code == 302 and DeviceChangeRequest.objects.get(pk=change.pk).state == Req.PENDING
    regulator.post(f"/sites/device-changes/{change.pk}/reject/", {"comment": "请说明离职人员是否掌握密码"})
    change.refresh_from_db()
    assert change.state == Req.REJECTED and identity.authenticate("CHG0001", "pw-1") is True
    told = Notification.objects.get(recipient=contractor, topic="device.change_decided")
    assert "驳回" in told.title and "请说明离职人员是否掌握密码" in told.body
    # A decided request is decided: a second answer changes nothing.
    again = regulator.post(f"/sites/device-changes/{change.pk}/approve/")
    assert again.status_code == 302 and DeviceChangeRequest.objects.get(pk=change.pk).state == Req.REJECTED


def test_the_api_answers_202_with_the_pending_requests_and_applies_them_on_approval(
    project, contractor, monitor, lanshan_regulator, luozhuang_regulator
):
    api = web(contractor)
    patched = api.patch(
        f"/api/devices/{monitor.pk}",
        {
            "name": "东门监测点",
            "dialect": "lenient",
            "lat": 35.07,
            "lon": 118.35,
            "rtd_interval_s": 600,
            "password": "pw-3",
            "reason": "围挡外移",
        },
        content_type="application/json",
    )
    assert patched.status_code == 202
    body = patched.json()
    assert body["device"]["name"] == "东门监测点"  # not under control: applied at once
    assert (body["device"]["lat"], body["device"]["rtd_interval_s"]) == (35.06, 60)
    assert sorted(r["action"] for r in body["requests"]) == ["dialect", "interval", "move", "password"]
    assert body["device"]["dialect"] == "standard"
    assert all(r["state"] == "pending" and r["reason"] == "围挡外移" for r in body["requests"])
    twice = api.patch(
        f"/api/devices/{monitor.pk}", {"rtd_interval_s": 900, "reason": "再改"}, content_type="application/json"
    )
    assert twice.status_code == 422 and "待审批" in twice.json()["detail"]  # one pending request per action

    gate = device_services.register_device(contractor, project, {"name": "闸机", "kind": "gate", "protocol": "http"})
    old_token = gate.issued_token
    asked = api.post(f"/api/devices/{gate.pk}/token", {"reason": "令牌泄露"}, content_type="application/json")
    assert asked.status_code == 202 and asked.json()["request"]["action"] == "token"
    new_token = asked.json()["token"]
    assert identity.device_for_token(old_token) == gate and identity.device_for_token(new_token) is None
    no_reason = api.post(f"/api/devices/{gate.pk}/retire", {"reason": " "}, content_type="application/json")
    assert no_reason.status_code == 422
    retire = api.post(f"/api/devices/{gate.pk}/retire", {"reason": "闸机更换"}, content_type="application/json")
    assert retire.status_code == 202 and retire.json()["action"] == "retire"

    listed = api.get("/api/device-changes?state=pending").json()
    assert listed["count"] == 6
    assert web(luozhuang_regulator).get("/api/device-changes").json()["count"] == 0  # another district's
    token_change = next(c for c in listed["items"] if c["action"] == "token")
    assert (
        api.post(f"/api/device-changes/{token_change['id']}/approve", {}, content_type="application/json").status_code
        == 403
    )
    other = web(luozhuang_regulator).post(
        f"/api/device-changes/{token_change['id']}/approve", {}, content_type="application/json"
    )
    assert other.status_code == 404

    regulator = web(lanshan_regulator)
    for change in listed["items"]:
        if change["action"] == "retire":
            continue
        done = regulator.post(f"/api/device-changes/{change['id']}/approve", {}, content_type="application/json")
        assert done.status_code == 200 and done.json()["state"] == "approved"
    retire_id = retire.json()["id"]
    no_comment = regulator.post(f"/api/device-changes/{retire_id}/reject", {}, content_type="application/json")
    assert no_comment.status_code == 422
    rejected = regulator.post(
        f"/api/device-changes/{retire_id}/reject", {"comment": "闸机须在更换当日完成"}, content_type="application/json"
    )
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    again = regulator.post(f"/api/device-changes/{retire_id}/approve", {}, content_type="application/json")
    assert again.status_code == 422

    monitor.refresh_from_db()
    gate.refresh_from_db()
    assert (monitor.lat, monitor.lon, monitor.rtd_interval_s, monitor.dialect) == (35.07, 118.35, 600, "lenient")
    assert identity.authenticate("CHG0001", "pw-3") is True
    assert identity.device_for_token(new_token) == gate and identity.device_for_token(old_token) is None
    assert not gate.retired
    http = Client(HTTP_X_DEVICE_TOKEN=new_token)
    assert http.post("/api/ingest/telemetry", TELEMETRY, content_type="application/json").status_code == 202


def test_the_district_bureaus_own_changes_apply_at_once_and_are_audited(project, monitor, lanshan_regulator):
    api = web(lanshan_regulator)
    moved = api.patch(
        f"/api/devices/{monitor.pk}", {"lat": 35.1, "lon": 118.4, "password": "pw-9"}, content_type="application/json"
    )
    assert moved.status_code == 200 and moved.json()["lat"] == 35.1
    retired = api.post(f"/api/devices/{monitor.pk}/retire", {"reason": "项目停工"}, content_type="application/json")
    assert retired.status_code == 200 and retired.json()["retired_at"]
    restored = api.post(f"/api/devices/{monitor.pk}/restore", content_type="application/json")
    assert restored.status_code == 200 and restored.json()["retired_at"] is None
    assert not DeviceChangeRequest.objects.exists()
    labels = list(
        AuditEvent.objects.filter(object_type="sites.device", actor=lanshan_regulator).values_list("changes", flat=True)
    )
    assert {"label": "停用", "reason": "项目停工"} in labels and any("lat" in c for c in labels)


def test_before_the_permit_and_for_sprinklers_the_contractor_changes_freely(lanshan, contractor, project):
    early = f.staffed_project(state=State.SUBMITTED, jurisdiction=lanshan)
    early.participants.filter(role="general_contractor").update(enterprise=contractor.enterprise)
    draft_monitor = device_services.register_device(
        contractor, early, {"name": "监测", "kind": "dust_noise", "protocol": "hj212", "mn": "CHG0002", "password": "a"}
    )
    fog = device_services.register_device(
        contractor, project, {"name": "雾炮", "kind": "actuator", "protocol": "mqtt", "mqtt_client_id": "fog-chg"}
    )
    for device in (draft_monitor, fog):
        assert permissions.may_change_device_directly(contractor, device)
        assert device_services.set_retired(contractor, device, True, "拆除").retired
    assert device_services.update_device(contractor, draft_monitor, {"password": "b"}).requested == []
    assert identity.authenticate("CHG0002", "b") is None  # retired: refused, but the password did change
    assert not DeviceChangeRequest.objects.exists()


def test_who_acts_directly_who_must_ask_and_who_decides(
    project, contractor, monitor, lanshan_regulator, luozhuang_regulator, bureau_admin
):
    supervisor = f.UserFactory(
        role=User.Role.ENTERPRISE_USER, enterprise=project.participants.get(role="supervisor").enterprise
    )
    inspector = f.UserFactory(role=User.Role.INSPECTOR, department=lanshan_regulator.department)
    expected = {  # user: (directly, must request)
        "contractor": (False, True),
        "lanshan_regulator": (True, False),
        "bureau_admin": (True, False),
        "luozhuang_regulator": (False, False),
        "supervisor": (False, False),
        "inspector": (False, False),
    }
    users = {
        "contractor": contractor,
        "lanshan_regulator": lanshan_regulator,
        "bureau_admin": bureau_admin,
        "luozhuang_regulator": luozhuang_regulator,
        "supervisor": supervisor,
        "inspector": inspector,
    }
    got = {
        name: (permissions.may_change_device_directly(u, monitor), permissions.may_request_device_change(u, monitor))
        for name, u in users.items()
    }
    assert got == expected
    change = device_services.set_retired(contractor, monitor, True, "送修").requested[0]
    deciders = {name for name, u in users.items() if permissions.may_decide_device_change(u, change)}
    assert deciders == {"lanshan_regulator", "bureau_admin"}
    readers = {name for name, u in users.items() if permissions.visible_device_changes(u).filter(pk=change.pk)}
    assert readers == {"contractor", "lanshan_regulator", "bureau_admin", "supervisor", "inspector"}
    assert web(supervisor).post(f"/sites/device-changes/{change.pk}/approve/").status_code == 403
    assert web(luozhuang_regulator).post(f"/sites/device-changes/{change.pk}/approve/").status_code == 404
    assert web(supervisor).post(f"/sites/devices/{monitor.pk}/retire/", {"reason": "x"}).status_code == 403


def test_the_openapi_schema_documents_the_pending_answers():
    schema = Client().get("/api/openapi.json").json()["paths"]
    for path, method in (
        ("/api/devices/{device_id}", "patch"),
        ("/api/devices/{device_id}/retire", "post"),
        ("/api/devices/{device_id}/restore", "post"),
        ("/api/devices/{device_id}/token", "post"),
    ):
        assert "202" in schema[path][method]["responses"], path
    for verb in ("approve", "reject"):
        assert {"200", "403", "404", "422"} <= set(
            schema[f"/api/device-changes/{{change_id}}/{verb}"]["post"]["responses"]
        )
