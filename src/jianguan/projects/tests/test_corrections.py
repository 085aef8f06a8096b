"""Issue 10, "No dead ends": a wrongly registered key person, participant or document is corrected — before
submission freely, after it by replacing with the old kept in history and a reason, after the permit through a
变更 the district bureau approves. For each path: who may, and what history it leaves (the correction record, the
audit log, the evidence log)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from jianguan.accounts.models import User
from jianguan.core.models import AuditEvent
from jianguan.ledger.models import LedgerEntry
from jianguan.notify.models import Notification
from jianguan.projects import changes, corrections, lifecycle, services
from jianguan.projects.models import Document, KeyPerson, Participant, ProjectChangeRequest, State
from jianguan.registry.models import Certificate, Enterprise
from jianguan.testing import factories as f
from jianguan.testing import files

BASE_DOCS = ["construction_drawings", "drawing_review_cert", "planning_permit", "contract", "safety_measures",
             "wage_account"]  # fmt: skip


@pytest.fixture
def filing(lanshan):
    project = f.staffed_project(state=State.DRAFT, jurisdiction=lanshan)
    applicant = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=project.applicant)
    gc = project.participants.get(role="general_contractor").enterprise
    contractor = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=gc)
    return project, applicant, contractor, gc


def pm(project) -> KeyPerson:
    return project.key_people.get(role="project_manager")


def ledger_entries(project, record_type="projects.correction"):
    return LedgerEntry.objects.filter(scope=f"project:{project.pk}", record_type=record_type)


def api(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(user, project, kind, title="文件"):
    return services.upload_document(user, project, kind=kind, file_name=f"{kind}.pdf",
                                    content=files.make_pdf(title=f"{title}-{kind}"))  # fmt: skip


# --- before submission: freely ----------------------------------------------------------------------------------


def test_before_submission_the_applicant_replaces_a_key_person_without_a_reason(filing):
    project, applicant, _contractor, gc = filing
    old = pm(project)
    successor = f.make_person(gc, "孙经理", ("constructor", "safety_b"))
    correction = corrections.replace_key_person(applicant, old, successor)
    assert pm(project).person == successor and not KeyPerson.objects.filter(pk=old.pk).exists()
    assert (correction.stage, correction.subject, correction.action) == ("draft", "key_person", "replace")
    assert "李经理" in correction.old and "孙经理" in correction.new
    assert AuditEvent.objects.filter(project=project, object_type="projects.correction").count() == 1
    assert not ledger_entries(project).exists()  # a draft's people are the enterprise's own until submitted


def test_before_submission_a_participant_is_removed_and_a_document_withdrawn_freely(filing):
    project, applicant, _contractor, _gc = filing
    surveyor = project.participants.get(role="surveyor")
    corrections.remove_participant(applicant, surveyor)
    assert not Participant.objects.filter(pk=surveyor.pk).exists()
    version = upload(applicant, project, "contract")
    corrections.withdraw_document(applicant, version.document)
    document = Document.objects.get(pk=version.document_id)
    assert document.withdrawn_at is not None and document.versions.count() == 1  # kept, not deleted
    # The document's upload is in the evidence log, so is its withdrawal.
    assert ledger_entries(project).count() == 1
    assert list(project.corrections.values_list("stage", flat=True)) == ["draft", "draft"]


def test_a_withdrawn_document_no_longer_counts_towards_the_checklist(filing):
    project, applicant, _contractor, _gc = filing
    version = upload(applicant, project, "contract")
    assert "施工合同" not in services.submission_gaps(project).documents
    corrections.withdraw_document(applicant, version.document)
    assert "施工合同" in services.submission_gaps(project).documents


@pytest.mark.parametrize("who", ["contractor", "regulator"])
def test_only_the_applicant_corrects_a_filing(filing, lanshan_regulator, who):
    project, _applicant, contractor, _gc = filing
    user = contractor if who == "contractor" else lanshan_regulator
    with pytest.raises(PermissionDenied):
        corrections.remove_participant(user, project.participants.get(role="surveyor"))
    with pytest.raises(PermissionDenied):
        corrections.remove_key_person(user, pm(project), "登记有误")
    assert not project.corrections.exists()


# --- after submission: replaced, the old kept, with a reason -----------------------------------------------------


@pytest.fixture
def submitted(filing):
    """The filing submitted with an expired 项目经理's certificate: the pre-review sends it back."""
    project, applicant, contractor, gc = filing
    for kind in BASE_DOCS:
        upload(applicant, project, kind)
    Certificate.objects.filter(person=pm(project).person, kind="safety_b").update(valid_until="2020-01-01")
    project = lifecycle.perform(project, "submit", applicant)
    assert project.state == State.PREREVIEW_FAILED
    return project, applicant, contractor, gc


