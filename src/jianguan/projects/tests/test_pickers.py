"""Issue 10, "Pickers that know the rules": participants searched by name or USCC and filtered by role with their
qualifications, key people filtered by the post's certificates with their validity; an unqualified choice
explained, an empty picker saying why; the page works without JavaScript and answers htmx with its results."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from jianguan.accounts.models import User
from jianguan.projects import pickers, services
from jianguan.projects.models import KeyPerson, Participant, State
from jianguan.registry.models import Enterprise, Person, Qualification
from jianguan.testing import factories as f


@pytest.fixture
def filing(lanshan):
    project = f.staffed_project(state=State.DRAFT, jurisdiction=lanshan)
    project.key_people.all().delete()
    applicant = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=project.applicant)
    gc = project.participants.get(role="general_contractor").enterprise
    sup = project.participants.get(role="supervisor").enterprise
    Person.objects.filter(employer__in=[gc, sup]).delete()  # each test hires its own staff
    return project, applicant, gc


def names(picker, eligible=True):
    return [c.obj.name for c in (picker.eligible if eligible else picker.ineligible)]


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- participants ------------------------------------------------------------------------------------------


def test_without_a_search_a_role_lists_the_enterprises_of_its_kind(filing):
    project, _applicant, _gc = filing
    f.EnterpriseFactory(kind=Enterprise.Kind.CONSTRUCTION, name="沂蒙专业分包有限公司")
    f.EnterpriseFactory(kind=Enterprise.Kind.SUPERVISION, name="某监理公司")
    picker = pickers.participant_candidates(project, "subcontractor")
    assert "沂蒙专业分包有限公司" in names(picker) and "某监理公司" not in names(picker) + names(picker, False)
    assert picker.requirement == "须为施工企业，且持有有效的施工企业资质"


def test_a_search_finds_by_name_or_uscc_and_explains_an_enterprise_of_another_kind(filing):
    project, _applicant, _gc = filing
    supervisor = f.EnterpriseFactory(kind=Enterprise.Kind.SUPERVISION, name="鲁南监理有限公司")
    by_uscc = pickers.participant_candidates(project, "subcontractor", supervisor.uscc[-8:].lower())
    assert [c.obj for c in by_uscc.candidates] == [supervisor]
    assert by_uscc.candidates[0].problems == ["鲁南监理有限公司为监理企业，不能担任专业分包（须为施工企业）"]
    assert "都不能担任专业分包" in by_uscc.empty_reason
    by_name = pickers.participant_candidates(project, "supervisor", "鲁南")
    assert names(by_name) == ["鲁南监理有限公司"]


def test_qualifications_are_shown_with_their_validity_and_an_expired_one_explained(filing):
    project, _applicant, _gc = filing
    expired = f.EnterpriseFactory(kind=Enterprise.Kind.DESIGN, name="过期设计院")
    expired.qualifications.update(valid_until=dt.date(2024, 6, 30))
    f.EnterpriseFactory(kind=Enterprise.Kind.DESIGN, name="无资质设计院", qualified=False)
    good = f.EnterpriseFactory(kind=Enterprise.Kind.DESIGN, name="合格设计院")
    picker = pickers.participant_candidates(project, "designer", "设计院")
    by_name = {c.obj.name: c for c in picker.candidates}
    assert by_name["合格设计院"].eligible and by_name["合格设计院"].credentials[0].valid
    assert by_name["过期设计院"].problems == ["过期设计院的资质已于2024-06-30过期，不能担任设计单位"]
    assert not by_name["过期设计院"].credentials[0].valid
    assert by_name["无资质设计院"].problems == ["无资质设计院无设计单位资质，不能担任设计单位"]
    assert picker.candidates[0].obj == good  # who may be chosen comes first


def test_an_enterprise_already_in_the_role_is_not_offered_again(filing):
    project, _applicant, gc = filing
    assert gc.name not in names(pickers.participant_candidates(project, "general_contractor", gc.name))


def test_an_empty_search_says_why(filing):
    project, _applicant, _gc = filing
    picker = pickers.participant_candidates(project, "designer", "不存在的企业名")
    assert picker.candidates == [] and "没有名称或统一社会信用代码含“不存在的企业名”的企业" in picker.empty_reason


def test_the_service_refuses_an_unqualified_participant_with_the_same_reason(filing):
    project, applicant, _gc = filing
    expired = f.EnterpriseFactory(kind=Enterprise.Kind.DESIGN, name="过期设计院")
    Qualification.objects.filter(enterprise=expired).update(valid_until=dt.date(2024, 6, 30))
    answer = browser(applicant).post(f"/api/projects/{project.pk}/participants",
                                     {"enterprise_id": expired.pk, "role": "designer"},
                                     content_type="application/json")  # fmt: skip
    assert answer.status_code == 422 and "2024-06-30过期" in answer.json()["detail"]
    assert not Participant.objects.filter(project=project, enterprise=expired).exists()


# --- key people --------------------------------------------------------------------------------------------


def test_key_people_are_the_answering_participants_staff_those_holding_the_certificates_first(filing):
    project, _applicant, gc = filing
    f.make_person(gc, "甲无证", ())
    f.make_person(gc, "乙经理", ("constructor", "safety_b"))
    f.make_person(gc, "丙缺B证", ("constructor",))
    f.make_person(f.EnterpriseFactory(), "外单位经理", ("constructor", "safety_b"))
    picker = pickers.key_person_candidates(project, "project_manager")
    assert names(picker) == ["乙经理"]
    assert "外单位经理" not in names(picker, False)  # the registry is not searchable through a project
    why = {c.obj.name: c.problems for c in picker.ineligible}
    assert why["丙缺B证"] == ["无安全生产考核合格证书（B类）"]
    assert why["甲无证"] == ["无注册建造师证书", "无安全生产考核合格证书（B类）"]
    assert picker.candidates[0].obj.name == "乙经理"


def test_each_post_asks_for_its_own_certificates(filing):
    project, _applicant, gc = filing
    sup = project.participants.get(role="supervisor").enterprise
    f.make_person(gc, "安全员", ("safety_c",))
    f.make_person(sup, "总监", ("supervisor",))
    assert names(pickers.key_person_candidates(project, "safety_officer")) == ["安全员"]
    assert names(pickers.key_person_candidates(project, "chief_supervisor")) == ["总监"]
    assert pickers.post_requirement("chief_supervisor") == "须为本项目监理单位的在册人员，持有有效的注册监理工程师证书"


def test_an_expired_certificate_is_shown_with_its_date(filing):
    project, _applicant, gc = filing
    person = f.make_person(gc, "过期经理", ("constructor", "safety_b"), expired=True)
    candidate = pickers.key_person_candidates(project, "project_manager").candidates[0]
    assert candidate.obj == person and not candidate.eligible
    until = (timezone.localdate() - dt.timedelta(days=10)).isoformat()
    assert f"注册建造师证书已于{until}过期" in candidate.problems
    assert all(not c.valid for c in candidate.credentials)


def test_an_empty_key_person_picker_says_why(filing):
    project, _applicant, gc = filing
    project.participants.filter(role="supervisor").delete()
    no_supervisor = pickers.key_person_candidates(project, "chief_supervisor")
    assert "本项目尚未登记监理单位" in no_supervisor.empty_reason
    nobody = pickers.key_person_candidates(project, "project_manager")
    assert "没有在册人员" in nobody.empty_reason
    f.make_person(gc, "无证者", ())
    unqualified = pickers.key_person_candidates(project, "project_manager")
    assert "都不能担任项目经理" in unqualified.empty_reason and names(unqualified, False) == ["无证者"]


def test_the_service_refuses_a_key_person_without_the_certificates(filing):
    project, applicant, gc = filing
    person = f.make_person(gc, "缺证者", ("constructor",))
    answer = browser(applicant).post(f"/api/projects/{project.pk}/key-people",
                                     {"person_id": person.pk, "role": "project_manager"},
                                     content_type="application/json")  # fmt: skip
    assert answer.status_code == 422 and "安全生产考核合格证书（B类）" in answer.json()["detail"]
    assert not KeyPerson.objects.filter(project=project).exists()


# --- the pages -----------------------------------------------------------------------------------------------


def test_the_picker_works_without_javascript_as_a_page_with_a_form(filing):
    project, applicant, gc = filing
    f.make_person(gc, "乙经理", ("constructor", "safety_b"))
    f.make_person(gc, "丙缺B证", ("constructor",))
    page = browser(applicant).get(f"/projects/{project.pk}/pick/key-person/?role=project_manager")
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html
    assert f'action="/projects/{project.pk}/key-people/"' in html and "乙经理" in html
    assert "不可选：无安全生产考核合格证书（B类）" in html
    assert html.count('type="radio"') == 2 and html.count("disabled") >= 1


def test_htmx_gets_the_results_alone(filing):
    project, applicant, _gc = filing
    f.EnterpriseFactory(kind=Enterprise.Kind.DESIGN, name="合格设计院")
    answer = browser(applicant).get(
        f"/projects/{project.pk}/pick/participant/?role=designer&q=设计院", HTTP_HX_REQUEST="true"
    )
    html = answer.content.decode()
    assert answer.status_code == 200 and "<html" not in html and "合格设计院" in html


def test_registering_from_the_picker_adds_the_participant(filing):
    project, applicant, _gc = filing
    designer = f.EnterpriseFactory(kind=Enterprise.Kind.DESIGN, name="第二设计院")
    browser(applicant).post(f"/projects/{project.pk}/participants/", {"role": "designer", "enterprise": designer.pk})
    assert project.participants.filter(role="designer", enterprise=designer).exists()


def test_only_the_applicant_may_use_the_pickers(filing, lanshan_regulator):
    project, _applicant, gc = filing
    contractor = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=gc)
    assert browser(contractor).get(f"/projects/{project.pk}/pick/participant/").status_code == 403
    project.state = State.UNDER_REVIEW
    project.save()
    assert browser(lanshan_regulator).get(f"/projects/{project.pk}/pick/participant/").status_code == 403


def test_a_replacement_picker_offers_the_post_of_the_one_replaced(filing):
    project, applicant, gc = filing
    post = KeyPerson.objects.create(
        project=project, person=f.make_person(gc, "原经理", ("constructor", "safety_b")), role="project_manager"
    )
    f.make_person(gc, "新经理", ("constructor", "safety_b"))
    project.state = State.RETURNED
    project.save()
    html = browser(applicant).get(f"/projects/{project.pk}/pick/key-person/?replace={post.pk}").content.decode()
    assert f"/projects/{project.pk}/key-people/{post.pk}/replace/" in html
    assert "新经理" in html and 'name="reason"' in html and "原经理" in html


def test_services_and_pickers_share_the_participant_rule():
    assert services.corrections.pickers is pickers
