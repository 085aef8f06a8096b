"""Issue 10, "Decisions reach people": the enterprise hears of its pre-review result, a return and a refusal in its
inbox and by email (the outbox channel its users configure); the review workspace's comments and the permit go
the same way through notices.review_comment / notices.permit_issued."""

from __future__ import annotations

import pytest

from jianguan.accounts.models import User
from jianguan.notify.models import Delivery, Notification
from jianguan.projects import lifecycle, notices
from jianguan.projects.models import State
from jianguan.testing import factories as f


@pytest.fixture
def filing(lanshan, settings):
    settings.NOTIFY_EMAIL = True
    project = f.staffed_project(state=State.DRAFT, jurisdiction=lanshan, name="沂河湾一期")
    applicant = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=project.applicant, email="filer@example.cn")
    colleague = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=project.applicant, email="")
    gc_user = f.UserFactory(
        role=User.Role.ENTERPRISE_USER, enterprise=project.participants.get(role="general_contractor").enterprise
    )
    return project, applicant, colleague, gc_user


def notes(topic):
    return Notification.objects.filter(topic=topic)


def test_the_pre_review_result_reaches_the_applicants_users_in_app_and_by_email(filing):
    project, applicant, colleague, gc_user = filing
    lifecycle.perform(project, "submit", applicant)
    got = notes("filing.prereview")
    assert {n.recipient for n in got} == {applicant, colleague}  # not the contractor: the filing is the applicant's
    note = got.get(recipient=applicant)
    assert note.title.startswith("【预审待补正】沂河湾一期") and "项问题" in note.title and "缺少" in note.body
    assert note.url == f"/projects/{project.pk}/#prereview"
    emails = Delivery.objects.filter(channel="email")
    assert [d.target for d in emails] == ["filer@example.cn"]  # the colleague gave no address
    assert not Delivery.objects.filter(channel="webhook").exists()  # the bureau's robots are not for enterprises
    assert gc_user.notifications.count() == 0


def test_a_return_and_a_refusal_carry_the_reason(filing, lanshan_regulator):
    project, applicant, _colleague, _gc_user = filing
    project.state = State.UNDER_REVIEW
    project.save()
    lifecycle.perform(project, "return", lanshan_regulator, "施工图审查合格书缺页")
    returned = notes("filing.returned").get(recipient=applicant)
    assert returned.title == "【退回修改】沂河湾一期" and "缺页" in returned.body
    project.state = State.UNDER_REVIEW
    project.save()
    lifecycle.perform(project, "reject", lanshan_regulator, "不符合规划")
    refused = notes("filing.rejected").get(recipient=applicant)
    assert refused.title == "【不予许可】沂河湾一期" and "不符合规划" in refused.body


def test_a_clean_pre_review_says_it_went_to_the_district(filing):
    project, applicant, _colleague, _gc_user = filing
    from jianguan.projects import prereview

    review = project.prereviews.create(findings=[], clean=True)
    notices.prereview_result(project, review)
    note = notes("filing.prereview").get(recipient=applicant)
    assert note.title == "【自动预审通过】沂河湾一期" and prereview.is_clean([])


def test_the_review_workspace_calls_for_comments_and_the_permit(filing):
    project, applicant, colleague, _gc_user = filing
    project.permit_number = "3713022026120301"
    assert notices.review_comment(project, subject="施工合同", comment="缺少签章页") == 2
    comment = notes("filing.comment").get(recipient=applicant)
    assert comment.title == "【审查意见】沂河湾一期：施工合同" and comment.body == "缺少签章页"
    assert notices.permit_issued(project) == 2
    permit = notes("filing.permitted").get(recipient=colleague)
    assert "3713022026120301" in permit.title and "三个月内开工" in permit.body