def test_after_submission_a_correction_needs_a_reason(submitted):
    project, applicant, _contractor, gc = submitted
    successor = f.make_person(gc, "孙经理", ("constructor", "safety_b"))
    with pytest.raises(ValidationError) as refused:
        corrections.replace_key_person(applicant, pm(project), successor, "")
    assert "原因" in str(refused.value)
    with pytest.raises(ValidationError):
        corrections.remove_participant(applicant, project.participants.get(role="surveyor"), "  ")
    assert pm(project).person.name == "李经理" and not project.corrections.exists()


def test_a_project_that_listed_an_unqualified_manager_passes_once_he_is_replaced(submitted):
    project, applicant, _contractor, gc = submitted
    successor = f.make_person(gc, "孙经理", ("constructor", "safety_b"))
    correction = corrections.replace_key_person(applicant, pm(project), successor, "原项目经理B证过期")
    project = lifecycle.perform(project, "submit", applicant)
    assert project.state == State.UNDER_REVIEW, project.prereviews.first().findings
    # The old one is kept: in the correction record, the audit log and the evidence log.
    assert correction.stage == "filed" and correction.reason == "原项目经理B证过期" and "李经理" in correction.old
    entry = ledger_entries(project).get()
    content = json.loads(entry.leaf_data)["content"]
    assert content["reason"] == "原项目经理B证过期" and content["refs"]["person"] == correction.refs["person"]
    assert "李经理" not in entry.leaf_data  # ids in the evidence log, not names
    event = AuditEvent.objects.get(project=project, object_type="projects.correction")
    assert event.actor == applicant and "李经理" in event.changes["old"]


def test_after_submission_a_replacement_version_is_kept_in_the_record(submitted):
    project, applicant, _contractor, _gc = submitted
    document = project.documents.get(kind="contract")
    version = services.upload_document(applicant, project, kind="contract", file_name="c2.pdf",
                                       content=files.make_pdf(title="第二版合同"), document=document,
                                       note="补充签章页")  # fmt: skip
    correction = project.corrections.get()
    assert (correction.subject, correction.action, correction.reason) == ("document", "replace", "补充签章页")
    assert document.versions.count() == 2 and version.number == 2


def test_a_correction_under_review_is_told_to_the_district(submitted, lanshan_regulator):
    project, applicant, _contractor, gc = submitted
    corrections.replace_key_person(applicant, pm(project), f.make_person(gc, "孙经理", ("constructor", "safety_b")),
                                   "原项目经理B证过期")  # fmt: skip
    project = lifecycle.perform(project, "submit", applicant)
    assert project.state == State.UNDER_REVIEW
    surveyor = project.participants.get(role="surveyor")
    newcomer = f.EnterpriseFactory(kind=Enterprise.Kind.SURVEY, name="新勘察院")
    corrections.replace_participant(applicant, surveyor, newcomer, "勘察单位登记有误")
    note = Notification.objects.get(recipient=lanshan_regulator, topic="filing.corrected")
    assert "勘察" in note.title and "新勘察院" in note.body


def test_a_replacement_must_be_qualified_and_says_why_not(submitted):
    project, applicant, _contractor, gc = submitted
    unqualified = f.make_person(gc, "钱某", ("constructor",))
    with pytest.raises(ValidationError) as refused:
        corrections.replace_key_person(applicant, pm(project), unqualified, "更换")
    assert "安全生产考核合格证书（B类）" in str(refused.value)
    designer = f.EnterpriseFactory(kind=Enterprise.Kind.DESIGN, name="某设计院")
    with pytest.raises(ValidationError) as refused:
        corrections.replace_participant(applicant, project.participants.get(role="surveyor"), designer, "更换")
    assert "设计单位，不能担任勘察单位" in str(refused.value)


