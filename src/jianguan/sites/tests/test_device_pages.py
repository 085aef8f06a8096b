"""Device registration on the pages (general contractor or district bureau), the HTTP token shown once,
and a regulator's manual sprinkler command from the project page."""

from __future__ import annotations

import pytest
from django.test import Client

from jianguan.accounts.models import User
from jianguan.projects.models import State
from jianguan.sites.actuators import commands
from jianguan.sites.devices import identity
from jianguan.sites.devices import services as device_services
from jianguan.sites.models import ActuatorCommand, Device
from jianguan.testing import factories as f


@pytest.fixture
def project(db):
    identity.invalidate_cache()
    return f.staffed_project(state=State.UNDER_CONSTRUCTION)


def client_for(user) -> Client:
    web = Client()
    web.force_login(user)
    return web


def contractor(project) -> User:
    gc = project.participants.get(role="general_contractor").enterprise
    return f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=gc)


def test_contractor_registers_an_hj212_monitor(project):
    web = client_for(contractor(project))
    page = web.get(f"/projects/{project.pk}/").content.decode()
    assert f"/sites/projects/{project.pk}/devices/new/" in page and "尚未登记现场设备" in page
    form = web.get(f"/sites/projects/{project.pk}/devices/new/")
    assert form.status_code == 200 and "设备编号（MN）" in form.content.decode()
    missing = web.post(
        f"/sites/projects/{project.pk}/devices/new/",
        {"name": "东门监测", "kind": "dust_noise", "protocol": "hj212", "rtd_interval_s": 60, "dialect": "standard"},
    )
    assert missing.status_code == 200 and "须填写设备编号" in missing.content.decode()
    done = web.post(
        f"/sites/projects/{project.pk}/devices/new/",
        {
            "name": "东门监测",
            "kind": "dust_noise",
            "protocol": "hj212",
            "mn": "LY371302PAGE0001",
            "password": "s3cret",
            "dialect": "standard",
            "rtd_interval_s": 30,
            "lat": "35.05",
            "lon": "118.35",
        },
    )
    assert done.status_code == 302 and done["Location"].endswith(f"/projects/{project.pk}/#site")
    device = Device.objects.get(mn="LY371302PAGE0001")
    assert device.project == project and device.password_hash == identity.password_hash("s3cret")
    assert identity.authenticate("LY371302PAGE0001", "s3cret") is True
    again = web.post(
        f"/sites/projects/{project.pk}/devices/new/",
        {"name": "重复", "kind": "dust_noise", "protocol": "hj212", "mn": "LY371302PAGE0001", "password": "x",
         "dialect": "standard", "rtd_interval_s": 60},
    )  # fmt: skip
    assert again.status_code == 200 and Device.objects.filter(mn="LY371302PAGE0001").count() == 1


def test_http_device_token_is_shown_once(project):
    web = client_for(contractor(project))
    shown = web.post(
        f"/sites/projects/{project.pk}/devices/new/",
        {"name": "2号闸机", "kind": "gate", "protocol": "http", "rtd_interval_s": 60, "dialect": "standard"},
    )
    body = shown.content.decode()
    assert shown.status_code == 200 and "只显示这一次" in body
    token = body.split('id="device-token"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert token.startswith("jgd_") and identity.device_for_token(token).name == "2号闸机"
    assert token not in web.get(f"/projects/{project.pk}/").content.decode()


def test_others_may_not_register_devices(project, luozhuang_regulator):
    outsider = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=f.EnterpriseFactory())
    assert client_for(outsider).get(f"/sites/projects/{project.pk}/devices/new/").status_code == 404
    assert client_for(luozhuang_regulator).get(f"/sites/projects/{project.pk}/devices/new/").status_code == 404
    supervisor = project.participants.get(role="supervisor").enterprise
    web = client_for(f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=supervisor))
    assert web.get(f"/sites/projects/{project.pk}/devices/new/").status_code == 403
    assert "登记设备" not in web.get(f"/projects/{project.pk}/").content.decode()
    anonymous = Client().get(f"/sites/projects/{project.pk}/devices/new/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_regulator_switches_a_fog_cannon_from_the_project_page(project, lanshan_regulator, monkeypatch):
    sent = []

    class Publisher:
        @staticmethod
        def publish(topic, payload):
            sent.append((topic, payload))
            return True

    monkeypatch.setattr(commands, "publisher", Publisher)
    cannon = device_services.register_device(
        lanshan_regulator,
        project,
        {"name": "1号雾炮", "kind": "actuator", "protocol": "mqtt", "mqtt_client_id": "fog-9"},
    )
    web = client_for(lanshan_regulator)
    assert f"/sites/devices/{cannon.pk}/command/" in web.get(f"/projects/{project.pk}/").content.decode()
    done = web.post(f"/sites/devices/{cannon.pk}/command/", {"action": "on"})
    assert done.status_code == 302
    command = ActuatorCommand.objects.get(device=cannon)
    assert command.action == "on" and command.issued_by == lanshan_regulator and command.state == "sent"
    assert [payload["id"] for _, payload in sent] == [command.command_id]
    assert "fog-9" in sent[0][0]
    builder = client_for(contractor(project))
    assert f"/sites/devices/{cannon.pk}/command/" not in builder.get(f"/projects/{project.pk}/").content.decode()
    builder.post(f"/sites/devices/{cannon.pk}/command/", {"action": "off"})
    assert ActuatorCommand.objects.filter(device=cannon).count() == 1  # refused: only regulators command
    assert (
        client_for(lanshan_regulator).post(f"/sites/devices/{cannon.pk}/command/", {"action": "x"}).status_code == 404
    )
