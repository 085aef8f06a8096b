"""Role × object × action: nothing crosses a boundary, through the API and through the pages."""

from __future__ import annotations

import pytest
from django.test import Client

from jianguan.accounts.models import ApiToken, DataSharingRule, Department, User
from jianguan.projects.models import Document, DocumentVersion, Participant, PreReview, State
from jianguan.registry.models import Enterprise
from jianguan.testing import factories as f
from jianguan.testing import files

PDF = files.PDF

ACTORS = ["admin", "lan_reg", "luo_reg", "lan_insp", "hr", "police", "ent_a", "ent_b", "ent_c", "anon"]


@pytest.fixture
def world(db, settings, tmp_path):
    lan, luo = f.division("371302", "兰山区"), f.division("371311", "罗庄区")
    city = f.city()
    ent_a = f.EnterpriseFactory(kind=Enterprise.Kind.DEVELOPER)
    ent_b = f.EnterpriseFactory(kind=Enterprise.Kind.CONSTRUCTION)
    ent_c = f.EnterpriseFactory(kind=Enterprise.Kind.CONSTRUCTION)
    lan_draft = f.ProjectFactory(jurisdiction=lan, applicant=ent_a, state=State.DRAFT)
    lan_review = f.ProjectFactory(jurisdiction=lan, applicant=ent_a, state=State.UNDER_REVIEW)
    luo_review = f.ProjectFactory(jurisdiction=luo, state=State.UNDER_REVIEW)
    Participant.objects.create(project=lan_review, enterprise=ent_b, role="general_contractor")
    for p in (lan_review, luo_review):
        PreReview.objects.create(project=p, findings=[], clean=True)
    doc = Document.objects.create(project=lan_review, kind="contract", title="合同")
    version = DocumentVersion(
        document=doc,
        number=1,
        original_name="c.pdf",
        extension=".pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
    )
    from django.core.files.base import ContentFile

    version.file.save("c.pdf", ContentFile(PDF), save=False)
    version.save()
    DataSharingRule.objects.create(department_kind="hr", resource="project_basic", purpose="欠薪", legal_basis="条例")
    dept = lambda name, kind, j: Department.objects.create(name=name, kind=kind, jurisdiction=j)  # noqa: E731
    lan_dept = dept("兰山区住建局", "housing", lan)
    users = {
        "admin": f.UserFactory(role=User.Role.BUREAU_ADMIN, department=dept("市住建局", "housing", city)),
        "lan_reg": f.UserFactory(role=User.Role.DISTRICT_REGULATOR, department=lan_dept),
        "luo_reg": f.UserFactory(role=User.Role.DISTRICT_REGULATOR, department=dept("罗庄区住建局", "housing", luo)),
        "lan_insp": f.UserFactory(role=User.Role.INSPECTOR, department=lan_dept),
        "hr": f.UserFactory(role=User.Role.DEPT_OFFICER, department=dept("市人社局", "hr", city)),
        "police": f.UserFactory(role=User.Role.DEPT_OFFICER, department=dept("市公安局", "police", city)),
        "ent_a": f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=ent_a),
        "ent_b": f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=ent_b),
        "ent_c": f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=ent_c),
    }
    return {
        "users": users,
        "projects": {"lan_draft": lan_draft, "lan_review": lan_review, "luo_review": luo_review},
        "doc": doc,
    }


def api_client(world, actor) -> Client:
    client = Client()
    if actor != "anon":
        _, key = ApiToken.issue(world["users"][actor], "test")
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


def page_client(world, actor) -> Client:
    client = Client()
    if actor != "anon":
        client.force_login(world["users"][actor])
    return client


READ = {
    "admin": {"lan_review", "luo_review"},
    "lan_reg": {"lan_review"},
    "luo_reg": {"luo_review"},
    "lan_insp": {"lan_review"},
    "hr": {"lan_review", "luo_review"},
    "police": set(),
    "ent_a": {"lan_draft", "lan_review"},
    "ent_b": {"lan_review"},
    "ent_c": set(),
    "anon": set(),
}
EDIT = {("ent_a", "lan_draft")}
# Who decides on a filing under review (here: returns it; the permit itself is signed in the review workspace,
# review/tests/test_signoffs.py, and refused on the generic transition route without its two signatures).
DECIDE = {"admin", "lan_reg"}
DOWNLOAD = {"admin", "lan_reg", "lan_insp", "ent_a", "ent_b"}


