"""The workspace, the queue and the project page's block as people use them, and the previews' safety."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from jianguan.accounts.models import User
from jianguan.projects import lifecycle
from jianguan.projects import services as project_services
from jianguan.projects.models import State, Transition
from jianguan.review import services
from jianguan.review.models import ReviewComment, Verdict
from jianguan.testing import factories as f
from jianguan.testing import files


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_workspace_shows_documents_checklists_and_the_clock(filing):
    services.set_verdict(filing.reviewer, filing.documents["contract"], Verdict.NEEDS_FIX, "合同缺少签章页")
    response = client_for(filing.reviewer).get(f"/projects/{filing.project.pk}/review/")
    assert response.status_code == 200
    html = response.content.decode()
    expected = ("文件审查", "施工合同", "合同缺少签章页", "需补正", "申报材料清单", "审查要点", "已办理用地批准手续",
                "时限 7 个自然日", "签署审核", "data-preview=", "pdf.min.mjs")  # fmt: skip
    for fragment in expected:
        assert fragment in html, fragment


def test_only_those_who_review_see_the_workspace_and_the_queue(filing):
    for user, status in ((filing.inspector, 403), (filing.applicant, 403), (filing.admin, 200)):
        assert client_for(user).get(f"/projects/{filing.project.pk}/review/").status_code == status
        assert client_for(user).get("/projects/review/").status_code == status
    menu = client_for(filing.inspector).get(f"/projects/{filing.project.pk}/").content.decode()
    assert "审查待办" not in menu  # the inspector has no menu for a queue it cannot act on
    assert "审查待办" in client_for(filing.reviewer).get("/projects/").content.decode()


def test_the_queue_triages_by_whose_move_it_is_and_flags_the_overdue(filing, lanshan):
    reviewer = filing.reviewer
    late = f.staffed_project(state=State.UNDER_REVIEW, jurisdiction=lanshan, name="超期未审项目")
    ten_days_ago = timezone.now() - dt.timedelta(days=10)
    for name, to in (("submit", State.SUBMITTED), ("pass_prereview", State.UNDER_REVIEW)):
        step = Transition.objects.create(project=late, name=name, from_state=State.DRAFT, to_state=to)
        Transition.objects.filter(pk=step.pk).update(at=ten_days_ago)
    returned = lifecycle.perform(
        f.staffed_project(state=State.UNDER_REVIEW, jurisdiction=lanshan, name="退回补正项目"), "return", reviewer, "x"
    )
    client = client_for(reviewer)
    bureau = client.get("/projects/review/").content.decode()
    assert "超期未审项目" in bureau and filing.project.name in bureau and "退回补正项目" not in bureau
    assert "超期 3 日" in bureau  # 10 days waiting against 7
    assert bureau.index("超期未审项目") < bureau.index(filing.project.name)  # the longest waiting first
    enterprise = client.get("/projects/review/?tab=enterprise").content.decode()
    assert returned.name in enterprise and "超期未审项目" not in enterprise
    overdue = client.get("/projects/review/?overdue=on").content.decode()
    assert "超期未审项目" in overdue and filing.project.name not in overdue
    services.assign(reviewer, filing.project, filing.approver)
    mine = client_for(filing.approver).get("/projects/review/?assignee=me").content.decode()
    assert filing.project.name in mine and "超期未审项目" not in mine
    api = client.get("/api/review/queue?overdue=true").json()
    assert [row["name"] for row in api["items"]] == ["超期未审项目"]
    assert api["items"][0]["overdue"] is True and api["items"][0]["limit_days"] == 7


def test_assignment_takes_only_the_projects_regulators(filing, luozhuang_regulator):
    client = client_for(filing.reviewer)
    client.post(f"/projects/{filing.project.pk}/review/assignee/", {"assignee": luozhuang_regulator.pk})
    assert services.case_for(filing.project).assignee is None
    client.post(f"/projects/{filing.project.pk}/review/assignee/", {"assignee": filing.approver.pk})
    assert services.case_for(filing.project).assignee == filing.approver


def test_a_pdf_preview_is_served_as_a_sandboxed_pdf_never_as_a_page(filing):
    contract = filing.documents["contract"]
    response = client_for(filing.reviewer).get(f"/projects/review/documents/{contract.pk}/v1/preview")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")


def test_a_document_that_is_not_a_pdf_or_an_image_is_only_downloaded(filing):
    # The applicant uploads while the filing is its own again (returned).
    project = lifecycle.perform(filing.project, "return", filing.reviewer, "补充工程量清单")
    version = project_services.upload_document(
        filing.applicant, project, kind="other", file_name="清单.xlsx", content=files.make_ooxml(".xlsx")
    )
    response = client_for(filing.reviewer).get(f"/projects/review/documents/{version.document_id}/v1/preview")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response["Content-Security-Policy"]


def test_previews_follow_the_documents_part(filing):
    contract = filing.documents["contract"]
    stranger = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=f.EnterpriseFactory())
    assert client_for(stranger).get(f"/projects/review/documents/{contract.pk}/v1/preview").status_code == 404
    assert client_for(filing.applicant).get(f"/projects/review/documents/{contract.pk}/v1/preview").status_code == 200


def test_the_enterprise_replies_from_the_project_page(filing):
    comment = services.add_comment(filing.reviewer, filing.project, "请补充资金证明", filing.documents["contract"])
    page = client_for(filing.applicant).get(f"/projects/{filing.project.pk}/").content.decode()
    assert "请补充资金证明" in page and f"/projects/review/comments/{comment.pk}/reply/" in page
    response = client_for(filing.applicant).post(
        f"/projects/review/comments/{comment.pk}/reply/", {"body": "已补充", "next": f"/projects/{filing.project.pk}/"}
    )
    assert response.status_code == 302 and response["Location"] == f"/projects/{filing.project.pk}/"
    assert ReviewComment.objects.get().replies.get().body == "已补充"
    evil = client_for(filing.applicant).post(
        f"/projects/review/comments/{comment.pk}/reply/", {"body": "再补充", "next": "https://evil.example/"}
    )
    assert evil["Location"] == f"/projects/{filing.project.pk}/#review-block"  # no open redirect
