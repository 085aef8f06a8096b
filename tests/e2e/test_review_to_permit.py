"""Browser test, the regulator's side of issue 10's "Done when": a submitted project (set up through the services);
the regulator previews a document (PDF.js) and leaves a comment on it; the enterprise uploads a new version and
replies from the project page; the regulator finds the comment carried over to the new version and closes it; two
different regulators sign (审核, 审批) and the permit is issued; the PDF certificate's QR code decodes to the public
verification page, which shows the permit, and the evidence bundle it links verifies offline. No page reports a
Content-Security-Policy violation, and the workspace and the queue fit a 390 px phone."""

from __future__ import annotations

import base64
import io
import json

import pytest
from pypdf import PdfReader

from jianguan.accounts.models import Department, User
from jianguan.ledger import services as ledger
from jianguan.ledger import verify_cli
from jianguan.projects import lifecycle
from jianguan.projects import services as project_services
from jianguan.projects.models import State
from jianguan.review import checklist, services
from jianguan.review.models import Permit, Verdict
from jianguan.testing import factories as f
from jianguan.testing import files

from .conftest import login

pytestmark = pytest.mark.e2e

COLLECT_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push([e.violatedDirective, e.blockedURI || "inline", e.sourceFile + ":" + e.lineNumber].join(" "));
});
"""
KINDS = ["construction_drawings", "drawing_review_cert", "planning_permit", "contract", "safety_measures",
         "wage_account"]  # fmt: skip


@pytest.fixture
def submitted(transactional_db):
    lanshan = f.division("371302", "兰山区")
    project = f.staffed_project(state=State.DRAFT, jurisdiction=lanshan, name="沂河湾安置房二期")
    filer = f.UserFactory(username="filer", role=User.Role.ENTERPRISE_USER, enterprise=project.applicant,
                          display_name="沂河置业申报员")  # fmt: skip
    for kind in KINDS:
        project_services.upload_document(filer, project, kind=kind, file_name=f"{kind}.pdf",
                                         content=files.make_pdf(pages=2, title=kind))  # fmt: skip
    project = lifecycle.perform(project, "submit", filer)
    assert project.state == State.UNDER_REVIEW
    bureau = Department.objects.create(name="兰山区住房和城乡建设局", kind="housing", jurisdiction=lanshan)
    reviewer = f.UserFactory(username="reviewer", role=User.Role.DISTRICT_REGULATOR, department=bureau,
                             display_name="兰山审核员")  # fmt: skip
    f.UserFactory(username="approver", role=User.Role.DISTRICT_REGULATOR, department=bureau, display_name="兰山审批员")
    # What the reviewer already settled before this session: the other documents and most checklist points.
    for document in project.documents.exclude(kind="contract"):
        services.set_verdict(reviewer, document, Verdict.OK)
    for point in checklist.POINTS[1:]:
        services.mark_point(reviewer, project, point.code, "na" if point.may_not_apply else "ok")
    return project, filer


def violations(page) -> list[str]:
    return page.evaluate("window.__csp")


def fits(page, width: int = 390) -> None:
    """Nothing in the page's content scrolls sideways at a phone's width."""
    page.set_viewport_size({"width": width, "height": 800})
    wide = page.evaluate("document.querySelector('main').scrollWidth")
    assert wide <= width, f"{page.url}: main is {wide} px wide at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def logout(page) -> None:
    page.click("button:has-text('退出')")
    page.wait_for_url("**/login/**")


def test_review_to_permit(asgi_live_server, browser, submitted, tmp_path):
    project, filer = submitted
    base = asgi_live_server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(COLLECT_CSP)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # data-confirm before signing

    # 1. The reviewer finds the filing in the queue, previews the contract and asks for a correction.
    login(page, base, "reviewer")
    page.click("text=审查待办")
    assert "沂河湾安置房二期" in page.inner_text("#queue") and "7 个自然日" in page.inner_text("#time-limit")
    fits(page)
    page.click("#queue >> text=沂河湾安置房二期")
    page.wait_for_selector("#documents")
    contract = project.documents.get(kind="contract")
    card = page.locator(f"#doc-{contract.pk}")
    card.locator("button[data-preview]").first.click()
    page.wait_for_selector(f"#preview-{contract.pk}[data-rendered='2'] canvas[data-page='2']")
    assert violations(page) == [], violations(page)  # PDF.js, its worker and fonts within the policy
    card.locator("input[value=needs_fix]").check()
    card.locator("textarea[name=comment]").fill("施工合同缺少双方签章页，请补充后重新上传")
    card.locator("button[type=submit]").click()
    page.wait_for_selector(".messages li.success")
    assert "需补正" in page.inner_text(f"#doc-{contract.pk}")
    fits(page)
    page.goto(f"{base}/projects/{project.pk}/")
    page.fill("form:has(button[data-transition=return]) textarea[name=reason]", "施工合同缺少签章页，请补正")
    page.click("button[data-transition=return]")
    page.wait_for_selector(".messages li.success")
    logout(page)

    # 2. The enterprise uploads a new version of the contract (services) and replies from the project page.
    project.refresh_from_db()
    assert project.state == State.RETURNED
    project_services.upload_document(filer, project, kind="contract", file_name="contract-v2.pdf",
                                     content=files.make_pdf(pages=3, title="签章版"), document=contract,
                                     note="补充签章页")  # fmt: skip
    login(page, base, "filer")
    page.goto(f"{base}/projects/{project.pk}/")
    block = page.locator("#review-block")
    assert "施工合同缺少双方签章页" in block.inner_text()
    block.locator("form.reply-form textarea").fill("已上传第 2 版，补充了双方签章页")
    block.locator("form.reply-form button").click()
    page.wait_for_selector(".messages li.success")
    assert "已上传第 2 版" in page.inner_text("#review-block")
    page.click("button[data-transition=submit]")
    page.wait_for_selector(".messages li")
    assert "审查中" in page.inner_text("#project-state")
    logout(page)

    # 3. The reviewer sees the comment carried over to v2, closes it, finds v2 合格, marks the last point, signs.
    login(page, base, "reviewer")
    page.goto(f"{base}/projects/{project.pk}/review/")
    card = page.locator(f"#doc-{contract.pk}")
    text = card.inner_text()
    assert "新版本待复核" in text and "提出于 v1" in text and "已上传第 2 版" in text and "v2" in text
    card.locator("form.close-form input[name=note]").fill("第 2 版已补正")
    card.locator("form.close-form button").click()
    page.wait_for_selector(".messages li.success")
    card = page.locator(f"#doc-{contract.pk}")
    card.locator("input[value=ok]").check()
    card.locator("button[type=submit]").click()
    page.wait_for_selector(".messages li.success")
    first = checklist.POINTS[0]
    page.locator(f"#point-{first.code} select[name=result]").select_option("ok")
    page.locator(f"#point-{first.code} button").click()
    page.wait_for_selector(".messages li.success")
    page.fill(
        "#review-sign-form textarea[name=opinion]",
        "经审查，申报材料齐全，符合《建筑法》第八条规定的施工许可条件，建议核发。",
    )
    page.click("#review-sign-form button[type=submit]")
    page.wait_for_selector("#signed-review")
    assert "兰山审核员" in page.inner_text("#signed-review")
    assert page.locator("#approve-sign-form").count() == 0  # the reviewer cannot also approve
    assert "审核人以外" in page.inner_text("#signoff")
    page.screenshot(path=str(tmp_path / "workspace.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 800})
    page.screenshot(path=str(tmp_path / "workspace-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    logout(page)

    # 4. A second regulator approves: the permit is issued.
    login(page, base, "approver")
    page.goto(f"{base}/projects/{project.pk}/review/")
    page.click("#approve-sign-form button[type=submit]")
    page.wait_for_selector("#permit-issued")
    assert "兰山审批员" in page.inner_text("#signed-approve")
    permit = Permit.objects.get(project=project)
    page.goto(f"{base}/projects/{project.pk}/")
    assert "已发施工许可" in page.inner_text("#project-state") and permit.number in page.inner_text("#permit")
    assert violations(page) == [], violations(page)

    # 5. The certificate's QR code opens the public verification page; its evidence bundle verifies offline.
    pdf = page.request.get(f"{base}/projects/{project.pk}/permit.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    (image,) = PdfReader(io.BytesIO(pdf.body())).pages[0].images
    import zxingcpp

    (code,) = zxingcpp.read_barcodes(image.image)
    assert code.text == f"{base}/permits/verify/{permit.verification_code}/"
    public = browser.new_context().new_page()  # anonymous: the page is public
    public.goto(code.text)
    assert permit.number in public.inner_text("#verified") and "沂河湾安置房二期" in public.inner_text("#verified")
    assert f"#{permit.ledger_index}" in public.inner_text("#evidence")
    bundle = public.request.get(base + public.locator("#bundle-link").get_attribute("href"))
    assert bundle.status == 200
    path = tmp_path / "evidence.json"
    path.write_bytes(bundle.body())
    key = public.request.get(f"{base}/.well-known/jianguan-ledger-key").text().strip()
    assert key == ledger.verifier_key()
    assert verify_cli.main([str(path), "--key", key]) == 0
    leaf = base64.b64decode(json.loads(path.read_text())["entry"]["leaf_data_b64"]).decode()
    assert permit.number in leaf and permit.verification_code in leaf
    public.screenshot(path=str(tmp_path / "verified.png"), full_page=True)
    context.close()
