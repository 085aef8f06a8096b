from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from jianguan.accounts.models import User
from jianguan.core.models import AuditEvent
from jianguan.projects import lifecycle, services
from jianguan.projects.models import Document, State, Transition
from jianguan.projects.requirements import filing_requirements
from jianguan.registry.models import Certificate, Enterprise
from jianguan.review import starts
from jianguan.testing import factories as f
from jianguan.testing import files
from jianguan.testing.review import issue_permit

PDF = files.PDF
BASE_DOCS = [
    "construction_drawings",
    "drawing_review_cert",
    "planning_permit",
    "contract",
    "safety_measures",
    "wage_account",
]


@pytest.fixture
def approver(lanshan_regulator):
    """A second regulator of the district: the permit's 审批 is signed by someone other than its 审核."""
    return f.UserFactory(role=User.Role.DISTRICT_REGULATOR, department=lanshan_regulator.department)


@pytest.fixture
def applicant_user(db):
    project = f.staffed_project(state=State.DRAFT, parameters={"excavation_depth_m": 6.0}, floors_below=1)
    user = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=project.applicant)
    return project, user


def upload_all_base(user, project):
    for kind in BASE_DOCS:
        services.upload_document(user, project, kind=kind, file_name=f"{kind}.pdf", content=PDF)


def finding_codes(project):
    return [x["code"] for x in project.prereviews.first().findings]


def test_deep_excavation_requires_special_plan_and_expert_review(applicant_user, lanshan_regulator, approver):
    project, user = applicant_user
    upload_all_base(user, project)
    project = lifecycle.perform(project, "submit", user)
    assert project.state == State.PREREVIEW_FAILED
    messages = [x["message"] for x in project.prereviews.first().findings]
    assert any("专项施工方案" in m and "基坑" in m for m in messages), messages
    assert any("专家论证" in m for m in messages), messages

    # The regulator cannot approve a filing that failed pre-review, nor can the enterprise.
    with pytest.raises(lifecycle.TransitionError):
        lifecycle.perform(project, "approve", lanshan_regulator)

    categories = {r.category for r in filing_requirements(project.project_type, project.parameters) if r.category}
    assert categories
    for category in categories:
        services.upload_document(
            user, project, kind="special_plan", category=category, file_name="plan.pdf", content=PDF
        )
        services.upload_document(
            user, project, kind="expert_review", category=category, file_name="review.pdf", content=PDF
        )
    project = lifecycle.perform(project, "submit", user)
    assert project.state == State.UNDER_REVIEW, finding_codes(project)

    issue_permit(project, lanshan_regulator, approver)
    project.refresh_from_db()
    assert project.state == State.PERMITTED
    assert project.permit_number
    names = list(project.transitions.values_list("name", flat=True))
    assert names == ["submit", "fail_prereview", "submit", "pass_prereview", "approve"]
    assert AuditEvent.objects.filter(project=project, action="transition").count() == 5


def test_reason_required_and_recorded(applicant_user, lanshan_regulator):
    project, _ = applicant_user
    project.state = State.UNDER_REVIEW
    project.save()
    with pytest.raises(lifecycle.TransitionError) as exc:
        lifecycle.perform(project, "return", lanshan_regulator, "  ")
    assert exc.value.code == "reason_required"
    project = lifecycle.perform(project, "return", lanshan_regulator, "图纸版本不一致")
    assert project.state == State.RETURNED
    assert Transition.objects.get(project=project, name="return").reason == "图纸版本不一致"


def test_override_with_reason(applicant_user, lanshan_regulator, approver):
    project, user = applicant_user
    project = lifecycle.perform(project, "submit", user)
    assert project.state == State.PREREVIEW_FAILED
    with pytest.raises(PermissionDenied):
        lifecycle.perform(project, "override_prereview", user, "我方认为无需")
    project = lifecycle.perform(project, "override_prereview", lanshan_regulator, "应急抢险工程，材料后补")
    assert project.state == State.UNDER_REVIEW
    assert project.prereviews.first().overridden_by == lanshan_regulator
    issue_permit(project, lanshan_regulator, approver)
    project.refresh_from_db()
    assert project.state == State.PERMITTED


