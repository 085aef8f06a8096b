"""Issue 10, "A to-do home": an enterprise user lands on what waits for the enterprise's move — filings sent back,
items still to upload, its 变更 requests, deadlines — and a new source (review comments) can be added."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from jianguan.accounts.models import User
from jianguan.projects import changes, lifecycle, services, todo
from jianguan.projects.models import State
from jianguan.testing import factories as f
from jianguan.testing import files


@pytest.fixture
def enterprise(lanshan):
    developer = f.EnterpriseFactory(kind="developer", name="沂河置业")
    user = f.UserFactory(username="filer", role=User.Role.ENTERPRISE_USER, enterprise=developer)
    return developer, user


def sections(user) -> dict[str, todo.Section]:
    return {s.key: s for s in todo.sections_for(user)}


def test_an_enterprise_user_lands_on_the_to_do_list(enterprise, lanshan_regulator):
    _developer, _user = enterprise
    client = Client()
    answer = client.post("/login/", {"username": "filer", "password": "pw-123456"})
    assert answer.status_code == 302 and answer["Location"] == "/"
    assert client.get("/")["Location"] == "/projects/todo/"
    regulator = Client()
    regulator.force_login(lanshan_regulator)
    assert regulator.get("/")["Location"] == "/projects/"
    assert regulator.get("/projects/todo/").status_code == 403


def test_a_filing_sent_back_by_the_pre_review_waits_for_correction(enterprise):
    developer, user = enterprise
    project = f.staffed_project(applicant=developer, state=State.DRAFT, name="沂河湾一期")
    lifecycle.perform(project, "submit", user)
    [item] = sections(user)["corrections"].items
    assert item.project == project and "自动预审发现" in item.title and "缺少" in item.detail
    assert item.url.endswith("#prereview") and item.urgent


def test_a_returned_filing_shows_the_bureaus_reason(enterprise, lanshan_regulator):
    developer, user = enterprise
    project = f.staffed_project(applicant=developer, state=State.UNDER_REVIEW)
    lifecycle.perform(project, "return", lanshan_regulator, "施工图审查合格书与图纸版本不一致")
    [item] = sections(user)["corrections"].items
    assert item.title == "区县住建部门退回修改" and "版本不一致" in item.detail


def test_missing_uploads_are_counted_per_filing(enterprise):
    developer, user = enterprise
    project = f.staffed_project(applicant=developer, state=State.DRAFT, parameters={"excavation_depth_m": 4.0})
    services.upload_document(user, project, kind="contract", file_name="c.pdf", content=files.make_pdf())
    [item] = sections(user)["uploads"].items
    # The six base items but the contract, and the excavation's special plan (4 m: no expert review).
    assert item.title == "还缺 6 项申报材料" and "施工合同" not in item.detail
    assert item.detail.startswith("施工图设计文件、施工图审查合格书") and item.detail.endswith("等")
    assert item.url.endswith("#materials")


def test_change_requests_and_their_decisions_are_listed(enterprise, lanshan_regulator):
    developer, user = enterprise
    project = f.staffed_project(applicant=developer, state=State.UNDER_CONSTRUCTION)
    surveyor = project.participants.get(role="surveyor")
    change = changes.request(user, project, "remove_participant", target_id=surveyor.pk, reason="勘察完成")
    [pending] = sections(user)["changes"].items
    assert "待区县住建部门审批" in pending.title
    changes.reject(lanshan_regulator, change, "验槽需要勘察单位")
    [decided] = sections(user)["changes"].items
    assert "已驳回" in decided.title and "验槽" in decided.detail and decided.urgent


def test_deadlines_the_permits_start_and_expiring_certificates(enterprise):
    developer, user = enterprise
    permitted_at = timezone.now() - dt.timedelta(days=80)
    project = f.staffed_project(applicant=developer, state=State.PERMITTED, permitted_at=permitted_at)
    pm = project.key_people.get(role="project_manager").person
    pm.certificates.filter(kind="safety_b").update(valid_until=timezone.localdate() + dt.timedelta(days=5))
    items = sections(user)["deadlines"].items
    start = next(i for i in items if i.title == "开工期限")
    assert "第十条" in start.detail and 8 <= start.days_left <= 12 and start.urgent
    cert = next(i for i in items if "证书即将到期" in i.title)
    assert "李经理" in cert.title and cert.days_left == 5


def test_the_page_lists_the_sections_and_says_when_one_is_empty(enterprise):
    developer, user = enterprise
    f.staffed_project(applicant=developer, state=State.DRAFT, name="沂河湾二期")
    client = Client()
    client.force_login(user)
    html = client.get("/projects/todo/").content.decode()
    for title in ("待补正", "待上传材料", "变更申请", "期限"):
        assert title in html
    assert "沂河湾二期" in html and "没有等待补正的申报。" in html


def test_another_source_can_be_added(enterprise, monkeypatch):
    developer, user = enterprise
    project = f.staffed_project(applicant=developer, state=State.RETURNED)
    monkeypatch.setattr(todo, "SOURCES", list(todo.SOURCES))
    todo.register("comments", "审查意见待回复", lambda u: [todo.Item(project, "2 条审查意见待回复")])
    assert sections(user)["comments"].items[0].title == "2 条审查意见待回复"


def test_another_enterprises_projects_are_not_listed(enterprise):
    _developer, user = enterprise
    other = f.staffed_project(state=State.PREREVIEW_FAILED)
    other.prereviews.create(findings=[], clean=False)
    assert all(not s.items for s in todo.sections_for(user))
