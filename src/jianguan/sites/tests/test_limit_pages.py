"""Limits as data, edited in the pages: the bureau keeps the city-wide rules, a district regulator its own
overrides (never the city's or another district's); the engine's constraints are the form's; every change is
audited and reaches the alarm rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from jianguan.accounts.models import User
from jianguan.core.models import AuditEvent
from jianguan.projects.models import State
from jianguan.sites.alarms import engine, rules
from jianguan.sites.limits import editing as limit_admin
from jianguan.sites.models import Device, LimitRule
from jianguan.testing import factories as f

NOON = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)  # 12:00 in Beijing: daytime
MIDNIGHT = dt.datetime(2026, 11, 20, 16, 0, tzinfo=dt.UTC)  # 00:00 in Beijing: night


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def city_rule(parameter: str, period: str = "all") -> LimitRule:
    return LimitRule.objects.get(parameter=parameter, jurisdiction=None, period=period)


def form_data(rule: LimitRule | None = None, **changes) -> dict:
    data = limit_admin.initial_for(rule)
    data.update(changes)
    out = {k: ("" if v is None else v) for k, v in data.items()}
    for flag in ("confirmed", "active"):  # unticked checkboxes are not posted
        if not data.get(flag):
            out.pop(flag, None)
    return out


def override(jurisdiction, parameter="a34004", warning=60.0, **kwargs) -> LimitRule:
    values = dict(name=f"{parameter}（{jurisdiction.name}）", unit="µg/m³", source="区政府文件", warning=warning)
    values.update(kwargs)
    return LimitRule.objects.create(parameter=parameter, jurisdiction=jurisdiction, **values)


@pytest.fixture
def dust_device(lanshan):
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=lanshan)
    return Device.objects.create(project=project, name="东门监测", kind="dust_noise", protocol="hj212", mn="LIM1")


def test_regulator_sees_city_defaults_and_own_overrides_side_by_side(lanshan_regulator, lanshan, luozhuang):
    override(lanshan, warning=61.5)
    override(luozhuang, warning=42.5)
    page = web(lanshan_regulator).get("/sites/limits/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "兰山区专用" in html and "61.5" in html
    assert "42.5" not in html and "罗庄区" not in html  # another district's rules stay out of sight
    assert "默认值待确认" in html and "依据已确认" in html  # PM2.5 default unconfirmed, GB 12523 noise confirmed
    assert "GB 12523-2011" in html
    assert "60 秒" in html  # running gateways pick changes up within the rule cache's TTL
    assert "以全市默认为基础设置本区规则" in html  # PM10 etc. have no override yet
    assert 'href="/sites/limits/"' in html  # the sites navigation links the page


def test_only_regulators_with_edit_roles_see_the_pages(lanshan, lanshan_regulator):
    inspector = f.UserFactory(role=User.Role.INSPECTOR, department=lanshan_regulator.department)
    builder = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=f.EnterpriseFactory())
    officer = f.UserFactory(
        role=User.Role.DEPT_OFFICER, department=f.DepartmentFactory(name="兰山区生态环境局", jurisdiction=lanshan)
    )
    rule = city_rule("a34004")
    for user in (inspector, builder, officer):
        client = web(user)
        assert client.get("/sites/limits/").status_code == 403
        assert client.get("/sites/limits/new/").status_code == 403
        # They read no rule: a rule's own pages are not there for them (404, as for a rule that does not exist).
        assert client.get(f"/sites/limits/{rule.pk}/edit/").status_code == 404
        assert client.post(f"/sites/limits/{rule.pk}/deactivate/").status_code == 404
    assert "限值设置" not in web(builder).get("/sites/alarms/").content.decode()
    anonymous = Client().get("/sites/limits/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    rule.refresh_from_db()
    assert rule.active


def test_district_copies_the_city_default_into_an_override_that_the_alarm_rules_use(
    lanshan_regulator, lanshan, dust_device
):
    pm25 = city_rule("a34004")
    assert rules.rules_for(dust_device, "a34004", NOON) == [pm25]
    client = web(lanshan_regulator)
    form = client.get(f"/sites/limits/new/?from={pm25.pk}")
    assert form.status_code == 200
    html = form.content.decode()
    assert "新增限值规则（兰山区）" in html and 'value="75.0"' in html and "已复制全市默认规则" in html

    saved = client.post(
        "/sites/limits/new/", form_data(pm25, warning=60, source="兰山区扬尘防治方案（2026）", confirmed=True)
    )
    assert saved.status_code == 302
    rule = LimitRule.objects.get(jurisdiction=lanshan, parameter="a34004")
    assert (rule.warning, rule.critical, rule.sustain, rule.active) == (60, 150, 3, True)
    assert saved["Location"] == f"/sites/limits/?district={lanshan.code}#rule-{rule.pk}"
    event = AuditEvent.objects.get(object_type="sites.limitrule", object_id=str(rule.pk))
    assert event.action == "create" and event.actor == lanshan_regulator
    assert event.changes["jurisdiction"] == "兰山区" and event.changes["warning"] == 60
    # Saving cleared this process's rule cache: the district's own rule replaces the city default at once.
    assert rules.rules_for(dust_device, "a34004", NOON) == [rule]
    listing = client.get("/sites/limits/").content.decode()
    assert "本区不适用" in listing and "兰山区扬尘防治方案（2026）" in listing


def test_district_never_edits_city_wide_rules_nor_other_districts(lanshan_regulator, luozhuang):
    client = web(lanshan_regulator)
    pm25 = city_rule("a34004")
    theirs = override(luozhuang, warning=42)
    assert client.get(f"/sites/limits/{pm25.pk}/edit/").status_code == 403
    assert client.post(f"/sites/limits/{pm25.pk}/edit/", form_data(pm25, warning=1)).status_code == 403
    assert client.post(f"/sites/limits/{pm25.pk}/deactivate/").status_code == 403
    # Not readable at all: 404, no existence leak.
    assert client.get(f"/sites/limits/{theirs.pk}/edit/").status_code == 404
    assert client.post(f"/sites/limits/{theirs.pk}/edit/", form_data(theirs, warning=1)).status_code == 404
    assert client.post(f"/sites/limits/{theirs.pk}/deactivate/").status_code == 404
    # A copy of another district's rule is no starting point.
    assert "已复制" not in client.get(f"/sites/limits/new/?from={theirs.pk}").content.decode()
    pm25.refresh_from_db()
    theirs.refresh_from_db()
    assert pm25.warning == 75 and pm25.active and theirs.warning == 42 and theirs.active
    assert not AuditEvent.objects.filter(object_type="sites.limitrule").exists()


def test_bureau_edits_city_wide_rules_and_reads_district_overrides(bureau_admin, lanshan, dust_device):
    local = override(lanshan, warning=61.5)
    client = web(bureau_admin)
    pm10 = city_rule("a34002")
    saved = client.post(
        f"/sites/limits/{pm10.pk}/edit/",
        form_data(pm10, warning=120, source="山东省地方标准（已核实）", confirmed=True),
    )
    assert saved.status_code == 302
    pm10.refresh_from_db()
    assert pm10.warning == 120 and pm10.confirmed and pm10.jurisdiction is None
    event = AuditEvent.objects.get(object_type="sites.limitrule", object_id=str(pm10.pk))
    assert event.action == "update" and event.changes["warning"] == [150, 120] and "sustain" not in event.changes
    # The bureau compares a district's overrides, read-only.
    html = client.get(f"/sites/limits/?district={lanshan.code}").content.decode()
    assert "兰山区专用" in html and "61.5" in html
    assert f"/sites/limits/{local.pk}/edit/" not in html and f"/sites/limits/{pm10.pk}/edit/" in html
    assert client.get(f"/sites/limits/{local.pk}/edit/").status_code == 403
    # A new rule from the bureau is city-wide.
    created = client.post(
        "/sites/limits/new/",
        form_data(
            None, name="TSP", parameter="a34001", unit="µg/m³", warning=300, source="GB 3095-2012", confirmed=True
        ),
    )
    assert created.status_code == 302
    assert LimitRule.objects.get(parameter="a34001").jurisdiction is None


def test_invalid_values_get_chinese_field_errors(lanshan_regulator):
    client = web(lanshan_regulator)
    pm25 = city_rule("a34004")
    page = client.post(
        "/sites/limits/new/",
        form_data(pm25, warning=100, critical=90, sustain=0, clear_count=0, clear_ratio=1.5, source=" "),
    )
    assert page.status_code == 200
    form = page.context["form"]
    assert "严重限值（90）不能低于超标限值（100）" in form.errors["critical"][0]
    assert "连续超标次数至少为 1" in form.errors["sustain"][0]
    assert "连续达标次数至少为 1" in form.errors["clear_count"][0]
    assert "解除比例须大于 0 且不超过 1" in form.errors["clear_ratio"][0]
    assert "请填写" in form.errors["source"][0]
    html = page.content.decode()
    assert "解除比例须大于 0 且不超过 1" in html
    assert client.post("/sites/limits/new/", form_data(pm25, clear_ratio=0)).context["form"].errors["clear_ratio"]
    not_a_number = client.post("/sites/limits/new/", form_data(pm25, warning="七十五")).context["form"]
    assert list(not_a_number.errors) == ["warning"]  # the parse error alone, not a second "please fill in"
    bad_code = client.post("/sites/limits/new/", form_data(pm25, parameter="PM 2.5")).context["form"]
    assert "监测因子编码" in bad_code.errors["parameter"][0]
    assert not LimitRule.objects.exclude(jurisdiction=None).exists()


def test_overlapping_active_rules_in_one_scope_are_refused(lanshan_regulator, lanshan):
    night = override(lanshan, parameter="LA", warning=50, unit="dB(A)", period="night")
    client = web(lanshan_regulator)
    page = client.post("/sites/limits/new/", form_data(night, period="all", warning=52))
    assert page.status_code == 200
    assert "已有启用的规则" in page.context["form"].errors["period"][0]
    # The day is free, and an inactive copy does not count.
    assert client.post("/sites/limits/new/", form_data(night, period="day", warning=65)).status_code == 302
    assert client.post("/sites/limits/new/", form_data(night, period="all", active=False)).status_code == 302
    assert LimitRule.objects.filter(jurisdiction=lanshan, parameter="LA").count() == 3


def test_deactivating_an_override_brings_the_city_default_back(lanshan_regulator, lanshan, dust_device):
    night = override(lanshan, parameter="LA", warning=50, unit="dB(A)", period="night")
    city_night = city_rule("LA", "night")
    assert rules.rules_for(dust_device, "LA", MIDNIGHT) == [night]
    client = web(lanshan_regulator)
    html = client.get("/sites/limits/").content.decode()
    assert "本区不适用" in html  # the city's night noise rule is replaced in 兰山区
    done = client.post(f"/sites/limits/{night.pk}/deactivate/")
    assert done.status_code == 302
    night.refresh_from_db()
    assert not night.active
    assert rules.rules_for(dust_device, "LA", MIDNIGHT) == [city_night]
    event = AuditEvent.objects.get(object_type="sites.limitrule", object_id=str(night.pk))
    assert event.changes == {"active": [True, False]}
    client.post(f"/sites/limits/{night.pk}/activate/")
    night.refresh_from_db()
    assert night.active
    assert client.post(f"/sites/limits/{night.pk}/delete/").status_code == 404


def test_edit_of_own_override_and_partial_replacement(lanshan_regulator, lanshan):
    crane_only = override(lanshan, warning=50, device_kind="crane")
    client = web(lanshan_regulator)
    html = client.get("/sites/limits/").content.decode()
    assert "部分替代" in html  # the city's PM2.5 rule still applies to the district's other devices
    page = client.get(f"/sites/limits/{crane_only.pk}/edit/")
    assert page.status_code == 200 and "修改限值规则" in page.content.decode()
    assert client.post(f"/sites/limits/{crane_only.pk}/edit/", form_data(crane_only, warning=55)).status_code == 302
    crane_only.refresh_from_db()
    assert crane_only.warning == 55 and crane_only.jurisdiction == lanshan


@pytest.mark.parametrize(
    "warning,critical,sustain,clear_ratio,clear_count",
    [
        (75, 150, 3, 0.9, 3),
        (75, 75, 1, 1.0, 1),
        (75, 74.9, 3, 0.9, 3),
        (75, None, 0, 0.9, 3),
        (75, None, 3, 0.0, 3),
        (75, None, 3, 1.01, 3),
        (75, None, 3, 0.9, 0),
        (-5, -1, 2, 0.5, 2),
    ],
)
def test_validation_agrees_with_the_engine(warning, critical, sustain, clear_ratio, clear_count):
    data = dict(name="x", parameter="a34004", device_kind="", period="all", source="s")
    data.update(warning=warning, critical=critical, sustain=sustain, clear_ratio=clear_ratio, clear_count=clear_count)
    try:
        engine.Limit(warning, critical, sustain, clear_ratio, clear_count)
        engine_ok = True
    except ValueError:
        engine_ok = False
    try:
        limit_admin.validate(data)
        page_ok = True
    except Exception:
        page_ok = False
    assert page_ok == engine_ok


def test_form_messages_name_the_field(lanshan_regulator):
    client = web(lanshan_regulator)
    form = client.post("/sites/limits/new/", {"warning": "x", "sustain": "1.5", "clear_ratio": "y"}).context["form"]
    assert form.errors["name"] == ["请填写规则名称。"]
    assert form.errors["period"] == ["请选择时段。"]
    assert form.errors["sustain"] == ["请输入整数。"]
    assert "数字" in form.errors["warning"][0] and "数字" in form.errors["clear_ratio"][0]


def test_activating_a_copy_that_would_overlap_is_refused(lanshan_regulator, lanshan):
    night = override(lanshan, parameter="LA", warning=50, unit="dB(A)", period="night")
    spare = override(lanshan, parameter="LA", warning=52, unit="dB(A)", period="all", active=False)
    client = web(lanshan_regulator)
    page = client.post(f"/sites/limits/{spare.pk}/activate/", follow=True)
    assert "已有启用的规则" in page.content.decode()
    spare.refresh_from_db()
    assert not spare.active
    client.post(f"/sites/limits/{night.pk}/deactivate/")
    client.post(f"/sites/limits/{spare.pk}/activate/")
    spare.refresh_from_db()
    assert spare.active


def test_limit_edits_in_django_admin_are_audited_too(db, rf):
    from django.contrib.admin.sites import site as admin_site

    from jianguan.core.models import AuditEvent

    admin_user = f.UserFactory(is_staff=True, is_superuser=True)
    rule = LimitRule.objects.get(parameter="a34004", jurisdiction=None)
    model_admin = admin_site._registry[LimitRule]
    request = rf.post("/admin/")
    request.user = admin_user
    form_class = model_admin.get_form(request, rule, change=True)
    data = {
        field: getattr(rule, field) if field != "jurisdiction" else ""
        for field in form_class.base_fields
        if getattr(rule, field, None) is not None
    }
    data["warning"] = 80
    form = form_class(data, instance=rule)
    assert form.is_valid(), form.errors
    model_admin.save_model(request, form.save(commit=False), form, change=True)
    event = AuditEvent.objects.filter(actor=admin_user, action="update").latest("pk")
    assert "warning" in event.changes and "80" in str(event.changes["warning"])