def test_wrong_state_and_other_district(applicant_user, lanshan_regulator, luozhuang_regulator):
    project, _user = applicant_user
    with pytest.raises(lifecycle.TransitionError) as exc:
        lifecycle.perform(project, "approve", lanshan_regulator)
    assert exc.value.code == "wrong_state"
    project.state = State.UNDER_REVIEW
    project.save()
    with pytest.raises(PermissionDenied, match="您无权"):
        lifecycle.perform(project, "approve", luozhuang_regulator)


def test_who_may_never_take_a_step_is_refused_before_the_state_is_looked_at(applicant_user):
    """Readable but not allowed is 403, whatever the state: the applicant approving its own draft is refused,
    not told that a draft cannot be approved."""
    project, user = applicant_user
    with pytest.raises(PermissionDenied):
        lifecycle.perform(project, "approve", user)
    project.refresh_from_db()
    assert project.state == State.DRAFT


def test_construction_suspension_and_acceptance(applicant_user, lanshan_regulator):
    project, user = applicant_user
    project.state = State.PERMITTED
    project.save()
    # The start of works is reported by the enterprise and confirmed by the regulator (review/starts.py).
    report = starts.report_start(user, project, timezone.localdate(), "基坑开挖")
    starts.decide(lanshan_regulator, report, True)
    project.refresh_from_db()
    assert project.state == State.UNDER_CONSTRUCTION
    project = lifecycle.perform(project, "suspend", lanshan_regulator, "高支模未按方案施工")
    assert project.state == State.SUSPENDED
    project = lifecycle.perform(project, "resume", lanshan_regulator, "整改完成复查合格")
    with pytest.raises(lifecycle.TransitionError) as exc:
        lifecycle.perform(project, "apply_acceptance", user)
    assert exc.value.code == "precondition" and "竣工验收报告" in exc.value.message
    services.upload_document(user, project, kind="acceptance_report", file_name="a.pdf", content=PDF)
    services.upload_document(user, project, kind="test_report", file_name="t.pdf", content=PDF)
    project = lifecycle.perform(project, "apply_acceptance", user)
    project = lifecycle.perform(project, "archive", lanshan_regulator)
    assert project.state == State.ARCHIVED


def test_prereview_flags_expired_certificate_and_qualification(applicant_user):
    project, user = applicant_user
    pm = project.key_people.get(role="project_manager").person
    Certificate.objects.filter(person=pm, kind="safety_b").update(valid_until="2020-01-01")
    gc = project.participants.get(role="general_contractor").enterprise
    gc.qualifications.update(valid_until="2020-01-01")
    project = lifecycle.perform(project, "submit", user)
    codes = finding_codes(project)
    assert "certificate_expired" in codes
    assert "qualification_expired" in codes


def test_prereview_flags_wrong_kind_and_employer(applicant_user):
    project, user = applicant_user
    wrong = f.EnterpriseFactory(kind=Enterprise.Kind.DESIGN)
    project.participants.filter(role="supervisor").update(enterprise=wrong)
    project = lifecycle.perform(project, "submit", user)
    codes = finding_codes(project)
    assert "participant_kind" in codes
    assert "key_person_employer" in codes  # the chief supervisor no longer works for the supervisor


def test_document_versions_never_overwrite(applicant_user):
    project, user = applicant_user
    v1 = services.upload_document(user, project, kind="contract", file_name="c.pdf", content=PDF)
    v2 = services.upload_document(
        user,
        project,
        kind="contract",
        file_name="c2.pdf",
        content=files.make_pdf(title="第二版"),
        document=v1.document,
        note="补签章页",
    )
    assert (v1.number, v2.number) == (1, 2)
    assert v1.file.name != v2.file.name
    v1.refresh_from_db()
    with v1.file.open("rb") as fh:
        assert fh.read() == PDF
    assert Document.objects.get(pk=v1.document_id).versions.count() == 2
