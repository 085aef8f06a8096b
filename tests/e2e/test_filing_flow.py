"""Browser test: an enterprise files a project, pre-review flags the missing special plan for a deep
excavation, the enterprise uploads it, and the district regulator finds it in the review queue and opens its
review workspace (the review to the permit: test_review_to_permit.py). Playwright drives Debian's chromium
(headless)."""

from __future__ import annotations

import pytest

from jianguan.accounts.models import Department, User
from jianguan.projects import dangerous_works
from jianguan.registry.models import Enterprise
from jianguan.testing import factories as f
from jianguan.testing import files

from .conftest import login

pytestmark = pytest.mark.e2e  # the browser fixture (conftest.py) skips without chromium, fails in CI

PDF = files.PDF
BASE_DOCS = [
    "施工图设计文件",
    "施工图审查合格书",
    "建设工程规划许可证",
    "施工合同",
    "安全施工措施资料",
    "农民工工资专用账户证明",
]


@pytest.fixture
def cast(transactional_db):
    lanshan = f.division("371302", "兰山区")
    dev = f.EnterpriseFactory(kind=Enterprise.Kind.DEVELOPER, name="沂蒙置业有限公司")
    gc = f.EnterpriseFactory(kind=Enterprise.Kind.CONSTRUCTION, name="琅琊建设集团有限公司")
    sup = f.EnterpriseFactory(kind=Enterprise.Kind.SUPERVISION, name="鲁南工程监理有限公司")
    f.EnterpriseFactory(kind=Enterprise.Kind.DESIGN, name="临沂建筑设计研究院有限公司")
    f.EnterpriseFactory(kind=Enterprise.Kind.SURVEY, name="沂河岩土工程勘察有限公司")
    f.make_person(gc, "李项目", ("constructor", "safety_b"))
    f.make_person(gc, "王安全", ("safety_c",))
    f.make_person(sup, "赵总监", ("supervisor",))
    filer = f.UserFactory(username="filer", role=User.Role.ENTERPRISE_USER, enterprise=dev)
    dept = Department.objects.create(name="兰山区住房和城乡建设局", kind="housing", jurisdiction=lanshan)
    reg = f.UserFactory(
        username="regulator", role=User.Role.DISTRICT_REGULATOR, department=dept, display_name="兰山监管员"
    )
    return filer, reg


def upload(page, tmp_path, kind_label, filename, category=""):
    path = tmp_path / filename
    path.write_bytes(PDF)
    form = page.locator("#upload-form")
    form.locator("select[name=kind]").select_option(label=kind_label)
    form.locator("input[name=category]").fill(category)
    form.locator("input[name=file]").set_input_files(str(path))
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".messages li.success")


def submit(page):
    page.click("button[data-transition=submit]")
    page.wait_for_selector(".messages li")


def test_filing_to_review(asgi_live_server, browser, cast, tmp_path):
    base = asgi_live_server
    page = browser.new_page()
    login(page, base, "filer")

    # 1. File the project: a 4 m excavation is a 危大工程 (≥ 3 m) below the expert-review scale (5 m).
    page.goto(f"{base}/projects/new/")
    page.fill("#id_name", "沂蒙花园二期住宅楼")
    page.select_option("#id_project_type", label="房屋建筑")
    page.select_option("#id_jurisdiction", label="兰山区")
    page.fill("#id_address", "临沂市兰山区北京路88号")
    page.fill("#id_lat", "35.061")
    page.fill("#id_lon", "118.342")
    page.fill("#id_floors_above", "11")
    page.fill("#id_floors_below", "1")
    page.fill("#id_height_m", "34")
    page.fill("#id_param_excavation_depth_m", "4")
    page.click("main button[type=submit]")
    page.wait_for_selector("#project-state")
    assert "草稿" in page.inner_text("#project-state")

    # 2. Participants and key people.
    for role, name in [
        ("施工总承包", "琅琊建设集团有限公司"),
        ("监理单位", "鲁南工程监理有限公司"),
        ("设计单位", "临沂建筑设计研究院有限公司"),
        ("勘察单位", "沂河岩土工程勘察有限公司"),
    ]:
        form = page.locator("#participant-form")
        form.locator("select[name=role]").select_option(label=role)
        form.locator("select[name=enterprise]").select_option(label=name)
        form.locator("button").click()
        page.wait_for_selector(".messages li.success")
    for role, person in [("项目经理", "李项目"), ("专职安全员", "王安全"), ("总监理工程师", "赵总监")]:
        form = page.locator("#key-person-form")
        form.locator("select[name=role]").select_option(label=role)
        option = form.locator("select[name=person] option", has_text=person).first.get_attribute("value")
        form.locator("select[name=person]").select_option(option)
        form.locator("button").click()
        page.wait_for_selector(".messages li.success")

    # 3. The base documents, then submit: the pre-review flags the missing special plan.
    for i, label in enumerate(BASE_DOCS):
        upload(page, tmp_path, label, f"doc{i}.pdf")
    submit(page)
    assert "预审待补正" in page.inner_text("#project-state")
    findings = page.inner_text("#prereview")
    assert "专项施工方案" in findings
    assert "专家论证" not in findings  # 4 m is below the expert-review threshold

    # 4. Upload the special plan for the excavation category and resubmit.
    category = next(m.category for m in dangerous_works.match({"excavation_depth_m": 4}))
    upload(page, tmp_path, "危大工程专项施工方案", "plan.pdf", category=category)
    submit(page)
    assert "审查中" in page.inner_text("#project-state"), page.inner_text("#prereview")
    page.screenshot(path=str(tmp_path / "filed.png"))
    page.click("button:has-text('退出')")

    # 5. The district regulator finds it in the queue and reviews it in the workspace (a permit needs the
    #    two sign-offs there: test_review_to_permit.py).
    login(page, base, "regulator")
    page.click("text=审查待办")
    page.click("text=沂蒙花园二期住宅楼")
    page.wait_for_selector("#documents")
    first = page.locator("form.verdict-form").first
    first.locator("input[value=ok]").check()
    first.locator("button[type=submit]").click()
    page.wait_for_selector(".messages li.success")
    assert "合格" in page.inner_text("#documents")
    page.goto(page.url.split("/review/")[0] + "/")
    assert "审查中" in page.inner_text("#project-state")
    audit = page.inner_text("#audit")
    for fragment in ["兰山监管员", "审查结论", "上传", "创建"]:
        assert fragment in audit, audit
    page.screenshot(path=str(tmp_path / "reviewing.png"), full_page=True)
