"""Crane telemetry names its operator (the cab's ID-card / face reader); an operator who is unknown, not on
the project's register, without a valid 塔式起重机司机 certificate or who did not come in through the
project's gate today raises the 塔机司机资格 alarm on the ordinary rule path, with the reasons kept; a
qualified operator clears it. Overload (load_pct) alarms like the load moment. The raw ID number is never
stored, logged or spooled."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import OperationalError
from django.test import Client

from jianguan.accounts.models import ApiToken
from jianguan.notify.models import Notification
from jianguan.projects.models import State
from jianguan.sites.devices import services as device_services
from jianguan.sites.ingest import store
from jianguan.sites.models import Alarm, CraneOperatorCheck, Reading
from jianguan.sites.protocols import telemetry
from jianguan.sites.workforce import cranes, gates, roster
from jianguan.testing import factories as f

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)
GATE_TS = dt.datetime(2026, 11, 20, 0, 30, tzinfo=dt.UTC)  # 08:30 in Linyi
TOPIC = "jianguan/v1/devices/crane-01/telemetry"


def message(minute: int, operator: str | None, **values) -> dict:
    body: dict = {"ts": f"2026-11-20T10:{minute:02d}:00+08:00", "values": values or {"moment_pct": 40.0}}
    if operator is not None:
        body["operator"] = operator
    return {"topic": TOPIC, "payload": json.dumps(body)}


# --- the payload (pure) ---------------------------------------------------------------------------------


def test_operator_shape_is_checked_and_kept_out_of_repr():
    number = f.next_id_number()
    data = telemetry.parse_payload(json.dumps({"values": {"moment_pct": 50}, "operator": f" {number} "}), NOW)
    assert data.operator == number and number not in repr(data)
    only = telemetry.parse_payload(json.dumps({"values": {}, "operator": number}), NOW)
    assert only.values == {} and only.operator == number  # the reader may report a login alone
    for bad in (371302, "", "x" * 33):
        with pytest.raises(telemetry.TelemetryError, match="operator") as err:
            telemetry.parse_payload(json.dumps({"values": {"moment_pct": 1}, "operator": bad}), NOW)
        assert str(bad) not in str(err.value) or bad == ""
    with pytest.raises(telemetry.TelemetryError, match="derived"):
        telemetry.parse_payload(b'{"values": {"op_unqualified": 0}}', NOW)  # a device cannot clear the alarm


def test_load_pct_derived_from_the_rated_load():
    data = telemetry.parse_payload(b'{"values": {"load_t": 4.5, "rated_load_t": 5}}', NOW)
    assert data.values["load_pct"] == 90.0
    sent = telemetry.parse_payload(b'{"values": {"load_t": 4.5, "rated_load_t": 5, "load_pct": 80}}', NOW)
    assert sent.values["load_pct"] == 80.0  # the device's own figure wins
    assert "load_pct" not in telemetry.parse_payload(b'{"values": {"load_t": 4.5, "rated_load_t": 0}}', NOW).values


# --- the check on the ingest path -----------------------------------------------------------------------


@pytest.fixture
def site(db, lanshan_regulator, tmp_path):
    from jianguan.sites.ingest.mqtt import MqttIngest

    project = f.staffed_project(state=State.UNDER_CONSTRUCTION)
    gc = project.participants.get(role="general_contractor").enterprise
    reg = lanshan_regulator
    gate = device_services.register_device(reg, project, {"name": "东门闸机", "kind": "gate", "protocol": "http"})
    crane = device_services.register_device(
        reg, project, {"name": "1号塔吊", "kind": "crane", "protocol": "mqtt", "mqtt_client_id": "crane-01"}
    )
    ingest = MqttIngest("mqtt://127.0.0.1:1", worker="t", spool_path=tmp_path / "spool.jsonl")
    return project, gc, gate, crane, reg, ingest


def on_roster(reg, project, person, employer):
    roster.register_worker(
        reg, project, person_id=person.pk, employer_id=employer.pk, trade="塔式起重机司机",
        required_operation="塔式起重机司机",
    )  # fmt: skip


def qualified(site, name="王司机"):
    """A certified operator on the roster who came in through the gate this morning."""
    project, gc, gate, _crane, reg, _ = site
    person = f.make_crane_operator(gc, name)
    on_roster(reg, project, person, gc)
    assert gates.record_entry(gate, person.reveal_id_number(), "in", GATE_TS).flags == []
    return person


def latest(crane) -> CraneOperatorCheck:
    return CraneOperatorCheck.objects.get(device=crane)


def test_qualified_operator_who_came_through_the_gate_raises_nothing(site):
    *_, crane, _reg, ingest = site
    number = qualified(site).reveal_id_number()
    ingest.handle(message(0, number))
    assert ingest.stats["stored"] == 1 and not Alarm.objects.exists()
    assert Reading.objects.get(device=crane, parameter="op_unqualified").value == 0.0
    check = latest(crane)
    assert check.ok and check.reasons == [] and check.person.name == "王司机"
    assert number not in check.id_number_masked and "*" in check.id_number_masked


def test_unregistered_and_unknown_operators_raise_the_alarm_with_the_reason(site):
    _project, gc, gate, crane, _reg, ingest = site
    stranger = f.make_crane_operator(gc, "周某")  # certified, came in by the gate, not on this project's roster
    gates.record_entry(gate, stranger.reveal_id_number(), "in", GATE_TS)
    ingest.handle(message(0, stranger.reveal_id_number()))
    alarm = Alarm.objects.get(device=crane)
    assert alarm.rule.name == "塔机司机资格" and alarm.state == Alarm.State.ACTIVE and alarm.last_value == 1.0
    assert latest(crane).reasons == ["unregistered"]
    assert "非本项目" in latest(crane).messages[0]
    ingest.handle(message(1, f.next_id_number()))  # nobody in the registry
    assert latest(crane).reasons == ["unknown_person"] and latest(crane).person is None
    ingest.handle(message(2, "12345"))
    assert latest(crane).reasons == ["invalid_id"]
    assert Alarm.objects.filter(device=crane).count() == 1  # one alarm, still open


def test_expired_certificate_raises_the_alarm(site):
    project, gc, gate, crane, reg, ingest = site
    expired = f.make_crane_operator(gc, "郑司机", dt.date(2020, 1, 1), dt.date(2023, 1, 1))
    on_roster(reg, project, expired, gc)
    gates.record_entry(gate, expired.reveal_id_number(), "in", GATE_TS)
    ingest.handle(message(0, expired.reveal_id_number()))
    assert latest(crane).reasons == ["certificate_expired"]
    assert Alarm.objects.get(device=crane).rule.parameter == "op_unqualified"
    # A worker on the roster as 普工 with no crane certificate at all is caught too.
    labourer = f.make_person(gc, "孙某")
    roster.register_worker(reg, project, person_id=labourer.pk, employer_id=gc.pk, trade="普工")
    gates.record_entry(gate, labourer.reveal_id_number(), "in", GATE_TS)
    ingest.handle(message(1, labourer.reveal_id_number()))
    assert latest(crane).reasons == ["certificate_missing"]


def test_qualified_operator_without_a_gate_entry_today_raises_the_alarm(site):
    project, gc, gate, crane, reg, ingest = site
    person = f.make_crane_operator(gc)
    on_roster(reg, project, person, gc)
    gates.record_entry(gate, person.reveal_id_number(), "in", GATE_TS - dt.timedelta(days=1))  # yesterday
    gates.record_entry(gate, person.reveal_id_number(), "out", GATE_TS)  # leaving is no entry
    other = f.staffed_project(state=State.UNDER_CONSTRUCTION)
    other_gate = device_services.register_device(reg, other, {"name": "别家闸机", "kind": "gate", "protocol": "http"})
    gates.record_entry(other_gate, person.reveal_id_number(), "in", GATE_TS)  # another project's gate
    ingest.handle(message(0, person.reveal_id_number()))
    assert latest(crane).reasons == ["no_gate_entry"] and latest(crane).messages == ["当日未经本项目闸机进场"]
    assert Alarm.objects.get(device=crane).state == Alarm.State.ACTIVE


def test_operator_who_went_out_through_the_gate_raises_the_alarm_until_back_in(site):
    _project, _gc, gate, crane, _reg, ingest = site
    person = qualified(site)  # in at 08:30
    number = person.reveal_id_number()
    gates.record_entry(gate, number, "out", GATE_TS + dt.timedelta(hours=1))  # out at 09:30 (lunch, or gone)
    gates.record_entry(gate, number, "out", dt.datetime(2026, 11, 20, 2, 5, tzinfo=dt.UTC))  # after 10:00: not yet
    ingest.handle(message(0, number))  # the crane at 10:00 reports them at the controls
    assert latest(crane).reasons == ["left_site"]
    assert latest(crane).messages == ["已经本项目闸机出场，其后未再进场"]
    assert Alarm.objects.get(device=crane).state == Alarm.State.ACTIVE
    gates.record_entry(gate, number, "in", dt.datetime(2026, 11, 20, 2, 8, tzinfo=dt.UTC))  # back in at 10:08
    ingest.handle(message(1, number))  # 10:01: the entry 7 minutes later is within the devices' clock skew
    assert latest(crane).ok


def test_an_exit_after_the_cranes_message_is_not_held_against_it(site):
    _project, _gc, gate, crane, _reg, ingest = site
    person = qualified(site)
    gates.record_entry(gate, person.reveal_id_number(), "out", dt.datetime(2026, 11, 20, 2, 3, tzinfo=dt.UTC))
    ingest.handle(message(0, person.reveal_id_number()))  # 10:00, three minutes before the exit
    assert latest(crane).ok and not Alarm.objects.exists()


def test_qualified_operator_clears_the_alarm_and_everyone_is_told(site, django_capture_on_commit_callbacks):
    _project, gc, _gate, crane, reg, ingest = site
    stranger = f.make_person(gc, "周某")
    good = qualified(site)
    with django_capture_on_commit_callbacks(execute=True):
        ingest.handle(message(0, stranger.reveal_id_number()))
    raised = Notification.objects.filter(topic="alarm.raise", recipient=reg).get()
    assert "未在本项目实名制花名册中登记" in raised.body  # the reason, not "1 > 0.5"
    assert stranger.reveal_id_number() not in raised.body
    with django_capture_on_commit_callbacks(execute=True):
        ingest.handle(message(1, None))  # no operator named: nothing checked, the alarm stays
        ingest.handle(message(2, good.reveal_id_number()))
    alarm = Alarm.objects.get(device=crane)
    assert alarm.state == Alarm.State.CLEARED
    assert alarm.cleared_at == dt.datetime(2026, 11, 20, 2, 2, tzinfo=dt.UTC)
    assert latest(crane).ok and latest(crane).person == good
    raised = Notification.objects.filter(topic="alarm.raise", recipient=reg).get()
    assert "塔机司机资格" in raised.title
    assert Notification.objects.filter(topic="alarm.clear", recipient=reg).exists()
    values = list(Reading.objects.filter(device=crane, parameter="op_unqualified").order_by("ts").values_list("value"))
    assert values == [(1.0,), (0.0,)]


def test_older_message_does_not_replace_the_latest_check(site):
    *_, crane, _reg, ingest = site
    good = qualified(site)
    ingest.handle(message(5, good.reveal_id_number()))
    ingest.handle(message(1, f.next_id_number()))  # late (replayed) message of an earlier operator
    assert latest(crane).ok and latest(crane).ts == dt.datetime(2026, 11, 20, 2, 5, tzinfo=dt.UTC)


def test_http_crane_and_the_project_api(site):
    project, gc, _gate, _crane, reg, _ingest = site
    crane = device_services.register_device(reg, project, {"name": "2号塔吊", "kind": "crane", "protocol": "http"})
    stranger = f.make_person(gc, "周某")
    number = stranger.reveal_id_number()
    body = json.dumps({"ts": "2026-11-20T10:00:00+08:00", "values": {"moment_pct": 50}, "operator": number})
    answer = Client().post(
        "/api/ingest/telemetry", body, content_type="application/json", HTTP_X_DEVICE_TOKEN=crane.issued_token
    )
    assert answer.status_code == 202 and answer.json() == {"stored": 2}  # moment_pct and op_unqualified
    assert Alarm.objects.get(device=crane).rule.name == "塔机司机资格"
    _, key = ApiToken.issue(reg, "t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    rows = api.get(f"/api/projects/{project.pk}/crane-operators").json()
    assert [(r["device_name"], r["ok"], r["person_name"]) for r in rows] == [("2号塔吊", False, "周某")]
    assert rows[0]["reasons"] == ["unregistered", "certificate_missing", "no_gate_entry"]
    assert number not in json.dumps(rows, ensure_ascii=False)
    page = Client()
    page.force_login(reg)
    html = page.get(f"/projects/{project.pk}/").content.decode()
    assert "资格核验不通过" in html and "当日未经本项目闸机进场" in html and number not in html


def test_operator_is_ignored_on_other_devices(site):
    project, _gc, _gate, _crane, reg, _ = site
    sensor = device_services.register_device(reg, project, {"name": "温度", "kind": "sensor", "protocol": "http"})
    data = telemetry.parse_payload(json.dumps({"values": {"temp_c": 3}, "operator": f.next_id_number()}), NOW)
    assert store.store_telemetry(sensor.pk, data) == 1
    assert not CraneOperatorCheck.objects.exists() and not Reading.objects.filter(parameter="op_unqualified")


def test_spool_keeps_no_raw_id_number(site, monkeypatch):
    *_, crane, _reg, ingest = site
    number = f.next_id_number()  # unknown: the replayed message raises the alarm

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    real_store = store.store_telemetry
    monkeypatch.setattr(store, "store_telemetry", down)
    monkeypatch.setattr("jianguan.sites.ingest.mqtt.close_old_connections", lambda: None)
    record = message(0, number)
    msg = type("M", (), {"topic": record["topic"], "payload": record["payload"].encode()})()
    ingest._on_message(None, None, msg)
    spooled = ingest.spool.path.read_text(encoding="utf-8")
    assert len(ingest.spool) == 1 and number not in spooled and number[-4:] in spooled
    monkeypatch.setattr(store, "store_telemetry", real_store)
    assert ingest.replay_spool() == 1
    assert latest(crane).reasons == ["unknown_person"]
    assert Alarm.objects.get(device=crane).rule.parameter == "op_unqualified"


def test_overload_alarms_at_once(site):
    *_, crane, _reg, ingest = site
    for minute, load in enumerate([3.0, 4.6, 5.2, 3.5]):  # rated 5 t: 60 %, 92 %, 104 %, 70 %
        ingest.handle(message(minute, None, load_t=load, rated_load_t=5.0))
    alarm = Alarm.objects.get(device=crane)
    assert alarm.rule.name == "塔机起重量" and not alarm.rule.confirmed
    assert alarm.severity == "critical" and alarm.peak_value == 104.0 and alarm.state == Alarm.State.CLEARED


def test_crane_defaults():
    from jianguan.sites.limits.defaults import DEFAULTS, IMMEDIATE

    rows = {row[1]: row for row in DEFAULTS}
    assert rows["op_unqualified"][0] == "塔机司机资格" and rows["op_unqualified"][5:7] == (0.5, None)
    assert {"op_unqualified", "load_pct"} <= IMMEDIATE
    assert cranes.PARAMETER == "op_unqualified" and len(cranes.PARAMETER) <= 16  # Reading.parameter's width
