"""Issue 8, finding 5: a data-sharing rule grants exactly its part of a project, on every channel (API
sub-resources, the project page, exports, lists, streams), and every cross-department read is logged with the
rule that allowed it."""

from __future__ import annotations

import pytest
from django.test import Client

from jianguan.accounts.models import DataSharingRule, Department, User
from jianguan.core.models import AuditEvent
from jianguan.projects.models import PreReview, State
from jianguan.sites.alarms import live
from jianguan.sites.devices import services as device_services
from jianguan.sites.models import Alarm, LimitRule
from jianguan.testing import factories as f

Part = DataSharingRule.Resource

PROJECT_SUBRESOURCES = {
    "participants": Part.PROJECT_PARTICIPANTS,
    "key-people": Part.PROJECT_PARTICIPANTS,
    "documents": Part.PROJECT_DOCUMENTS,
    "requirements": Part.PROJECT_DOCUMENTS,
    "prereview": Part.PROJECT_RECORDS,
    "transitions": Part.PROJECT_RECORDS,
    "audit": Part.PROJECT_RECORDS,
    "progress-reports": Part.PROJECT_PROGRESS,
    "devices": Part.SITE_MONITORING,
    "gate-summary": Part.SITE_WORKFORCE,
    "crane-operators": Part.SITE_WORKFORCE,
}


@pytest.fixture
def city(db, lanshan_regulator):
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=lanshan_regulator.jurisdiction)
    device = device_services.register_device(
        lanshan_regulator,
        project,
        {"name": "东门扬尘", "kind": "dust_noise", "protocol": "hj212", "mn": "SHARE0001", "password": "pw"},
    )
    device_services.register_device(lanshan_regulator, project, {"name": "闸机", "kind": "gate", "protocol": "http"})
    rule = LimitRule.objects.filter(parameter="a34004").first()
    Alarm.objects.create(
        project=project, device=device, rule=rule, parameter="a34004", severity="warning",
        raised_at=project.created_at, first_value=90, last_value=90, peak_value=90,
    )  # fmt: skip
    PreReview.objects.create(project=project, findings=[], clean=True)
    hr_dept = Department.objects.create(name="市人社局", kind="hr", jurisdiction=f.city())
    hr = f.UserFactory(role=User.Role.DEPT_OFFICER, department=hr_dept)
    return project, device, hr


def grant(*parts: str) -> None:
    for part in parts:
        DataSharingRule.objects.get_or_create(
            department_kind="hr",
            resource=part,
            defaults={"purpose": "欠薪处置", "legal_basis": "保障农民工工资支付条例"},
        )


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_no_basic_rule_no_project(city):
    project, _device, hr = city
    assert client(hr).get(f"/api/projects/{project.pk}").status_code == 404
    assert client(hr).get(f"/projects/{project.pk}/").status_code == 404


def test_the_basic_part_shows_the_project_and_nothing_else(city, monkeypatch):
    monkeypatch.setattr(live, "USE_POLL_POOL", False)  # the stream's setup in this thread (in-memory SQLite)
    project, device, hr = city
    grant(Part.PROJECT_BASIC)
    api = client(hr)
    assert api.get(f"/api/projects/{project.pk}").status_code == 200
    for route in PROJECT_SUBRESOURCES:
        answer = api.get(f"/api/projects/{project.pk}/{route}")
        assert answer.status_code == 403, route
        assert answer.json()["code"] == "forbidden"
    for route in ("readings", "aggregates", "trend"):
        assert api.get(f"/api/devices/{device.pk}/{route}").status_code == 404, route
    assert api.get("/api/alarms").json()["items"] == []
    page = api.get(f"/projects/{project.pk}/").content.decode()
    gc = project.participants.get(role="general_contractor").enterprise.name
    for hidden in (gc, "李经理", "<h2>状态记录", "<h2>审计记录", "东门扬尘", "实名制考勤", "<h2>项目文件"):
        assert hidden not in page, hidden
    assert 'id="withheld"' in page and "参建单位及关键岗位人员" in page
    assert api.get(f"/sites/devices/{device.pk}/readings.csv").status_code == 404
    assert "东门扬尘" not in api.get("/sites/monitors/").content.decode()
    assert api.get(f"/sites/alarms/stream/?project={project.pk}").status_code == 403  # readable, part withheld


def test_each_granted_part_opens_its_channels_only(city):
    project, _device, hr = city
    grant(Part.PROJECT_BASIC, Part.PROJECT_PARTICIPANTS, Part.SITE_WORKFORCE)
    api = client(hr)
    for route, part in PROJECT_SUBRESOURCES.items():
        expected = 200 if part in (Part.PROJECT_PARTICIPANTS, Part.SITE_WORKFORCE) else 403
        assert api.get(f"/api/projects/{project.pk}/{route}").status_code == expected, route
    page = api.get(f"/projects/{project.pk}/").content.decode()
    assert "李经理" in page and "<h2>审计记录" not in page and "东门扬尘" not in page


def test_the_monitoring_part_opens_devices_alarms_and_exports(city):
    project, device, hr = city
    grant(Part.PROJECT_BASIC, Part.SITE_MONITORING)
    api = client(hr)
    assert api.get(f"/api/projects/{project.pk}/devices").status_code == 200
    assert api.get(f"/api/devices/{device.pk}/trend").status_code == 200
    assert len(api.get("/api/alarms").json()["items"]) == 1
    assert api.get(f"/sites/devices/{device.pk}/readings.csv").status_code == 200
    assert "东门扬尘" in api.get("/sites/monitors/").content.decode()
    assert api.get(f"/api/projects/{project.pk}/gate-summary").status_code == 403


def test_every_cross_department_read_is_logged_with_its_rule(city):
    project, device, hr = city
    grant(Part.PROJECT_BASIC, Part.SITE_MONITORING)
    monitoring = DataSharingRule.objects.get(department_kind="hr", resource=Part.SITE_MONITORING)
    api = client(hr)
    reads = {
        "项目列表与搜索": "/api/projects",
        "告警列表": "/api/alarms",
        "告警导出（CSV）": "/sites/alarms/export.csv",
        "监测总览": "/sites/monitors/",
        "监测趋势": f"/api/devices/{device.pk}/trend",
        "监测数据导出（CSV）": f"/sites/devices/{device.pk}/readings.csv",
    }
    for what, url in reads.items():
        before = AuditEvent.objects.filter(action="read", actor=hr).count()
        assert api.get(url).status_code == 200, url
        logged = AuditEvent.objects.filter(action="read", actor=hr).order_by("-id")[: 1 + 0]
        assert AuditEvent.objects.filter(action="read", actor=hr).count() == before + 1, url
        assert logged[0].changes["what"] == what
    trend = AuditEvent.objects.filter(action="read", actor=hr, changes__what="监测趋势").get()
    assert trend.changes["rule"] == monitoring.pk and trend.changes["legal_basis"] == monitoring.legal_basis
    assert trend.project == project


def test_the_regulator_reads_every_part_and_is_not_logged_as_a_department(city, lanshan_regulator):
    project, _device, _hr = city
    api = client(lanshan_regulator)
    for route in PROJECT_SUBRESOURCES:
        assert api.get(f"/api/projects/{project.pk}/{route}").status_code == 200, route
    assert not AuditEvent.objects.filter(action="read").exists()
