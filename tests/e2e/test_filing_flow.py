"""Browser tests at phone size (390 × 844): an enterprise files a project — location pasted from 高德 and converted,
participants and key people from the pickers (htmx), the checklist's rows uploaded in place with a file filed as
the wrong kind flagged — submits with items missing (the question says how many), corrects a wrong key person and
a wrong document after the pre-review sent it back, and resubmits (补正后重新提交); then the district regulator
reviews it in the workspace (the review to the permit, with the two sign-offs:
test_review_to_permit.py). No page of the journey scrolls sideways, none reports a Content-Security-Policy
violation.
Playwright drives Debian's chromium (headless)."""

from __future__ import annotations

import pytest

from jianguan.accounts.models import Department, User
from jianguan.core import geo
from jianguan.projects.models import Correction, Project
from jianguan.registry.models import Enterprise
from jianguan.testing import factories as f
from jianguan.testing import files

from .conftest import login

pytestmark = pytest.mark.e2e  # the browser fixture (conftest.py) skips without chromium, fails in CI

PHONE = {"width": 390, "height": 844}
COLLECT = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push([e.violatedDirective, e.blockedURI || "inline", e.sourceFile + ":" + e.lineNumber].join(" "));
});
"""


@pytest.fixture
def cast(transactional_db):
    lanshan = f.division("371302", "兰山区")
    lanshan.boundary = {"type": "Polygon", "coordinates": [[[118.20, 34.95], [118.50, 34.95], [118.50, 35.20],
                                                            [118.20, 35.20], [118.20, 34.95]]]}  # fmt: skip
    lanshan.save()
    dev = f.EnterpriseFactory(kind=Enterprise.Kind.DEVELOPER, name="沂蒙置业有限公司")
    gc = f.EnterpriseFactory(kind=Enterprise.Kind.CONSTRUCTION, name="琅琊建设集团有限公司")
    sup = f.EnterpriseFactory(kind=Enterprise.Kind.SUPERVISION, name="鲁南工程监理有限公司")
    f.EnterpriseFactory(kind=Enterprise.Kind.DESIGN, name="临沂建筑设计研究院有限公司")
    f.EnterpriseFactory(kind=Enterprise.Kind.SURVEY, name="沂河岩土工程勘察有限公司")
    f.EnterpriseFactory(kind=Enterprise.Kind.SURVEY, name="过期勘察院有限公司").qualifications.update(
        valid_until="2024-01-31"
    )
    f.make_person(gc, "张错登", ("constructor", "safety_b"))  # qualified, but not the project's manager
    f.make_person(gc, "李项目", ("constructor", "safety_b"))
    f.make_person(gc, "钱无证", ())
    f.make_person(gc, "王安全", ("safety_c",))
    f.make_person(sup, "赵总监", ("supervisor",))
    filer = f.UserFactory(username="filer", role=User.Role.ENTERPRISE_USER, enterprise=dev)
    dept = Department.objects.create(name="兰山区住房和城乡建设局", kind="housing", jurisdiction=lanshan)
    f.UserFactory(username="regulator", role=User.Role.DISTRICT_REGULATOR, department=dept, display_name="兰山监管员")
    return filer


def fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width} px"


def pick(page, form: str, slot: str, role: str, name: str) -> None:
    """Chooses from a picker on the project page: the role (its results swapped in by htmx), the radio, 登记."""
    select = page.locator(f"#{form} select[name=role]")
    results = page.locator(f"#{slot} .picker-results[data-role-label='{role}']")  # the role's, not the last one's
    if select.locator("option:checked").inner_text() != role:
        select.select_option(label=role)
    elif not results.count():
        page.locator(f"#{form} button[type=submit]").click()  # 搜索
    choice = results.locator(".candidate", has_text=name).locator("input[type=radio]")
    choice.check()
    with page.expect_navigation():  # the page reloads with the registration (and its message)
        results.locator("button[type=submit]").click()
    page.wait_for_selector(".messages li.success")


def row_upload(page, tmp_path, key: str, title: str, content: bytes | None = None) -> None:
    path = tmp_path / f"{key}.pdf"
    path.write_bytes(content or files.make_pdf(title=title))
    row = page.locator(f"#{key}")
    row.locator("input[type=file]").set_input_files(str(path))
    row.locator("button[type=submit]").click()
    page.wait_for_selector(f"#{key}.done")


def test_an_enterprise_files_corrects_and_resubmits_on_a_phone(asgi_live_server, browser, cast, tmp_path):
    base = asgi_live_server
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.add_init_script(COLLECT)
    page = context.new_page()
    questions: list[str] = []

    def answer(dialog):
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    violations: dict[str, list[str]] = {}

    def check(name: str) -> None:
        fits(page)
        found = page.evaluate("window.__csp")
        if found:
            violations[name] = found

    login(page, base, "filer")
    assert page.url == f"{base}/projects/todo/"
    check("todo")

    # 1. The form: the location pasted from 高德 (GCJ-02) is converted on the server and named.
    page.goto(f"{base}/projects/new/")  # waits for "load": the deferred scripts have run
    page.wait_for_selector("#map-picker.leaflet-container")
    page.fill("#id_name", "沂蒙花园二期住宅楼")
    page.select_option("#id_project_type", label="房屋建筑")
    page.select_option("#id_jurisdiction", label="兰山区")
    page.fill("#id_address", "临沂市兰山区北京路88号")
    page.select_option("#id_coord_system", value="gcj02")
    page.fill("#id_paste", "118.356,35.104")
    page.locator("#id_paste").dispatch_event("change")
    page.wait_for_selector("text=GCJ-02 → WGS-84")
    wgs = geo.gcj02_to_wgs84(35.104, 118.356)
    assert abs(float(page.input_value("#id_lat")) - wgs[0]) < 1e-5
    page.fill("#id_floors_above", "11")
    page.fill("#id_floors_below", "1")
    page.fill("#id_height_m", "34")
    # The complex-surroundings box shows once a depth is given; the scaffold group is "不涉及".
    complex_box = page.locator("[data-requires=param_excavation_depth_m]")
    assert complex_box.is_hidden()
    page.fill("#id_param_excavation_depth_m", "4")
    complex_box.wait_for(state="visible")
    page.locator("fieldset", has_text="脚手架工程").locator(".none-box input").check()
    check("form")
    with page.expect_navigation():  # to the project page, loaded (its htmx processed the forms)
        page.click("#project-form button[type=submit]")
    page.wait_for_selector("#project-state")
    project = Project.objects.get(name="沂蒙花园二期住宅楼")
    assert abs(project.lat - wgs[0]) < 1e-6 and "草稿" in page.inner_text("#project-state")
    page.evaluate("window.__stay = 'same page'")  # gone if an upload reloaded the page

    # 2. Participants and key people from the pickers; an expired qualification and a missing certificate say why.
    page.locator("#participant-form select[name=role]").select_option(label="勘察单位")
    page.wait_for_selector("#participant-picker [data-role-label='勘察单位'] .why-not")
    assert "过期勘察院有限公司的资质已于2024-01-31过期" in page.inner_text("#participant-picker")
    check("picker")
    participants = [("施工总承包", "琅琊建设集团有限公司"), ("监理单位", "鲁南工程监理有限公司"),
                    ("设计单位", "临沂建筑设计研究院有限公司"), ("勘察单位", "沂河岩土工程勘察有限公司")]  # fmt: skip
    for role, name in participants:
        pick(page, "participant-form", "participant-picker", role, name)
    page.locator("#key-person-form button[type=submit]").click()  # 搜索: the post shown first, 项目经理
    page.wait_for_selector("#key-person-picker [data-role-label='项目经理'] .why-not")
    assert "钱无证" in page.inner_text("#key-person-picker") and "无注册建造师证书" in page.inner_text(
        "#key-person-picker"
    )
    for role, person in [("项目经理", "张错登"), ("专职安全员", "王安全"), ("总监理工程师", "赵总监")]:
        pick(page, "key-person-form", "key-person-picker", role, person)
    check("project page")

    # 3. The checklist's rows, uploaded in place; the contract filed by mistake as the review certificate too.
    page.evaluate("window.__stay = 'same page'")
    contract = files.make_pdf(title="施工合同")
    for key, title in [("req-construction_drawings", "施工图"), ("req-planning_permit", "规划许可"),
                       ("req-safety_measures", "安全措施"), ("req-wage_account", "工资专户")]:  # fmt: skip
        row_upload(page, tmp_path, key, title)
    row_upload(page, tmp_path, "req-drawing_review_cert", "", contract)
    row_upload(page, tmp_path, "req-contract", "", contract)
    assert "请核对是否传错" in page.inner_text("#req-contract")  # flagged to the uploader at once
    assert page.evaluate("window.__stay") == "same page"  # no page reload
    assert "缺 1 项" in page.inner_text("#checklist-summary")  # the special plan for the 4 m excavation

    # 4. Submitting with an item missing asks first, with the count; the pre-review sends it back.
    with page.expect_navigation():
        page.click("button[data-transition=submit]")
    page.wait_for_selector(".messages li")
    assert questions and "还缺少 1 项（申报材料 1 项）" in questions[-1]
    assert "预审待补正" in page.inner_text("#project-state")

    # 5. Corrections after submission: the wrong manager replaced, the wrong document withdrawn, each with a reason.
    manager = page.locator("#key-people li", has_text="张错登")
    manager.locator("summary").click()
    with page.expect_navigation():
        manager.locator("text=更换人员").click()
    page.locator(".candidate", has_text="李项目").locator("input[type=radio]").check()
    page.fill("#picker-slot input[name=reason]", "登记错人：项目经理应为李项目")
    check("replacement picker")
    with page.expect_navigation():
        page.click("#picker-slot button[type=submit]")
    page.wait_for_selector(".messages li.success")
    assert "李项目" in page.inner_text("#key-people") and "张错登" not in page.inner_text("#key-people")
    wrong = page.locator("#documents-list > ul > li", has_text="施工图审查合格书")
    wrong.locator("summary").click()
    wrong.locator("input[name=reason]").fill("误将施工合同作为审查合格书上传")
    with page.expect_navigation():
        wrong.locator("text=撤回此文件").click()
    page.wait_for_selector(".messages li.success")
    assert "撤回" in questions[-1]
    row_upload(page, tmp_path, "req-drawing_review_cert", "施工图审查合格书")
    row_upload(page, tmp_path, "req-special_plan-0", "基坑专项施工方案")
    assert "已齐全" in page.inner_text("#checklist-summary")
    records = page.inner_text("#corrections")
    assert "提交后更正" in records and "张错登" in records and "登记错人" in records
    check("corrected")

    # 6. Resubmitted: the action says so, and nothing is missing now.
    asked = len(questions)
    button = page.locator("button[data-transition=submit]")
    assert button.inner_text() == "补正后重新提交"
    with page.expect_navigation():
        button.click()
    page.wait_for_selector(".messages li")
    assert len(questions) == asked  # complete: no question
    assert "审查中" in page.inner_text("#project-state"), page.inner_text("#prereview")
    assert Correction.objects.filter(project=project, stage="filed").count() == 2
    page.screenshot(path=str(tmp_path / "filed-phone.png"), full_page=True)
    page.click("button:has-text('退出')")

    # 7. The district regulator finds it in the queue and reviews it in the workspace (a permit needs the two
    #    sign-offs there: test_review_to_permit.py); the audit trail (folded) has the steps.
    login(page, base, "regulator")
    page.click("text=审查待办")
    page.click(f"text={project.name}")
    page.wait_for_selector("#documents")
    first = page.locator("form.verdict-form").first
    first.locator("input[value=ok]").check()
    first.locator("button[type=submit]").click()
    page.wait_for_selector(".messages li.success")
    assert "合格" in page.inner_text("#documents")
    page.goto(f"{base}/projects/{project.pk}/")
    assert "审查中" in page.inner_text("#project-state")
    page.locator("#audit summary").click()
    audit = page.inner_text("#audit")
    for fragment in ["兰山监管员", "审查结论", "上传", "创建", "补正后重新提交"]:
        assert fragment in audit, audit
    check("regulator's project page")
    page.goto(f"{base}/projects/changes/")
    check("变更审批")
    assert violations == {}
    context.close()


def test_the_filing_pages_fit_a_360_px_screen(asgi_live_server, browser, cast):
    project = f.staffed_project(state="draft", applicant=cast.enterprise, parameters={"excavation_depth_m": 6.0})
    base = asgi_live_server
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    login(page, base, "filer")
    post = project.key_people.get(role="project_manager")
    for path in ["/projects/todo/", f"/projects/{project.pk}/", "/projects/new/",
                 f"/projects/{project.pk}/pick/participant/?role=designer",
                 f"/projects/{project.pk}/pick/key-person/?replace={post.pk}"]:  # fmt: skip
        page.goto(base + path)
        page.wait_for_load_state("load")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} scrolls sideways at 360 px: {width} px"
    context.close()
