"""Verdicts and comments per document: 需补正 needs a comment; the comment reaches the enterprise, stays open across
the resubmitted version until a reviewer closes it, and takes the enterprise's reply."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jianguan.core.models import AuditEvent
from jianguan.notify.models import Notification
from jianguan.projects import lifecycle
from jianguan.projects import services as project_services
from jianguan.projects.models import State
from jianguan.review import services
from jianguan.review.models import ReviewComment, Verdict
from jianguan.testing import files


def test_needs_fix_without_a_comment_is_refused(filing):
    with pytest.raises(ValidationError):
        services.set_verdict(filing.reviewer, filing.documents["contract"], Verdict.NEEDS_FIX, "  ")
    assert not ReviewComment.objects.exists()


def test_a_needs_fix_verdict_opens_a_comment_the_enterprise_hears_of(filing):
    contract = filing.documents["contract"]
    services.set_verdict(filing.reviewer, contract, Verdict.NEEDS_FIX, "合同缺少签章页")
    comment = ReviewComment.objects.get()
    assert (comment.document, comment.version.number, comment.status) == (contract, 1, "open")
    told = Notification.objects.filter(topic="filing.comment")
    assert {n.recipient for n in told} >= {filing.applicant, filing.contractor}
    assert all("施工合同" in n.title for n in told)
    assert AuditEvent.objects.filter(project=filing.project, object_type="review.reviewcomment").exists()


def test_a_comment_carries_over_to_the_resubmitted_version_until_a_reviewer_closes_it(filing):
    project, contract = filing.project, filing.documents["contract"]
    services.set_verdict(filing.reviewer, contract, Verdict.NEEDS_FIX, "合同缺少签章页")
    comment = ReviewComment.objects.get()
    project = lifecycle.perform(project, "return", filing.reviewer, "合同缺少签章页，请补正")

    project_services.upload_document(
        filing.applicant, project, kind="contract", file_name="contract-v2.pdf",
        content=files.make_pdf(title="第二版"), document=contract, note="补充签章页",
    )  # fmt: skip
    reply = services.reply(filing.applicant, comment, "已上传第 2 版，补充了签章页")
    assert reply.version.number == 2
    assert Notification.objects.filter(recipient=filing.reviewer, topic="review.reply").exists()
    project = lifecycle.perform(project, "submit", filing.applicant)
    assert project.state == State.UNDER_REVIEW

    row = next(r for r in services.workspace(project).rows if r.document == contract)
    assert row.latest.number == 2 and row.state == "new_version"  # the verdict was on v1
    assert [c.pk for c in row.comments] == [comment.pk] and row.open_comments == 1  # still open on v2

    with pytest.raises(PermissionDenied):
        services.close_comment(filing.applicant, comment, "我方已补正")
    services.close_comment(filing.reviewer, comment, "第 2 版已补正")
    services.set_verdict(filing.reviewer, contract, Verdict.OK)
    row = next(r for r in services.workspace(project).rows if r.document == contract)
    assert (row.state, row.open_comments, row.verdict.version.number) == ("ok", 0, 2)
    with pytest.raises(services.ReviewConflict):
        services.reply(filing.applicant, ReviewComment.objects.get(), "再补充一句")


def test_only_the_projects_regulators_review(filing, luozhuang_regulator):
    contract = filing.documents["contract"]
    for user in (filing.applicant, filing.inspector):
        with pytest.raises(PermissionDenied):
            services.set_verdict(user, contract, Verdict.OK)
        with pytest.raises(PermissionDenied):
            services.get_project_for_review(user, filing.project.pk)
    with pytest.raises(type(filing.project).DoesNotExist):  # another district's: not there at all
        services.get_project_for_review(luozhuang_regulator, filing.project.pk)
    services.set_verdict(filing.admin, contract, Verdict.OK)  # the city bureau reviews every project


def test_the_enterprise_side_replies_others_may_not(filing):
    comment = services.add_comment(filing.reviewer, filing.project, "请说明资金安排")
    services.reply(filing.contractor, comment, "资金已落实，见合同第 5 条")
    with pytest.raises(PermissionDenied):
        services.reply(filing.inspector, comment, "检查员不能回复")


def test_verdicts_wait_for_a_filing_under_review(filing):
    project = lifecycle.perform(filing.project, "return", filing.reviewer, "图纸不全")
    assert project.state == State.RETURNED
    with pytest.raises(services.ReviewConflict):
        services.set_verdict(filing.reviewer, filing.documents["contract"], Verdict.OK)
