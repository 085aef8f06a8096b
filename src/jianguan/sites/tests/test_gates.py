"""The real-name gate check flags an unregistered worker, a worker without the required certificate and
workers of employers that are not participants of the project (挂靠/转包 signals)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from jianguan.accounts.models import ApiToken, User
from jianguan.projects.models import State
from jianguan.registry.models import Certificate, Enterprise, Person
from jianguan.sites.devices import services as device_services
from jianguan.sites.models import GateEvent, SiteWorker
from jianguan.sites.workforce import gates, roster
from jianguan.testing import factories as f

TS = dt.datetime(2026, 11, 20, 0, 30, tzinfo=dt.UTC)  # 08:30 in Linyi


@pytest.fixture
def site(db, lanshan_regulator):
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION)
    gc = project.participants.get(role="general_contractor").enterprise
    gate = device_services.register_device(
        lanshan_regulator, project, {"name": "东门闸机", "kind": "gate", "protocol": "http"}
    )
    return project, gc, gate, lanshan_regulator


def register(user, project, person, employer, trade="普工", operation=""):
    return roster.register_worker(
        user, project, person_id=person.pk, employer_id=employer.pk, trade=trade, required_operation=operation
    )


def test_registered_worker_passes(site):
    project, gc, gate, reg = site
    worker = f.make_person(gc, "孙师傅")
    register(reg, project, worker, gc)
    event = gates.record_entry(gate, worker.reveal_id_number(), "in", TS)
    assert event.flags == [] and event.person == worker


def test_unregistered_worker_is_flagged(site):
    _project, gc, gate, _ = site
    stranger = f.make_person(gc, "周某")  # in the registry, employed by the contractor, not on the roster
    event = gates.record_entry(gate, stranger.reveal_id_number(), "in", TS)
    assert event.flags == ["unregistered"]
    assert "未在本项目实名制花名册中登记" in event.messages
    unknown = gates.record_entry(gate, f.next_id_number(), "in", TS)
    assert unknown.flags == ["unknown_person", "unregistered"] and unknown.person is None
    assert "*" in unknown.id_number_masked


def test_crane_operator_needs_a_valid_special_operation_certificate(site):
    project, gc, gate, reg = site
    no_cert = f.make_person(gc, "吴司机")
    register(reg, project, no_cert, gc, trade="塔式起重机司机", operation="塔式起重机司机")
    assert gates.record_entry(gate, no_cert.reveal_id_number(), "in", TS).flags == ["certificate_missing"]
    expired = f.make_person(gc, "郑司机")
    Certificate.objects.create(
        person=expired, kind="special_operation", operation_type="塔式起重机司机", number="T1",
        valid_from=dt.date(2020, 1, 1), valid_until=dt.date(2023, 1, 1),
    )  # fmt: skip
    register(reg, project, expired, gc, trade="塔式起重机司机", operation="塔式起重机司机")
    assert gates.record_entry(gate, expired.reveal_id_number(), "in", TS).flags == ["certificate_expired"]
    valid = f.make_person(gc, "王司机")
    Certificate.objects.create(
        person=valid, kind="special_operation", operation_type="塔式起重机司机", number="T2",
        valid_from=dt.date(2025, 1, 1), valid_until=dt.date(2028, 1, 1),
    )  # fmt: skip
    register(reg, project, valid, gc, trade="塔式起重机司机", operation="塔式起重机司机")
    assert gates.record_entry(gate, valid.reveal_id_number(), "in", TS).flags == []


def test_subcontracting_signals_and_summary(site):
    project, gc, gate, reg = site
    outsider_firm = f.EnterpriseFactory(kind=Enterprise.Kind.CONSTRUCTION, name="外来劳务公司")
    # The register refuses both today (test_the_register_accepts_only_employees_of_participants); they come from
    # rosters kept before, or drift: a firm that left the project, a person who changed employer since.
    borrowed = f.make_person(outsider_firm, "钱某")
    SiteWorker.objects.create(project=project, person=borrowed, employer=outsider_firm, trade="普工")
    mismatch = f.make_person(outsider_firm, "李某")
    SiteWorker.objects.create(project=project, person=mismatch, employer=gc, trade="普工")  # employed elsewhere
    ok = f.make_person(gc, "赵某")
    register(reg, project, ok, gc)
    assert gates.record_entry(gate, borrowed.reveal_id_number(), "in", TS).flags == ["employer_not_participant"]
    assert gates.record_entry(gate, mismatch.reveal_id_number(), "in", TS).flags == ["employer_mismatch"]
    gates.record_entry(gate, ok.reveal_id_number(), "in", TS)
    gates.record_entry(gate, ok.reveal_id_number(), "in", TS)  # the gate repeats itself: one event
    summary = gates.project_summary(project, dt.date(2026, 11, 20))
    assert summary["people_in"] == 3 and summary["flagged_entries"] == 2
    assert summary["subcontracting_signal"] == 2
    by_employer = {row["employer"]: row["people"] for row in summary["attendance_by_employer"]}
    assert by_employer == {gc.name: 2, "外来劳务公司": 1}
    assert GateEvent.objects.count() == 3


def test_gate_api(site):
    project, gc, gate, reg = site
    worker = f.make_person(gc, "孙师傅")
    client = Client()
    body = {"id_number": worker.reveal_id_number(), "direction": "in", "ts": "2026-11-20T08:30:00+08:00"}
    flagged = client.post(
        "/api/ingest/gate", body, content_type="application/json", HTTP_X_DEVICE_TOKEN=gate.issued_token
    )
    assert flagged.status_code == 201 and flagged.json()["flags"] == ["unregistered"]
    assert worker.reveal_id_number() not in flagged.content.decode()
    _, key = ApiToken.issue(reg, "t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    summary = api.get(f"/api/projects/{project.pk}/gate-summary?day=2026-11-20").json()
    assert summary["flags"]["unregistered"]["count"] == 1
    outsider = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=f.EnterpriseFactory())
    _, okey = ApiToken.issue(outsider, "t")
    denied = Client(HTTP_AUTHORIZATION=f"Bearer {okey}").post(
        f"/api/projects/{project.pk}/workers",
        {"person_id": worker.pk, "employer_id": gc.pk},
        content_type="application/json",
    )
    assert denied.status_code == 404


def test_project_page_shows_todays_attendance_and_signals(site):
    from django.utils import timezone

    project, gc, gate, reg = site
    outsider_firm = f.EnterpriseFactory(kind=Enterprise.Kind.CONSTRUCTION, name="外来劳务公司")
    borrowed = f.make_person(outsider_firm, "钱某")
    SiteWorker.objects.create(project=project, person=borrowed, employer=outsider_firm)  # an older roster entry
    stranger = f.make_person(gc, "孙某")  # not on the roster
    gates.record_entry(gate, borrowed.reveal_id_number(), "in", timezone.now())
    gates.record_entry(gate, stranger.reveal_id_number(), "in", timezone.now())
    web = Client()
    web.force_login(reg)
    page = web.get(f"/projects/{project.pk}/").content.decode()
    section = page.split('id="gate-summary"', 1)[1].split("</table>", 1)[0]
    assert "实名制考勤" in page and "挂靠/转包信号 2" in section
    assert "外来劳务公司" in section and gates.FLAG_MESSAGES["unregistered"] in section
    assert stranger.reveal_id_number() not in page


def test_project_page_shows_another_days_attendance(site):
    import datetime as dt

    from django.utils import timezone

    project, gc, gate, reg = site
    worker = f.make_person(gc, "李某")
    register(reg, project, worker, gc)
    yesterday = timezone.now() - dt.timedelta(days=1)
    gates.record_entry(gate, worker.reveal_id_number(), "in", yesterday)
    web = Client()
    web.force_login(reg)
    today = web.get(f"/projects/{project.pk}/").content.decode()
    assert "当日无登记人员进场记录" in today
    day = timezone.localtime(yesterday).date()
    page = web.get(f"/projects/{project.pk}/", {"attendance_day": day.isoformat()}).content.decode()
    section = page.split('id="gate-summary"', 1)[1].split("</table>", 1)[0]
    assert f"实名制考勤（{day:%m}月{day:%d}日）" in section and gc.name in section
    assert f'name="attendance_day" value="{day.isoformat()}"' in section
    for odd in ("2099-01-01", "not-a-day", "2026-02-30"):  # the future is today; nonsense is today
        assert "当日无登记人员进场记录" in web.get(f"/projects/{project.pk}/", {"attendance_day": odd}).content.decode()


def test_the_register_accepts_only_employees_of_participants(site):
    project, gc, _gate, reg = site
    outsider_firm = f.EnterpriseFactory(kind=Enterprise.Kind.CONSTRUCTION, name="外来劳务公司")
    borrowed = f.make_person(outsider_firm, "钱某")
    with pytest.raises(ValidationError) as exc:
        register(reg, project, borrowed, outsider_firm)
    assert exc.value.message_dict == {"employer_id": ["用工单位须为本项目的参建单位"]}
    with pytest.raises(ValidationError) as by_other:  # a person of another firm, named as the contractor's
        register(reg, project, borrowed, gc)
    missing = Person.objects.order_by("-pk").first().pk + 1000
    with pytest.raises(ValidationError) as by_missing:
        roster.register_worker(reg, project, person_id=missing, employer_id=gc.pk)
    assert by_other.value.message_dict == by_missing.value.message_dict  # the same answer: no registry lookup
    assert not SiteWorker.objects.filter(project=project).exists()


def test_the_gate_names_only_people_on_the_sites_register(site, client):
    project, gc, gate, reg = site
    stranger = f.make_person(gc, "周某")  # in the registry, not on this site's register
    api = Client(HTTP_X_DEVICE_TOKEN=gate.issued_token)
    body = {"id_number": stranger.reveal_id_number(), "direction": "in", "ts": "2026-11-20T08:00:00+08:00"}
    answer = api.post("/api/ingest/gate", body, content_type="application/json").json()
    assert answer["person_name"] is None and answer["flags"] == ["unregistered"]
    register(reg, project, stranger, gc)
    body["ts"] = "2026-11-20T08:05:00+08:00"
    answer = api.post("/api/ingest/gate", body, content_type="application/json").json()
    assert answer["person_name"] == "周某"
