"""PM2.5 over the limit reaches the district bureau and the project's manager and safety officer (the users
whose registered person holds those key posts): in the inbox, by email and in the district's group robot."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from jianguan.accounts.models import Department, User
from jianguan.notify.models import Delivery, Notification
from jianguan.projects.models import KeyPerson, State
from jianguan.sites.alarms import notices, rules
from jianguan.sites.devices import identity
from jianguan.sites.devices import services as device_services
from jianguan.sites.ingest import store
from jianguan.sites.protocols import hj212
from jianguan.testing import factories as f

T0 = dt.datetime(2026, 11, 20, 10, 0, 0)  # Beijing time, daytime


def pm25_packet(mn: str, minute: int, value: float) -> hj212.Packet:
    when = T0 + dt.timedelta(minutes=minute)
    return hj212.decode(
        hj212.frame_segment(
            f"QN={when:%Y%m%d%H%M%S}000;ST=22;CN=2011;PW=123456;MN={mn};Flag=5;"
            f"CP=&&DataTime={when:%Y%m%d%H%M%S};a34004-Rtd={value},a34004-Flag=N&&"
        )
    )


@pytest.fixture
def site(db):
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION)
    dept = Department.objects.create(name="兰山区住建局", kind="housing", jurisdiction=project.jurisdiction)
    regulator = f.UserFactory(role=User.Role.DISTRICT_REGULATOR, department=dept, email="reg@lanshan.example")
    gc = project.participants.get(role="general_contractor").enterprise
    pm = KeyPerson.objects.get(project=project, role="project_manager").person
    manager = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=gc, person=pm, email="pm@gc.example")
    # The safety officer is employed by a labour-services firm: only the person link makes them a recipient.
    labour = f.EnterpriseFactory()
    officer_person = f.make_person(labour, "孙安全", ("safety_c",))
    KeyPerson.objects.filter(project=project, role="safety_officer").update(person=officer_person)
    officer = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=labour, person=officer_person)
    chief = KeyPerson.objects.get(project=project, role="chief_supervisor").person
    supervisor = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=chief.employer, person=chief)
    bystander = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=f.EnterpriseFactory())
    rules.invalidate_rules()
    identity.invalidate_cache()
    device = device_services.register_device(
        regulator,
        project,
        {"name": "东门监测", "kind": "dust_noise", "protocol": "hj212", "mn": "DUSTPM1", "password": "123456"},
    )
    return (
        project,
        device,
        {"regulator": regulator, "manager": manager, "officer": officer, "sup": supervisor, "x": bystander},
    )


def test_recipients_are_the_regulators_and_the_key_people(site):
    project, _, u = site
    found = notices.recipients(project)
    assert set(found) == {u["regulator"], u["manager"], u["officer"]}
    assert len(found) == len(set(found))  # the manager is also a general-contractor user: once
    User.objects.filter(pk=u["officer"].pk).update(is_active=False)
    assert u["officer"] not in notices.recipients(project)


def test_pm25_alarm_reaches_the_district_bureau_and_the_project_manager(
    site, start_robot, django_capture_on_commit_callbacks
):
    project, device, u = site
    robot = start_robot()
    f.WebhookEndpointFactory(jurisdiction=project.jurisdiction, url=robot.url(), secret="SECdistrict")
    with django_capture_on_commit_callbacks(execute=True):
        for minute, value in enumerate([90, 95, 100]):  # sustained over 75 μg/m³ → raised
            store.store_packet(pm25_packet(device.mn, minute, value))

    raised = Notification.objects.filter(topic="alarm.raise")
    assert {n.recipient for n in raised} == {u["regulator"], u["manager"], u["officer"]}
    assert not Notification.objects.filter(recipient__in=[u["sup"], u["x"]]).exists()
    assert {m.to[0] for m in mail.outbox} == {"reg@lanshan.example", "pm@gc.example"}
    assert all("PM2.5" in m.subject and "超标告警" in m.subject for m in mail.outbox)
    (request,) = robot.requests
    assert "超标告警" in request["json"]["markdown"]["title"] and request["query"]["sign"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
