"""Issue 8, finding 3: who may add a version depends on the document's kind and the participant's role; a
replacement keeps who replaced it and why."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from jianguan.accounts.models import User
from jianguan.projects import permissions, services
from jianguan.projects.models import DocumentKind, State
from jianguan.testing import factories as f
from jianguan.testing import files

PDF = files.make_pdf(title="施工合同")


@pytest.fixture
def works(db):
    project = f.staffed_project(state=State.DRAFT)
    users = {
        role: f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=project.participants.get(role=role).enterprise)
        for role in ("general_contractor", "supervisor", "designer")
    }
    users["applicant"] = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=project.applicant)
    contract = services.upload_document(
        users["applicant"], project, kind="contract", file_name="contract.pdf", content=PDF
    ).document
    project.state = State.UNDER_CONSTRUCTION
    project.save()
    return project, users, contract


def test_the_supervisor_cannot_replace_the_construction_contract(works):
    _project, users, contract = works
    api = Client()
    api.force_login(users["supervisor"])
    answer = api.post(
        f"/api/documents/{contract.pk}/versions",
        {"file": _file("forged.pdf"), "note": "更新"},
    )
    assert answer.status_code == 403
    assert contract.versions.count() == 1 and contract.latest.uploaded_by == users["applicant"]


def test_the_contractor_replaces_the_contract_and_says_why(works):
    project, users, contract = works
    with pytest.raises(ValidationError):
        services.upload_document(
            users["general_contractor"], project, kind="contract", file_name="c2.pdf", content=PDF, document=contract
        )
    version = services.upload_document(
        users["general_contractor"],
        project,
        kind="contract",
        file_name="c2.pdf",
        content=files.make_pdf(title="施工合同（补签章页）"),
        document=contract,
        note="补充签章页",
    )
    assert (version.number, version.uploaded_by, version.note) == (2, users["general_contractor"], "补充签章页")


def test_a_designer_adds_drawings_but_not_a_test_report(works):
    project, users, _contract = works
    designer = users["designer"]
    assert permissions.can_upload(designer, project, DocumentKind.CONSTRUCTION_DRAWINGS)
    with pytest.raises(PermissionDenied):
        services.upload_document(designer, project, kind="test_report", file_name="t.pdf", content=PDF)
    kinds = permissions.uploadable_kinds(designer, project)
    assert DocumentKind.TEST_REPORT not in kinds and DocumentKind.PROGRESS_PHOTO in kinds


def test_the_page_offers_only_the_kinds_the_user_may_upload(works):
    project, users, _contract = works
    page = Client()
    page.force_login(users["supervisor"])
    html = page.get(f"/projects/{project.pk}/").content.decode()
    form = html.split('id="upload-form"', 1)[1].split("</form>", 1)[0]
    assert 'value="test_report"' in form and 'value="contract"' not in form


def _file(name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF, content_type="application/pdf")