def test_the_api_corrects_after_submission_and_answers_422_without_a_reason(submitted):
    project, applicant, contractor, gc = submitted
    successor = f.make_person(gc, "孙经理", ("constructor", "safety_b"))
    url = f"/api/projects/{project.pk}/key-people/{pm(project).pk}/replace"
    no_reason = api(applicant).post(url, {"person_id": successor.pk}, content_type="application/json")
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["fields"]
    refused = api(contractor).post(url, {"person_id": successor.pk, "reason": "x"}, content_type="application/json")
    assert refused.status_code == 403
    done = api(applicant).post(url, {"person_id": successor.pk, "reason": "B证过期"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["name"] == "孙经理"
    history = api(applicant).get(f"/api/projects/{project.pk}/corrections").json()["items"]
    assert history[0]["stage_label"] == "提交后更正" and history[0]["reason"] == "B证过期"
    surveyor = project.participants.get(role="surveyor")
    removed = api(applicant).delete(f"/api/projects/{project.pk}/participants/{surveyor.pk}",
                                    {"reason": "不需要勘察"}, content_type="application/json")  # fmt: skip
    assert removed.status_code == 204 and not Participant.objects.filter(pk=surveyor.pk).exists()


def test_the_page_replaces_a_key_person_with_a_reason(submitted):
    project, applicant, _contractor, gc = submitted
    successor = f.make_person(gc, "孙经理", ("constructor", "safety_b"))
    post = pm(project)
    page = api(applicant).post(f"/projects/{project.pk}/key-people/{post.pk}/replace/",
                               {"choice": successor.pk, "reason": "B证过期"}, follow=True)  # fmt: skip
    assert page.status_code == 200 and "原登记已记入更正记录" in page.content.decode()
    assert pm(project).person == successor
    assert "B证过期" in page.content.decode()  # the correction record on the project page


# --- after the permit: a 变更 the district approves ------------------------------------------------------------


@pytest.fixture
def permitted(filing):
    project, applicant, contractor, gc = filing
    project.state = State.UNDER_CONSTRUCTION
    project.permitted_at = timezone.now() - dt.timedelta(days=30)
    project.save()
    return project, applicant, contractor, gc


def test_after_the_permit_a_direct_correction_is_refused_with_a_409(permitted):
    project, applicant, _contractor, gc = permitted
    with pytest.raises(corrections.NotNow) as refused:
        corrections.remove_key_person(applicant, pm(project), "更换")
    assert "变更申请" in refused.value.message
    answer = api(applicant).post(
        f"/api/projects/{project.pk}/key-people/{pm(project).pk}/replace",
        {"person_id": f.make_person(gc, "孙经理", ("constructor", "safety_b")).pk, "reason": "x"},
        content_type="application/json",
    )
    assert answer.status_code == 409 and answer.json()["code"] == "change_required"


def test_a_change_waits_for_the_district_and_applies_on_approval(permitted, lanshan_regulator):
    project, applicant, _contractor, gc = permitted
    old = pm(project)
    successor = f.make_person(gc, "孙经理", ("constructor", "safety_b"))
    change = changes.request(applicant, project, "replace_key_person", target_id=old.pk, person_id=successor.pk,
                             reason="原项目经理调离")  # fmt: skip
    assert pm(project).person.name == "李经理"  # nothing changes before approval
    assert Notification.objects.filter(recipient=lanshan_regulator, topic="filing.change_requested").exists()
    changes.approve(lanshan_regulator, change, "同意")
    change.refresh_from_db()
    assert change.state == "approved" and change.decided_by == lanshan_regulator
    assert pm(project).person == successor
    correction = project.corrections.get()
    assert (correction.stage, correction.change_request, correction.actor) == ("change", change, lanshan_regulator)
    assert json.loads(ledger_entries(project).get().leaf_data)["content"]["change_request"] == change.pk
    assert Notification.objects.filter(recipient=applicant, topic="filing.change_decided").exists()
    with pytest.raises(corrections.NotNow):
        changes.approve(lanshan_regulator, change)  # decided already: 409


def test_a_rejected_change_keeps_the_registration_and_needs_a_reason(permitted, lanshan_regulator):
    project, applicant, _contractor, _gc = permitted
    surveyor = project.participants.get(role="surveyor")
    change = changes.request(applicant, project, "remove_participant", target_id=surveyor.pk, reason="已完成勘察")
    with pytest.raises(ValidationError):
        changes.reject(lanshan_regulator, change, "")
    changes.reject(lanshan_regulator, change, "勘察单位须配合验槽，暂不减少")
    assert Participant.objects.filter(pk=surveyor.pk).exists() and not project.corrections.exists()
    note = Notification.objects.get(recipient=applicant, topic="filing.change_decided")
    assert "被驳回" in note.title and "验槽" in note.body


def test_who_asks_and_who_decides_a_change(permitted, lanshan_regulator, luozhuang_regulator):
    project, applicant, contractor, _gc = permitted
    document = upload(applicant, project, "contract").document
    with pytest.raises(PermissionDenied):
        changes.request(contractor, project, "withdraw_document", target_id=document.pk, reason="合同有误")
    change = changes.request(applicant, project, "withdraw_document", target_id=document.pk, reason="合同有误")
    with pytest.raises(ValidationError):  # one pending request per registration
        changes.request(applicant, project, "withdraw_document", target_id=document.pk, reason="再次申请")
    with pytest.raises(PermissionDenied):
        changes.approve(applicant, change)
    with pytest.raises(ProjectChangeRequest.DoesNotExist):  # another district's regulator does not see it
        changes.get_change_for(luozhuang_regulator, change.pk)
    changes.approve(lanshan_regulator, change)
    document.refresh_from_db()
    assert document.withdrawn_at is not None and document.withdraw_reason == "合同有误"


def test_a_change_is_asked_for_and_decided_through_the_api(permitted, lanshan_regulator):
    project, applicant, _contractor, _gc = permitted
    newcomer = f.EnterpriseFactory(kind=Enterprise.Kind.SUPERVISION, name="新监理公司")
    supervisor = project.participants.get(role="supervisor")
    asked = api(applicant).post(
        f"/api/projects/{project.pk}/changes",
        {"action": "replace_participant", "target_id": supervisor.pk, "enterprise_id": newcomer.pk,
         "reason": "原监理合同解除"},
        content_type="application/json",
    )  # fmt: skip
    assert asked.status_code == 201 and asked.json()["state"] == "pending" and "新监理公司" in asked.json()["summary"]
    change_id = asked.json()["id"]
    listed = api(lanshan_regulator).get("/api/project-changes?state=pending").json()["items"]
    assert [c["id"] for c in listed] == [change_id]
    approved = api(lanshan_regulator).post(f"/api/project-changes/{change_id}/approve", {"comment": "同意"},
                                           content_type="application/json")  # fmt: skip
    assert approved.status_code == 200 and approved.json()["state_label"] == "已批准"
    assert project.participants.get(role="supervisor").enterprise == newcomer
    again = api(lanshan_regulator).post(f"/api/project-changes/{change_id}/reject", {"comment": "x"},
                                        content_type="application/json")  # fmt: skip
    assert again.status_code == 409


def test_a_change_before_the_permit_is_a_409_pointing_to_direct_correction(filing):
    project, applicant, _contractor, _gc = filing
    answer = api(applicant).post(
        f"/api/projects/{project.pk}/changes",
        {"action": "remove_participant", "target_id": project.participants.get(role="surveyor").pk, "reason": "x"},
        content_type="application/json",
    )
    assert answer.status_code == 409 and "直接更正" in answer.json()["detail"]


def test_the_regulator_approves_a_change_on_the_approval_page(permitted, lanshan_regulator):
    project, applicant, _contractor, gc = permitted
    successor = f.make_person(gc, "孙经理", ("constructor", "safety_b"))
    change = changes.request(applicant, project, "replace_key_person", target_id=pm(project).pk,
                             person_id=successor.pk, reason="原项目经理调离")  # fmt: skip
    listing = api(lanshan_regulator).get("/projects/changes/").content.decode()
    assert "孙经理" in listing and f"/projects/changes/{change.pk}/approve/" in listing
    api(lanshan_regulator).post(f"/projects/changes/{change.pk}/approve/", {"comment": "同意"})
    assert pm(project).person == successor
    page = api(applicant).get(f"/projects/{project.pk}/").content.decode()
    assert "许可后变更" in page and "依变更申请" in page