def denied_status(actor: str, readable: bool) -> int:
    if actor == "anon":
        return 401
    return 403 if readable else 404


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("project", ["lan_draft", "lan_review", "luo_review"])
def test_api_read(world, actor, project):
    pk = world["projects"][project].pk
    response = api_client(world, actor).get(f"/api/projects/{pk}")
    assert response.status_code == (200 if project in READ[actor] else denied_status(actor, False))
    listed = api_client(world, actor).get("/api/projects")
    if actor == "anon":
        assert listed.status_code == 401
    else:
        ids = {item["id"] for item in listed.json()["items"]}
        assert (pk in ids) == (project in READ[actor])


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("project", ["lan_draft", "lan_review", "luo_review"])
def test_api_edit(world, actor, project):
    pk = world["projects"][project].pk
    response = api_client(world, actor).patch(
        f"/api/projects/{pk}", {"name": "改名后的项目"}, content_type="application/json"
    )
    if (actor, project) in EDIT:
        assert response.status_code == 200, response.content
        assert response.json()["name"] == "改名后的项目"
    else:
        assert response.status_code == denied_status(actor, project in READ[actor])


@pytest.mark.parametrize("actor", ACTORS)
def test_api_transition(world, actor):
    pk = world["projects"]["lan_review"].pk
    response = api_client(world, actor).post(
        f"/api/projects/{pk}/transitions",
        {"name": "return", "reason": "图纸版本不一致"},
        content_type="application/json",
    )
    if actor in DECIDE:
        assert response.status_code == 200, response.content
        assert response.json()["state"] == State.RETURNED
    else:
        assert response.status_code == denied_status(actor, "lan_review" in READ[actor])


@pytest.mark.parametrize("actor", ACTORS)
def test_api_download(world, actor):
    doc = world["doc"]
    response = api_client(world, actor).get(f"/api/documents/{doc.pk}/versions/1/download")
    if actor in DOWNLOAD:
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
    else:  # a document is read with its project's documents: without them it is not there (404)
        assert response.status_code == denied_status(actor, False)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("project", ["lan_draft", "lan_review", "luo_review"])
def test_page_read_and_edit(world, actor, project):
    pk = world["projects"][project].pk
    client = page_client(world, actor)
    response = client.get(f"/projects/{pk}/")
    if actor == "anon":
        assert response.status_code == 302 and "/login/" in response["Location"]
        return
    assert response.status_code == (200 if project in READ[actor] else 404)
    edit = client.get(f"/projects/{pk}/edit/")
    expected = 200 if (actor, project) in EDIT else (403 if project in READ[actor] else 404)
    assert edit.status_code == expected


@pytest.mark.parametrize("actor", ACTORS)
def test_page_transition_and_download(world, actor):
    project = world["projects"]["lan_review"]
    client = page_client(world, actor)
    client.post(f"/projects/{project.pk}/transition/", {"name": "return", "reason": "图纸版本不一致"})
    project.refresh_from_db()
    assert (project.state == State.RETURNED) == (actor in DECIDE)
    response = client.get(f"/projects/documents/{world['doc'].pk}/v1/")
    if actor == "anon":
        assert response.status_code == 302
    else:
        assert response.status_code == (200 if actor in DOWNLOAD else 404)


def test_department_reads_are_logged(world):
    pk = world["projects"]["lan_review"].pk
    api_client(world, "hr").get(f"/api/projects/{pk}")
    from jianguan.core.models import AuditEvent

    event = AuditEvent.objects.get(action="read", project_id=pk)
    assert event.actor == world["users"]["hr"]
    assert event.changes["department"] == "市人社局"


def test_department_without_participants_rule_sees_no_people(world):
    pk = world["projects"]["lan_review"].pk
    assert api_client(world, "hr").get(f"/api/projects/{pk}/key-people").status_code == 403
    assert api_client(world, "lan_reg").get(f"/api/projects/{pk}/key-people").status_code == 200


def test_public_api_shows_only_published_projects_without_people(world):
    client = Client()
    assert client.get("/api/public/projects").json()["items"] == []
    project = world["projects"]["lan_review"]
    project.state = State.UNDER_CONSTRUCTION
    project.save()
    items = client.get("/api/public/projects").json()["items"]
    assert [i["id"] for i in items] == [project.pk]
    assert "key_people" not in items[0] and "id_number" not in str(items[0])
