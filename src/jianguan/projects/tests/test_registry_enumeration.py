"""Issue 8, finding 2: the key-people API accepts only what the page accepts (an employee of the participant that
answers for the post) and answers any other person id the same, whether or not it exists; the registry is not
readable through it."""

from __future__ import annotations

import pytest
from django.test import Client

from jianguan.accounts.models import User
from jianguan.projects.models import KeyPerson, State
from jianguan.registry.models import Enterprise, Person
from jianguan.testing import factories as f


@pytest.fixture
def filing(db):
    project = f.staffed_project(state=State.DRAFT)
    project.key_people.all().delete()
    applicant = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=project.applicant)
    api = Client()
    api.force_login(applicant)
    gc = project.participants.get(role="general_contractor").enterprise
    sup = project.participants.get(role="supervisor").enterprise
    return project, api, gc, sup


def post(api, project, person_id, role="project_manager"):
    return api.post(
        f"/api/projects/{project.pk}/key-people",
        {"person_id": person_id, "role": role},
        content_type="application/json",
    )


def test_the_contractors_employee_becomes_project_manager(filing):
    project, api, gc, _sup = filing
    manager = f.make_person(gc, "李经理", ("constructor", "safety_b"))
    answer = post(api, project, manager.pk)
    assert answer.status_code == 201 and answer.json()["name"] == "李经理"
    assert KeyPerson.objects.filter(project=project, person=manager, role="project_manager").exists()


def test_a_stranger_and_a_missing_id_get_the_same_refusal_and_no_registry_data(filing):
    project, api, _gc, _sup = filing
    stranger = f.make_person(f.EnterpriseFactory(kind=Enterprise.Kind.CONSTRUCTION), "外人甲")
    missing_id = Person.objects.order_by("-pk").first().pk + 1000
    refused = [post(api, project, stranger.pk), post(api, project, missing_id)]
    assert [r.status_code for r in refused] == [422, 422]
    assert refused[0].json() == refused[1].json()
    body = refused[0].content.decode()
    assert "外人甲" not in body and stranger.id_number_masked not in body
    assert not KeyPerson.objects.filter(project=project).exists()


def test_a_post_takes_the_employee_of_the_participant_that_answers_for_it(filing):
    project, api, _gc, sup = filing
    supervisor_staff = f.make_person(sup, "赵总监", ("supervisor",))
    assert post(api, project, supervisor_staff.pk, role="project_manager").status_code == 422  # not the contractor's
    assert post(api, project, supervisor_staff.pk, role="chief_supervisor").status_code == 201


def test_the_page_and_the_api_refuse_the_same_person(filing):
    project, api, _gc, _sup = filing
    stranger = f.make_person(f.EnterpriseFactory(kind=Enterprise.Kind.CONSTRUCTION), "外人乙")
    page = api.post(f"/projects/{project.pk}/key-people/", {"role": "project_manager", "person": stranger.pk})
    assert page.status_code == 302
    assert post(api, project, stranger.pk).status_code == 422
    assert not KeyPerson.objects.filter(project=project).exists()


def test_the_page_explains_a_post_held_by_the_wrong_participant(filing):
    project, api, _gc, sup = filing
    supervisor_staff = f.make_person(sup, "钱监理", ("supervisor",))
    page = api.post(
        f"/projects/{project.pk}/key-people/", {"role": "project_manager", "person": supervisor_staff.pk}, follow=True
    )
    assert page.status_code == 200 and "施工总承包" in page.content.decode()
    assert not KeyPerson.objects.filter(project=project).exists()
