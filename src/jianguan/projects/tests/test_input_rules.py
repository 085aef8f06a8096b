"""Issue 8, "input rules on the model": the same bad value sent through the filing page and through the API is
refused by both, by the one rule on the model; nothing is stored."""

from __future__ import annotations

import pytest
from django.test import Client

from jianguan.accounts.models import User
from jianguan.projects.models import Project
from jianguan.registry.models import Enterprise
from jianguan.testing import factories as f

GOOD = {
    "name": "沂蒙花园三期",
    "project_type": "housing",
    "address": "临沂市兰山区北京路1号",
    "lat": 35.06,
    "lon": 118.34,
    "floors_above": 18,
    "floors_below": 2,
    "height_m": 55.0,
    "planned_start": "2027-03-01",
    "planned_end": "2028-06-30",
}

# field → a value both doors must refuse, and the field the refusal names.
BAD = [
    ({"lat": 500}, "lat"),
    ({"lon": -181}, "lon"),
    ({"floors_below": 99}, "floors_below"),
    ({"height_m": -1}, "height_m"),
    ({"name": "x"}, "name"),
    ({"planned_start": "1970-01-01"}, "planned_start"),
    ({"planned_start": "2028-07-01"}, "planned_end"),  # ends before it starts
]


@pytest.fixture
def applicant(lanshan):
    user = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=f.EnterpriseFactory(kind=Enterprise.Kind.DEVELOPER))
    client = Client()
    client.force_login(user)
    return client, lanshan


def through_the_api(client, lanshan, data):
    body = {**data, "jurisdiction_code": lanshan.code}
    return client.post("/api/projects", body, content_type="application/json")


def through_the_page(client, lanshan, data):
    return client.post("/projects/new/", {**data, "jurisdiction": lanshan.pk})


def test_a_good_filing_passes_both_doors(applicant):
    client, lanshan = applicant
    assert through_the_api(client, lanshan, GOOD).status_code == 201
    assert through_the_page(client, lanshan, {**GOOD, "name": "沂蒙花园四期"}).status_code == 302
    assert Project.objects.count() == 2


@pytest.mark.parametrize(("bad", "field"), BAD)
def test_the_same_bad_value_is_refused_by_the_page_and_the_api(applicant, bad, field):
    client, lanshan = applicant
    api = through_the_api(client, lanshan, {**GOOD, **bad})
    assert api.status_code == 422, api.content
    assert field in api.json().get("fields", {}) or field in api.json()["detail"]
    page = through_the_page(client, lanshan, {**GOOD, **bad})
    assert page.status_code == 200  # the form again, with the error beside its field
    assert page.context["form"].has_error(field), page.context["form"].errors
    assert not Project.objects.exists()


def test_a_number_is_no_date_in_the_api(applicant):
    client, lanshan = applicant
    answer = through_the_api(client, lanshan, {**GOOD, "planned_start": 0})
    assert answer.status_code == 422 and "planned_start" in answer.json()["fields"]


def test_the_api_schema_shows_the_models_limits(db):
    from jianguan.api import api

    schema = api.get_openapi_schema()["components"]["schemas"]["ProjectIn"]["properties"]
    assert (schema["lat"]["minimum"], schema["lat"]["maximum"]) == (-90, 90)
    floors = next(s for s in schema["floors_below"]["anyOf"] if s.get("type") == "integer")
    assert floors["maximum"] == Project._meta.get_field("floors_below").validators[0].limit_value == 30
