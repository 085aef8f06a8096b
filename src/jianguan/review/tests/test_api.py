"""The review API end to end, and its documented statuses (403 forbidden, 404 not_found, 409 precondition/
already_*, 422 invalid)."""

from __future__ import annotations

from django.test import Client

from jianguan.accounts.models import ApiToken
from jianguan.projects import lifecycle
from jianguan.projects import services as project_services
from jianguan.review import checklist
from jianguan.testing import files


def api(user) -> Client:
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {ApiToken.issue(user, 'test')[1]}"
    return client


def test_review_to_permit_through_the_api(filing):
    pk = filing.project.pk
    reviewer, approver, applicant = api(filing.reviewer), api(filing.approver), api(filing.applicant)
    contract = filing.documents["contract"].pk

    assert reviewer.post(f"/api/documents/{contract}/verdict", {"verdict": "needs_fix"},
                         content_type="application/json").status_code == 422  # fmt: skip
    answer = reviewer.post(f"/api/documents/{contract}/verdict", {"verdict": "needs_fix", "comment": "缺签章页"},
                           content_type="application/json")  # fmt: skip
    assert answer.status_code == 201
    comment = answer.json()["comment_id"]
    assert applicant.post(f"/api/documents/{contract}/verdict", {"verdict": "ok"},
                          content_type="application/json").status_code == 403  # fmt: skip

    lifecycle.perform(filing.project, "return", filing.reviewer, "补签章页")
    project_services.upload_document(filing.applicant, filing.project, kind="contract", file_name="c2.pdf",
                                     content=files.make_pdf(title="v2"), document=filing.documents["contract"],
                                     note="补签章页")  # fmt: skip
    reply = applicant.post(f"/api/review-comments/{comment}/replies", {"body": "已上传第 2 版"},
                           content_type="application/json")  # fmt: skip
    assert reply.status_code == 201 and reply.json()["version"] == 2
    listed = applicant.get(f"/api/projects/{pk}/review-comments").json()["items"]
    assert listed[0]["raised_on_version"] == 1 and listed[0]["replies"][0]["body"] == "已上传第 2 版"
    assert applicant.post(f"/api/projects/{pk}/transitions", {"name": "submit"},
                          content_type="application/json").json()["state"] == "under_review"  # fmt: skip

    early = reviewer.post(f"/api/projects/{pk}/signoffs", {"stage": "review", "opinion": "同意"},
                          content_type="application/json")  # fmt: skip
    assert early.status_code == 409 and early.json()["code"] == "precondition"
    closed = reviewer.post(f"/api/review-comments/{comment}/close", {"note": "已补正"}, content_type="application/json")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert reviewer.post(f"/api/review-comments/{comment}/close", {}, content_type="application/json").json()[
        "code"] == "already_closed"  # fmt: skip
    for document in filing.documents.values():
        assert reviewer.post(f"/api/documents/{document.pk}/verdict", {"verdict": "ok"},
                             content_type="application/json").status_code == 201  # fmt: skip
    for point in checklist.POINTS:
        result = "na" if point.may_not_apply else "ok"
        assert reviewer.put(f"/api/projects/{pk}/review/checklist/{point.code}", {"result": result},
                            content_type="application/json").status_code == 200  # fmt: skip
    assert reviewer.put(f"/api/projects/{pk}/review/assignee", {"assignee_id": filing.reviewer.pk},
                        content_type="application/json").json()["assignee_id"] == filing.reviewer.pk  # fmt: skip
    space = reviewer.get(f"/api/projects/{pk}/review").json()
    assert space["review_blockers"] == [] and space["second_signoff_required"] is True
    assert {d["state"] for d in space["documents"]} == {"ok"}

    signed = reviewer.post(f"/api/projects/{pk}/signoffs", {"stage": "review", "opinion": "符合施工许可条件"},
                           content_type="application/json")  # fmt: skip
    assert signed.status_code == 201 and signed.json()["ledger_index"] is not None
    same = reviewer.post(f"/api/projects/{pk}/signoffs", {"stage": "approve", "opinion": "同意"},
                         content_type="application/json")  # fmt: skip
    assert same.status_code == 403
    approved = approver.post(f"/api/projects/{pk}/signoffs", {"stage": "approve", "opinion": "同意核发"},
                             content_type="application/json")  # fmt: skip
    assert approved.status_code == 201
    permit = applicant.get(f"/api/projects/{pk}/permit").json()
    assert permit["number"] and "/permits/verify/" in permit["verification_url"]
    assert [s["stage"] for s in applicant.get(f"/api/projects/{pk}/signoffs").json()] == ["review", "approve"]


def test_who_is_refused_what(filing, luozhuang_regulator):
    pk = filing.project.pk
    assert api(filing.inspector).get("/api/review/queue").status_code == 403
    assert api(filing.applicant).get(f"/api/projects/{pk}/review").status_code == 403
    assert api(luozhuang_regulator).get(f"/api/projects/{pk}/review").status_code == 404
    assert api(filing.applicant).get(f"/api/projects/{pk}/permit").status_code == 404  # none issued yet
    assert Client().get("/api/review/queue").status_code == 401
