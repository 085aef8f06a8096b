"""A filing under review, as an enterprise files it through the services, and the regulators who review it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from jianguan.accounts.models import User
from jianguan.projects import lifecycle
from jianguan.projects import services as project_services
from jianguan.projects.models import State
from jianguan.testing import factories as f
from jianguan.testing import files

BASE_DOCS = [
    "construction_drawings",
    "drawing_review_cert",
    "planning_permit",
    "contract",
    "safety_measures",
    "wage_account",
]


@pytest.fixture
def filing(lanshan_regulator, bureau_admin):
    """A housing project under review with its six base documents, its applicant's and contractor's users, two
    regulators of its district (the reviewer and the approver) and the city bureau's administrator."""
    project = f.staffed_project(state=State.DRAFT, jurisdiction=lanshan_regulator.department.jurisdiction)
    applicant = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=project.applicant, display_name="申报人")
    gc = project.participants.get(role="general_contractor").enterprise
    contractor = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=gc, display_name="总包")
    supervisor = f.UserFactory(
        role=User.Role.ENTERPRISE_USER, enterprise=project.participants.get(role="supervisor").enterprise
    )
    documents = {}
    for kind in BASE_DOCS:
        version = project_services.upload_document(
            applicant, project, kind=kind, file_name=f"{kind}.pdf", content=files.make_pdf(title=kind)
        )
        documents[kind] = version.document
    project = lifecycle.perform(project, "submit", applicant)
    assert project.state == State.UNDER_REVIEW, project.prereviews.first().findings
    approver = f.UserFactory(
        role=User.Role.DISTRICT_REGULATOR, department=lanshan_regulator.department, display_name="审批人"
    )
    lanshan_regulator.display_name = "审核人"
    lanshan_regulator.save()
    inspector = f.UserFactory(role=User.Role.INSPECTOR, department=lanshan_regulator.department)
    return SimpleNamespace(
        project=project,
        documents=documents,
        applicant=applicant,
        contractor=contractor,
        supervisor=supervisor,
        reviewer=lanshan_regulator,
        approver=approver,
        admin=bureau_admin,
        inspector=inspector,
    )
