from __future__ import annotations

import pytest
from django.test import Client

from jianguan.accounts.models import ApiToken, User
from jianguan.core.models import AuditEvent
from jianguan.projects.models import Project, State
from jianguan.registry.models import Enterprise
from jianguan.testing import factories as f
from jianguan.testing import files


@pytest.fixture
def ent_client(lanshan):
    ent = f.EnterpriseFactory(kind=Enterprise.Kind.DEVELOPER)
    user = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=ent)
    _, key = ApiToken.issue(user, "t")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}"), user


VALID = {
    "name": "沂蒙花园三期",
    "project_type": "housing",
    "jurisdiction_code": "371302",
    "address": "临沂市兰山区北京路1号",
    "lat": 35.06,
    "lon": 118.34,
    "floors_above": 18,
    "floors_below": 2,
    "height_m": 55.0,
    "parameters": {"excavation_depth_m": 8.5, "floor_scaffold_height_m": 55},
}


def test_create_and_requirements(ent_client):
    client, _ = ent_client
    response = client.post("/api/projects", VALID, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "draft" and body["code"].startswith("371302-")
    reqs = client.get(f"/api/projects/{body['id']}/requirements").json()
    levels = {(m["category"], m["level"]) for m in reqs["dangerous_works"]}
    assert any(level == "super" for _, level in levels)
    kinds = [d["kind"] for d in reqs["documents"]]
    assert "special_plan" in kinds and "expert_review" in kinds
    assert AuditEvent.objects.filter(action="create", project_id=body["id"]).exists()


@pytest.mark.parametrize(
    "patch",
    [
        {"lat": "north"},
        {"project_type": "spaceport"},
        {"jurisdiction_code": "999999"},
        {"parameters": {"unknown_key": 1}},
        {"parameters": {"excavation_depth_m": -3}},
        {"name": ""},
        {"floors_above": -1},
    ],
)
def test_bad_input_is_a_clear_4xx(ent_client, patch):
    client, _ = ent_client
    response = client.post("/api/projects", {**VALID, **patch}, content_type="application/json")
    assert response.status_code in (400, 422), response.content
    assert response.json()
    assert Project.objects.count() == 0


def test_malformed_json_is_400(ent_client):
    client, _ = ent_client
    response = client.post("/api/projects", "{not json", content_type="application/json")
    assert response.status_code in (400, 422)


def test_unknown_transition_is_409(ent_client):
    client, _ = ent_client
    pk = client.post("/api/projects", VALID, content_type="application/json").json()["id"]
    response = client.post(f"/api/projects/{pk}/transitions", {"name": "teleport"}, content_type="application/json")
    assert response.status_code == 409 and "未知" in response.json()["detail"]


def test_upload_sniffed_and_audited(ent_client):
    client, _ = ent_client
    pk = client.post("/api/projects", VALID, content_type="application/json").json()["id"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("drawings.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(f"/api/projects/{pk}/documents", {"kind": "construction_drawings", "file": bad})
    assert response.status_code == 400 and "不符" in response.json()["detail"]
    good = SimpleUploadedFile("drawings.pdf", files.PDF, content_type="application/pdf")
    response = client.post(f"/api/projects/{pk}/documents", {"kind": "construction_drawings", "file": good})
    assert response.status_code == 201, response.content
    version = response.json()["versions"][0]
    assert len(version["sha256"]) == 64
    download = client.get(version["download_url"])
    assert download.status_code == 200
    actions = set(AuditEvent.objects.filter(project_id=pk).values_list("action", flat=True))
    assert {"create", "upload", "download"} <= actions


def test_token_endpoint_and_throttle(db, settings):
    settings.LOGIN_MAX_FAILURES = 3
    user = f.UserFactory(username="alice")
    client = Client()
    ok = client.post("/api/auth/token", {"username": "alice", "password": "pw-123456"}, content_type="application/json")
    assert ok.status_code == 201 and ok.json()["token"].startswith("jg_")
    me = Client(HTTP_AUTHORIZATION=f"Bearer {ok.json()['token']}").get("/api/me")
    assert me.json()["username"] == "alice"
    for _ in range(3):
        bad = client.post(
            "/api/auth/token", {"username": "alice", "password": "wrong"}, content_type="application/json"
        )
        assert bad.status_code == 401
    locked = client.post(
        "/api/auth/token", {"username": "alice", "password": "pw-123456"}, content_type="application/json"
    )
    assert locked.status_code == 429
    page = client.post("/login/", {"username": "alice", "password": "pw-123456"})
    assert page.status_code == 429
    assert user.api_tokens.count() == 1


def test_revoked_token_rejected(db):
    user = f.UserFactory()
    token, key = ApiToken.issue(user, "t")
    token.revoked = True
    token.save()
    assert Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/me").status_code == 401


def test_openapi_schema(db):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/projects" in paths and "/api/projects/{project_id}/transitions" in paths


def test_key_people_masked(lanshan_regulator):
    project = f.staffed_project(state=State.UNDER_REVIEW)
    _, key = ApiToken.issue(lanshan_regulator, "t")
    people = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get(f"/api/projects/{project.pk}/key-people").json()
    assert len(people) == 3
    for p in people:
        assert "*" in p["id_number_masked"]
        raw = project.key_people.get(pk=p["id"]).person.reveal_id_number()
        assert raw not in str(people)


@pytest.mark.parametrize(
    "query", ["page=1528822600512976640", "page=0", "page_size=100000", "page=abc", "state=%29%F3%BE%8D%88&q=%C2%B5"]
)
def test_list_bounds_are_validated(ent_client, query):
    client, _ = ent_client
    response = client.get(f"/api/projects?{query}")
    assert response.status_code in (200, 422), response.content


def test_multipart_without_boundary_is_400(ent_client):
    client, _ = ent_client
    pk = client.post("/api/projects", VALID, content_type="application/json").json()["id"]
    response = client.post(f"/api/projects/{pk}/documents", b"--x\r\n", content_type="multipart/form-data")
    assert response.status_code == 400, response.content


def test_progress_report_by_contractor(db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    project = f.staffed_project(state=State.UNDER_CONSTRUCTION)
    gc = project.participants.get(role="general_contractor").enterprise
    user = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=gc)
    _, key = ApiToken.issue(user, "t")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    response = client.post(
        f"/api/projects/{project.pk}/progress-reports",
        {
            "report_date": "2026-11-20",
            "percent_complete": "35",
            "summary": "主体结构施工至十层",
            "photos": [SimpleUploadedFile("a.png", png), SimpleUploadedFile("b.png", png)],
        },
    )
    assert response.status_code == 201, response.content
    assert len(response.json()["photo_document_ids"]) == 2
    listed = client.get(f"/api/projects/{project.pk}/progress-reports").json()
    assert listed[0]["summary"] == "主体结构施工至十层"
    # A PDF is not a photo.
    bad = client.post(
        f"/api/projects/{project.pk}/progress-reports",
        {
            "report_date": "2026-11-21",
            "percent_complete": "36",
            "summary": "继续施工",
            "photos": [SimpleUploadedFile("x.pdf", files.PDF)],
        },
    )
    assert bad.status_code == 400


def test_photos_sent_as_a_text_field_are_refused_not_dropped(db):
    """Found by the fuzz run: `photos` as a text part was read as no photos, and the report stored without."""
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION)
    gc = project.participants.get(role="general_contractor").enterprise
    _, key = ApiToken.issue(f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=gc), "t")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    report = {"report_date": "2026-11-20", "percent_complete": "35", "summary": "主体结构施工至十层"}
    response = client.post(f"/api/projects/{project.pk}/progress-reports", {**report, "photos": "{}"})
    assert response.status_code == 422, response.content
    assert set(response.json()["fields"]) == {"photos"}
    assert not project.progress_reports.exists()
    assert client.post(f"/api/projects/{project.pk}/progress-reports", report).status_code == 201  # none: fine


def test_api_docs_need_no_cdn(db):
    html = Client().get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn." not in html
