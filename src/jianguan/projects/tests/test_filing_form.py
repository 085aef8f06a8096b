"""Issue 10, "A form that follows the project" and the project page: scale parameters grouped by kind of work with
"不涉及" each, dependent fields marked for the page, a location picked on a map or pasted from 高德/百度 and
converted to WGS-84 with the conversion named; the 危大 list shows the highest level per category; the project
page is in sections with jump links and its timeline folded."""

from __future__ import annotations

import pytest
from django.test import Client

from jianguan.accounts.models import User
from jianguan.core import geo
from jianguan.projects import dangerous_works
from jianguan.projects.forms import PARAMETER_GROUPS, ProjectForm
from jianguan.projects.models import Project, State
from jianguan.registry.models import Enterprise
from jianguan.testing import factories as f

FORM = {
    "name": "沂河湾三期",
    "project_type": "housing",
    "address": "兰山区北京路88号",
    "lat": "35.061",
    "lon": "118.342",
}


@pytest.fixture
def filer(lanshan):
    user = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=f.EnterpriseFactory(kind=Enterprise.Kind.DEVELOPER))
    client = Client()
    client.force_login(user)
    return client, lanshan


def group_index(category: str) -> int:
    return next(i for i, (c, _specs) in enumerate(PARAMETER_GROUPS) if c == category)


def test_the_parameters_are_grouped_by_kind_of_work_in_the_rules_order():
    assert [c for c, _ in PARAMETER_GROUPS][:4] == ["基坑工程", "模板工程及支撑体系", "起重吊装及起重机械安装拆卸工程",
                                                  "脚手架工程"]  # fmt: skip
    assert sum(len(specs) for _c, specs in PARAMETER_GROUPS) == len(dangerous_works.PARAMETERS)


def test_a_group_marked_not_concerned_files_no_parameters(filer):
    client, lanshan = filer
    data = {**FORM, "jurisdiction": lanshan.pk, "param_excavation_depth_m": "6",
            "param_formwork_height_m": "9", f"none_{group_index('模板工程及支撑体系')}": "on"}  # fmt: skip
    client.post("/projects/new/", data)
    project = Project.objects.get(name="沂河湾三期")
    assert project.parameters == {"excavation_depth_m": 6.0}


def test_an_existing_filing_marks_its_empty_groups_not_concerned(lanshan):
    project = f.ProjectFactory(parameters={"excavation_depth_m": 4.0})
    form = ProjectForm(instance=project)
    assert form[f"none_{group_index('基坑工程')}"].initial is False
    assert form[f"none_{group_index('脚手架工程')}"].initial is True
    assert ProjectForm()[f"none_{group_index('脚手架工程')}"].initial is False  # a new filing asks


def test_dependent_fields_name_the_field_they_depend_on(filer):
    client, _lanshan = filer
    html = client.get("/projects/new/").content.decode()
    assert 'data-requires="param_installs_lifting_machinery"' in html
    assert 'data-requires="param_excavation_depth_m"' in html  # complex surroundings need a pit
    assert html.count('class="param-group"') == len(PARAMETER_GROUPS)


def test_a_point_pasted_from_amap_is_stored_as_wgs84_and_the_conversion_named(filer):
    client, lanshan = filer
    data = {**FORM, "lat": "", "lon": "", "jurisdiction": lanshan.pk, "paste": "118.356,35.104",
            "coord_system": geo.GCJ02}  # fmt: skip
    page = client.post("/projects/new/", data, follow=True)
    project = Project.objects.get(name="沂河湾三期")
    expected = geo.gcj02_to_wgs84(35.104, 118.356)
    assert abs(project.lat - expected[0]) < 1e-6 and abs(project.lon - expected[1]) < 1e-6
    assert "GCJ-02 → WGS-84" in page.content.decode()


def test_a_baidu_point_is_converted_too(filer):
    client, lanshan = filer
    data = {**FORM, "jurisdiction": lanshan.pk, "paste": "35.110, 118.363", "coord_system": geo.BD09}
    client.post("/projects/new/", data)
    project = Project.objects.get(name="沂河湾三期")
    assert (project.lat, project.lon) != (35.061, 118.342)
    assert abs(project.lat - geo.bd09_to_wgs84(35.110, 118.363)[0]) < 1e-6


def test_pasted_text_that_is_not_a_point_is_refused_on_its_field(filer):
    client, lanshan = filer
    page = client.post("/projects/new/", {**FORM, "jurisdiction": lanshan.pk, "paste": "北京路88号"})
    assert page.status_code == 200 and "请粘贴一对经纬度" in page.content.decode()
    assert not Project.objects.exists()


def test_the_map_gets_the_district_boundaries_and_works_without_tiles(filer, settings):
    client, lanshan = filer
    lanshan.boundary = {"type": "Polygon", "coordinates": [[[118.2, 35.0], [118.5, 35.0], [118.5, 35.2],
                                                            [118.2, 35.0]]]}  # fmt: skip
    lanshan.save()
    settings.MAP_TILE_URL = ""
    response = client.get("/projects/new/")
    html = response.content.decode()
    assert 'id="map-data" type="application/json"' in html and '"tiles": ""' in html and "兰山区" in html
    assert "未配置底图" in html and "vendor/leaflet-1.9.4/leaflet.js" in html


def test_the_geo_api_converts_a_pasted_point_for_the_map(db):
    answer = Client().post("/api/geo/to-wgs84", {"text": "118.356,35.104", "system": "gcj02"},
                           content_type="application/json")  # fmt: skip
    body = answer.json()
    assert answer.status_code == 200 and body["changed"] and "GCJ-02 → WGS-84" in body["note"]
    refused = Client().post("/api/geo/to-wgs84", {"text": "abc"}, content_type="application/json")
    assert refused.status_code == 422 and "经纬度" in refused.json()["detail"]


def test_the_dangerous_works_list_shows_the_highest_level_per_category():
    matches = dangerous_works.match({"excavation_depth_m": 6.0, "floor_scaffold_height_m": 30.0})
    top = dangerous_works.highest_per_category(matches)
    assert [(m.category, m.level) for m in top] == [("基坑工程", "super"), ("脚手架工程", "major")]
    assert top[0].triggered_by == ["基坑开挖深度 6 m ≥ 5 m"]


def test_the_project_page_is_in_sections_with_jump_links_and_a_folded_timeline(lanshan):
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=lanshan,
                                parameters={"excavation_depth_m": 6.0})  # fmt: skip
    user = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=project.applicant)
    client = Client()
    client.force_login(user)
    html = client.get(f"/projects/{project.pk}/").content.decode()
    for section in ("overview", "materials", "people", "records"):
        assert f'<section id="{section}"' in html and f'href="#{section}"' in html
    assert '<details class="card" id="audit">' in html and '<details class="card" id="transitions">' in html
    assert html.count("超过一定规模</span> <strong>基坑工程") == 1 and "危大工程</span> <strong>基坑工程" not in html
    assert "<table" not in html.split('id="materials"')[1].split('id="records"')[0]  # lists, not tables, on phones
