"""Issue 10, "Warnings that catch mistakes" and "The checklist is where you work": the same file filed as different
kinds of document is flagged to the uploader and to the reviewer; the 危大 category of a special plan or expert
review is one identified for the project, never typed; submitting with items missing asks first and says how
many; after 预审待补正 the action reads 补正后重新提交; a checklist row uploads in place."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from jianguan.accounts.models import User
from jianguan.projects import corrections, lifecycle, services
from jianguan.projects.models import State
from jianguan.testing import factories as f
from jianguan.testing import files


@pytest.fixture
def filing(lanshan):
    project = f.staffed_project(state=State.DRAFT, jurisdiction=lanshan, parameters={"excavation_depth_m": 6.0})
    applicant = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=project.applicant)
    return project, applicant


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pdf(name="a.pdf", title="文件") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, files.make_pdf(title=title), content_type="application/pdf")


# --- duplicates ------------------------------------------------------------------------------------------------


def test_the_same_file_as_two_kinds_is_flagged_to_the_uploader(filing):
    project, applicant = filing
    content = files.make_pdf(title="合同")
    first = services.upload_document(applicant, project, kind="contract", file_name="c.pdf", content=content)
    assert first.duplicates == []
    second = services.upload_document(applicant, project, kind="planning_permit", file_name="p.pdf", content=content)
    [group] = second.duplicates
    assert group.document_ids == {first.document_id, second.document_id}
    assert "同时作为“施工合同”“建设工程规划许可证”上传" in group.message


def test_the_reviewer_sees_the_flag_until_the_wrong_one_is_withdrawn(filing, lanshan_regulator):
    project, applicant = filing
    content = files.make_pdf(title="合同")
    services.upload_document(applicant, project, kind="contract", file_name="c.pdf", content=content)
    wrong = services.upload_document(applicant, project, kind="planning_permit", file_name="p.pdf", content=content)
    lifecycle.perform(project, "submit", applicant)
    page = browser(lanshan_regulator).get(f"/projects/{project.pk}/").content.decode()
    assert "同一文件作为不同材料上传" in page
    listed = browser(lanshan_regulator).get(f"/api/projects/{project.pk}/documents").json()
    assert all(d["warnings"] for d in listed)
    corrections.withdraw_document(applicant, wrong.document, "传错了文件")
    assert services.duplicate_files(project) == []


def test_the_same_file_as_the_same_kind_or_in_an_old_version_is_not_flagged(filing):
    project, applicant = filing
    content = files.make_pdf(title="合同")
    v1 = services.upload_document(applicant, project, kind="contract", file_name="c.pdf", content=content)
    services.upload_document(applicant, project, kind="contract", file_name="c-copy.pdf", content=content)
    assert services.duplicate_files(project) == []
    services.upload_document(applicant, project, kind="planning_permit", file_name="p.pdf", content=content)
    services.upload_document(applicant, project, kind="planning_permit", file_name="p2.pdf",
                             content=files.make_pdf(title="规划许可"), document=project.documents.get(
                                 kind="planning_permit"), note="传错")  # fmt: skip
    assert services.duplicate_files(project) == []  # the permit's current version is another file now
    assert v1.document.versions.count() == 1


def test_the_upload_page_warns_after_the_upload(filing):
    project, applicant = filing
    content = files.make_pdf(title="合同")
    client = browser(applicant)
    for kind in ("contract", "safety_measures"):
        upload = SimpleUploadedFile(f"{kind}.pdf", content, content_type="application/pdf")
        page = client.post(f"/projects/{project.pk}/documents/", {"kind": kind, "file": upload}, follow=True)
    assert "请核对是否传错" in page.content.decode()


# --- the 危大 category -------------------------------------------------------------------------------------------


def test_a_special_plan_covers_a_category_identified_for_the_project(filing):
    project, applicant = filing
    assert services.category_choices(project, "special_plan") == ["基坑工程"]
    assert services.category_choices(project, "expert_review") == ["基坑工程"]  # 6 m is the larger scale
    with pytest.raises(ValidationError) as refused:
        services.upload_document(applicant, project, kind="special_plan", category="基坑", file_name="s.pdf",
                                 content=files.make_pdf())  # fmt: skip
    assert "请从本项目识别出的危大工程类别中选择：基坑工程" in str(refused.value)
    version = services.upload_document(applicant, project, kind="special_plan", category="基坑工程",
                                       file_name="s.pdf", content=files.make_pdf())  # fmt: skip
    assert version.document.category == "基坑工程"


def test_an_expert_review_needs_the_larger_scale(lanshan):
    project = f.staffed_project(state=State.DRAFT, jurisdiction=lanshan, parameters={"excavation_depth_m": 4.0})
    applicant = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=project.applicant)
    with pytest.raises(ValidationError) as refused:
        services.upload_document(applicant, project, kind="expert_review", category="基坑工程", file_name="e.pdf",
                                 content=files.make_pdf())  # fmt: skip
    assert "未识别出超过一定规模的危大工程" in str(refused.value)


def test_other_kinds_carry_no_category(filing):
    project, applicant = filing
    version = services.upload_document(applicant, project, kind="contract", category="基坑工程", file_name="c.pdf",
                                       content=files.make_pdf())  # fmt: skip
    assert version.document.category == ""


def test_the_upload_form_offers_the_identified_categories(filing):
    project, applicant = filing
    html = browser(applicant).get(f"/projects/{project.pk}/").content.decode()
    assert '<option value="基坑工程">基坑工程</option>' in html
    assert '<option value="模板工程及支撑体系">' not in html


# --- the checklist rows ------------------------------------------------------------------------------------------


def test_each_missing_item_has_its_own_upload_form(filing):
    project, applicant = filing
    html = browser(applicant).get(f"/projects/{project.pk}/").content.decode()
    # 6 base items, a special plan and an expert review for the 6 m excavation
    assert html.count('class="row-upload"') == 8
    assert 'name="category" value="基坑工程"' in html and 'hx-post="/projects/' in html


def test_a_row_upload_with_htmx_answers_with_the_row_and_the_refreshed_counts(filing):
    project, applicant = filing
    answer = browser(applicant).post(
        f"/projects/{project.pk}/documents/",
        {"kind": "special_plan", "category": "基坑工程", "row": "req-special_plan-0", "file": pdf(title="方案")},
        HTTP_HX_REQUEST="true",
    )
    html = answer.content.decode()
    assert answer.status_code == 200 and "<html" not in html
    assert 'id="req-special_plan-0" class="check-row done"' in html and "已上传" in html
    assert 'id="checklist-summary" class="muted" hx-swap-oob="true"' in html and "缺 7 项" in html
    assert 'id="documents-list" hx-swap-oob="true"' in html and 'id="actions-card" hx-swap-oob="true"' in html
    assert project.documents.get().category == "基坑工程"


def test_a_refused_row_upload_says_why_in_the_row(filing):
    project, applicant = filing
    fake = SimpleUploadedFile("x.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    answer = browser(applicant).post(
        f"/projects/{project.pk}/documents/",
        {"kind": "contract", "category": "", "row": "req-contract", "file": fake},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 422 and "上传失败" in answer.content.decode()
    assert not project.documents.exists()


def test_without_javascript_a_row_upload_returns_to_the_materials(filing):
    project, applicant = filing
    answer = browser(applicant).post(
        f"/projects/{project.pk}/documents/", {"kind": "contract", "row": "req-contract", "file": pdf()}
    )
    assert answer.status_code == 302 and answer["Location"].endswith("#materials")


# --- submitting ------------------------------------------------------------------------------------------------


def test_the_submit_button_asks_first_with_the_count(filing):
    project, applicant = filing
    html = browser(applicant).get(f"/projects/{project.pk}/").content.decode()
    gaps = services.submission_gaps(project)
    assert gaps.total == 8 and gaps.text == "申报材料 8 项"
    assert f'data-confirm="{gaps.question}"' in html and 'data-confirmed="confirmed"' in html
    assert "还缺少 8 项（申报材料 8 项）" in html


def test_without_the_answer_the_server_asks_before_submitting(filing):
    project, applicant = filing
    client = browser(applicant)
    page = client.post(f"/projects/{project.pk}/transition/", {"name": "submit"})
    assert page.status_code == 200 and "仍要提交" in page.content.decode()
    project.refresh_from_db()
    assert project.state == State.DRAFT
    client.post(f"/projects/{project.pk}/transition/", {"name": "submit", "confirmed": "1"})
    project.refresh_from_db()
    assert project.state == State.PREREVIEW_FAILED


def test_a_complete_filing_submits_without_a_question(filing):
    project, applicant = filing
    for req in services.filing_requirements(project.project_type, project.parameters):
        services.upload_document(applicant, project, kind=req.kind, category=req.category, file_name="a.pdf",
                                 content=files.make_pdf(title=req.label))  # fmt: skip
    assert services.submission_gaps(project).total == 0
    html = browser(applicant).get(f"/projects/{project.pk}/").content.decode()
    assert "data-confirm" not in html.split('id="actions-card"')[1].split("</div>")[0]
    browser(applicant).post(f"/projects/{project.pk}/transition/", {"name": "submit"})
    project.refresh_from_db()
    assert project.state == State.UNDER_REVIEW


def test_after_the_pre_review_sends_it_back_the_action_reads_resubmit(filing):
    project, applicant = filing
    project = lifecycle.perform(project, "submit", applicant)
    assert project.state == State.PREREVIEW_FAILED
    [(name, rule)] = lifecycle.available(applicant, project)
    assert (name, rule.label) == ("submit", "补正后重新提交")
    html = browser(applicant).get(f"/projects/{project.pk}/").content.decode()
    assert 'data-transition="submit" class="">补正后重新提交</button>' in html
    answer = browser(applicant).get(f"/api/projects/{project.pk}/transitions").json()
    assert answer["available"][0]["label"] == "补正后重新提交"
