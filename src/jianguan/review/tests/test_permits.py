"""Permits as a legal act: a written review opinion (审核) after every document, comment and checklist point is
settled, then 审批 by another person where the bureau requires it; each signature audited and in the evidence log;
the permit's certificate (PDF) with a QR code that opens the public verification page, whose evidence bundle
verifies offline."""

from __future__ import annotations

import base64
import io
import os

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from pypdf import PdfReader

from jianguan.core.models import AuditEvent
from jianguan.ledger import services as ledger
from jianguan.ledger.bundle import verify_bundle
from jianguan.ledger.models import LedgerEntry
from jianguan.notify.models import Notification
from jianguan.projects import lifecycle
from jianguan.projects.models import State
from jianguan.review import certificate, permits, services, signoffs
from jianguan.review.models import Permit, SignOff, Verdict
from jianguan.testing.review import clear_for_review, issue_permit

OPINION = "经审查，申报材料齐全，符合《建筑法》第八条规定的施工许可条件，建议核发。"


def test_the_review_signature_waits_for_documents_comments_and_checklist(filing):
    project = filing.project
    services.set_verdict(filing.reviewer, filing.documents["contract"], Verdict.NEEDS_FIX, "缺签章页")
    with pytest.raises(services.ReviewConflict) as refused:
        signoffs.sign_review(filing.reviewer, project, OPINION)
    message = refused.value.message
    assert "份文件未审查合格" in message and "1 条审查意见尚未关闭" in message and "审查要点未填写" in message
    assert refused.value.code == "precondition"
    assert not SignOff.objects.exists()


def test_the_review_signature_needs_a_written_opinion(filing):
    clear_for_review(filing.project, filing.reviewer)
    with pytest.raises(ValidationError):
        signoffs.sign_review(filing.reviewer, filing.project, "   ")


def test_the_permit_needs_a_second_person_by_default(filing):
    clear_for_review(filing.project, filing.reviewer)
    signoffs.sign_review(filing.reviewer, filing.project, OPINION)
    with pytest.raises(PermissionDenied, match="审核人以外"):
        signoffs.sign_approval(filing.reviewer, filing.project, "同意")
    filing.project.refresh_from_db()
    assert filing.project.state == State.UNDER_REVIEW and not Permit.objects.exists()


def test_one_person_may_sign_both_where_the_bureau_does_not_require_two(filing, settings):
    settings.PERMIT_SECOND_SIGNOFF = False
    issue_permit(filing.project, filing.reviewer, filing.reviewer)
    filing.project.refresh_from_db()
    assert filing.project.state == State.PERMITTED


def test_a_permit_is_not_issued_by_the_plain_transition(filing):
    """The generic lifecycle route (and page) refuses `approve` without the two signatures: the only way to a
    permit is the workspace's 审批."""
    clear_for_review(filing.project, filing.reviewer)
    with pytest.raises(lifecycle.TransitionError) as refused:
        lifecycle.perform(filing.project, "approve", filing.reviewer, "同意")
    assert refused.value.code == "precondition" and "审核" in refused.value.message
    signoffs.sign_review(filing.reviewer, filing.project, OPINION)
    with pytest.raises(lifecycle.TransitionError):
        lifecycle.perform(filing.project, "approve", filing.approver, "同意")  # no 审批 signed by the approver
    assert "approve" not in [name for name, _ in lifecycle.available(filing.approver, filing.project)]


def test_signatures_of_an_earlier_submission_do_not_count(filing):
    project = filing.project
    clear_for_review(project, filing.reviewer)
    signoffs.sign_review(filing.reviewer, project, OPINION)
    project = lifecycle.perform(project, "return", filing.approver, "规划许可证已过期，请更新")
    project = lifecycle.perform(project, "submit", filing.applicant)
    assert project.state == State.UNDER_REVIEW
    with pytest.raises(services.ReviewConflict, match="须先完成审核"):
        signoffs.sign_approval(filing.approver, project, "同意")


