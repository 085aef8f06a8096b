"""A NUL character (\\0) in a query parameter, a form field or a JSON string is refused with a 4xx in the API's
format: PostgreSQL cannot store or compare it, and it answered 500 (found by the fuzz run on PostgreSQL)."""

import pytest
from django.test import Client

from jianguan.accounts.models import User
from jianguan.testing import factories as f


@pytest.fixture
def regulator_api(lanshan_regulator):
    client = Client()
    client.force_login(lanshan_regulator)
    return client


@pytest.mark.parametrize(
    "url",
    ["/api/review/queue?jurisdiction=%00", "/api/projects?q=a%00b", "/api/alarms?q=%00", "/api/enterprises?q=%00"],
)
def test_a_nul_in_a_query_parameter_is_refused(regulator_api, url):
    answer = regulator_api.get(url)
    assert answer.status_code in (400, 422), answer.content
    assert "code" in answer.json()


def test_a_nul_in_a_json_string_is_refused(db):
    applicant = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=f.EnterpriseFactory(kind="developer"))
    client = Client()
    client.force_login(applicant)
    answer = client.post("/api/projects", '{"name": "a\\u0000b"}', content_type="application/json")
    assert answer.status_code == 400 and answer.json()["code"] == "bad_request"


@pytest.mark.parametrize(
    "url", ["/projects/?q=%00", "/sites/alarms/?q=%00", "/public/?q=a%00", "/sites/monitors/?q=%00"]
)
def test_a_nul_in_a_pages_query_is_refused(regulator_api, url):
    assert regulator_api.get(url).status_code == 400
