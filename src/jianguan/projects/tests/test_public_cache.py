"""The public portal's answers come from the cache, and a change to what it shows drops them: a project is
published (permit issued) or leaves the published states, a published project's participants change. Signed-in
readers of the public pages get their own page, never the anonymous copy."""

from __future__ import annotations

import pytest
from django.test import Client

from jianguan.projects.models import Participant, PreReview, State
from jianguan.testing import factories as f
from jianguan.testing.review import issue_permit


@pytest.fixture
def portal(lanshan):
    return f.ProjectFactory(state=State.UNDER_CONSTRUCTION, jurisdiction=lanshan, name="已公开工地")


def names(response) -> list[str]:
    return [p["name"] for p in response.json()["items"]]


def test_the_public_api_is_served_from_the_cache_on_the_second_request(portal, django_assert_num_queries):
    client = Client()
    first = client.get("/api/public/projects")
    assert first["X-Cache"] == "miss" and names(first) == ["已公开工地"]
    with django_assert_num_queries(0):
        second = client.get("/api/public/projects")
    assert second["X-Cache"] == "hit" and second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert client.get("/api/public/projects?q=已公开")["X-Cache"] == "miss"  # another query, another entry


def test_issuing_a_permit_publishes_the_project_at_once(
    portal, lanshan, bureau_admin, django_capture_on_commit_callbacks
):
    client = Client()
    assert names(client.get("/api/public/projects")) == ["已公开工地"]
    assert client.get("/public/")["X-Cache"] == "miss"
    filed = f.ProjectFactory(state=State.UNDER_REVIEW, jurisdiction=lanshan, name="新许可工地")
    PreReview.objects.create(project=filed, findings=[], clean=True)
    with django_capture_on_commit_callbacks(execute=True):
        issue_permit(filed, f.UserFactory(role="bureau_admin", department=bureau_admin.department), bureau_admin)
    fresh = client.get("/api/public/projects")
    assert fresh["X-Cache"] == "miss" and set(names(fresh)) == {"已公开工地", "新许可工地"}
    page = client.get("/public/")
    assert page["X-Cache"] == "miss" and "新许可工地" in page.content.decode()


def test_a_project_that_leaves_the_published_states_leaves_the_cache(portal, django_capture_on_commit_callbacks):
    client = Client()
    assert client.get(f"/public/{portal.pk}/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        portal.state = State.REJECTED  # e.g. an administrator's correction
        portal.save()
    assert client.get(f"/public/{portal.pk}/").status_code == 404
    assert names(client.get("/api/public/projects")) == []


def test_a_published_projects_new_participant_shows_at_once(portal, django_capture_on_commit_callbacks):
    client = Client()
    client.get(f"/api/public/projects/{portal.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        Participant.objects.create(project=portal, enterprise=f.EnterpriseFactory(name="新监理公司"), role="supervisor")
    shown = client.get(f"/api/public/projects/{portal.pk}").json()["participants"]
    assert {"role_label": "监理单位", "enterprise_name": "新监理公司"} in shown


def test_edits_of_unpublished_projects_keep_the_cache(portal, lanshan, django_capture_on_commit_callbacks):
    draft = f.ProjectFactory(state=State.DRAFT, jurisdiction=lanshan)
    client = Client()
    client.get("/api/public/projects")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        draft.name = "草稿改名"
        draft.save()
    assert callbacks == []
    assert client.get("/api/public/projects")["X-Cache"] == "hit"


def test_signed_in_readers_get_their_own_public_page(portal, bureau_admin):
    anonymous = Client()
    anonymous.get("/public/")
    assert anonymous.get("/public/")["X-Cache"] == "hit"
    signed_in = Client()
    signed_in.force_login(bureau_admin)
    page = signed_in.get("/public/")
    assert "X-Cache" not in page and bureau_admin.get_full_name() in page.content.decode()
    signed_in.get("/api/public/projects")
    assert signed_in.get("/api/public/projects")["X-Cache"] == "hit"  # the API's answer is the same for all


def test_only_successful_get_answers_are_kept(portal):
    client = Client()
    assert client.get("/public/999999/").status_code == 404
    assert "X-Cache" not in client.get("/public/999999/")
    assert client.post("/api/public/projects").status_code == 405