def test_issuing_records_who_and_when_in_the_audit_and_the_evidence_log(filing):
    permit = issue_permit(filing.project, filing.reviewer, filing.approver, opinion=OPINION)
    review, approval = SignOff.objects.order_by("at")
    assert (review.stage, review.signer, review.opinion) == ("review", filing.reviewer, OPINION)
    assert (approval.stage, approval.signer) == ("approve", filing.approver)
    assert permit.review_signoff == review and permit.approve_signoff == approval
    for signoff in (review, approval):
        entry = LedgerEntry.objects.get(index=signoff.ledger_index)
        assert entry.record_type == "review.signoff" and entry.scope == f"project:{filing.project.pk}"
        assert signoff.signer.username in entry.leaf_data and signoff.opinion in entry.leaf_data
    labels = list(AuditEvent.objects.filter(project=filing.project).values_list("object_label", flat=True))
    assert any(label.startswith("审核签署") for label in labels) and any(
        label.startswith("审批签署") for label in labels
    )
    assert any(label == f"核发施工许可证 {permit.number}" for label in labels)
    entry = permits.ledger_entry(permit)
    assert entry.record_type == "review.permit" and permit.number in entry.leaf_data
    assert filing.reviewer.username not in entry.leaf_data  # the public entry names no official's account
    assert Notification.objects.filter(recipient=filing.applicant, topic="filing.permitted").exists()
    assert permit.facts["contractor"] and permit.facts["project_manager"] == "李经理"


@pytest.fixture
def renders():
    reason = certificate.unavailable_reason()
    if reason and not os.environ.get("CI"):
        pytest.skip(reason)  # CI installs what the certificate needs (./run: fonts-noto-cjk); elsewhere say why


def test_the_certificate_carries_the_permit_and_a_qr_code_of_its_verification_page(filing, renders, settings):
    settings.SITE_URL = "https://jg.example.gov.cn"
    permit = issue_permit(filing.project, filing.reviewer, filing.approver)
    client = Client()
    client.force_login(filing.applicant)
    response = client.get(f"/projects/{filing.project.pk}/permit.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = reader.pages[0].extract_text()
    for fragment in ("建筑工程施工许可证", permit.number, filing.project.name, permit.issuer):
        assert fragment in text, fragment
    fonts = {str(f["/BaseFont"]) for f in _fonts(reader)}
    assert any("Noto-Serif-CJK-SC" in name for name in fonts), fonts  # the Chinese text is embedded, not a stand-in

    import zxingcpp

    (image,) = reader.pages[0].images
    decoded = [code.text for code in zxingcpp.read_barcodes(image.image)]
    assert decoded == [f"https://jg.example.gov.cn/permits/verify/{permit.verification_code}/"]


def _fonts(reader):
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            yield font.get_object()


def test_the_verification_page_is_public_and_its_evidence_bundle_verifies_offline(filing):
    permit = issue_permit(filing.project, filing.reviewer, filing.approver)
    anonymous = Client()
    page = anonymous.get(f"/permits/verify/{permit.verification_code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert permit.number in html and filing.project.name in html and f"#{permit.ledger_index}" in html
    bundle = anonymous.get(f"/permits/verify/{permit.verification_code}/evidence.json")
    assert bundle.status_code == 200
    report = verify_bundle(bundle.json(), ledger.verifier_key())
    assert report.ok, [c.message for c in report.checks if not c.ok]
    leaf = base64.b64decode(bundle.json()["entry"]["leaf_data_b64"]).decode()
    assert permit.number in leaf and permit.verification_code in leaf
    assert anonymous.get("/permits/verify/NOSUCHCODE2345/").status_code == 404
    assert anonymous.get("/permits/verify/not-a-code!/").status_code == 404
    api = anonymous.get(f"/api/public/permits/{permit.verification_code}")
    assert api.status_code == 200 and api.json()["ledger_index"] == permit.ledger_index
