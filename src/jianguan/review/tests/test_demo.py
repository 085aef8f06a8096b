"""The review room's demo data on a small world: a second signer per district, issued permits with both
signatures in the evidence log, a workspace with comments, a project waiting for its 审批, a reported start."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from jianguan.accounts.models import User
from jianguan.ledger.models import LedgerEntry
from jianguan.projects import lifecycle
from jianguan.projects import services as project_services
from jianguan.projects.models import Project, State, Transition
from jianguan.review import demo, queue, signoffs
from jianguan.review.models import Permit, ReviewComment, SignOff, StartReport
from jianguan.testing import factories as f
from jianguan.testing import files

from .conftest import BASE_DOCS


def _under_review(lanshan, filer) -> Project:
    project = f.staffed_project(state=State.DRAFT, jurisdiction=lanshan, is_demo=True)
    Project.objects.filter(pk=project.pk).update(applicant=filer.enterprise)
    project.refresh_from_db()
    project.participants.filter(role="owner").update(enterprise=filer.enterprise)
    for kind in BASE_DOCS:
        project_services.upload_document(filer, project, kind=kind, file_name=f"{kind}.pdf", content=files.PDF)
    project = lifecycle.perform(project, "submit", filer)
    assert project.state == State.UNDER_REVIEW, project.prereviews.first().findings
    return project


def test_the_demo_shows_permits_comments_a_waiting_approval_and_a_reported_start(lanshan, lanshan_regulator):
    lanshan_regulator.username = "lanshan_reg"
    lanshan_regulator.save()
    dev = f.UserFactory(username="dev_user", role=User.Role.ENTERPRISE_USER,
                        enterprise=f.EnterpriseFactory(kind="developer"))  # fmt: skip
    f.UserFactory(username="builder_user", role=User.Role.ENTERPRISE_USER,
                  enterprise=f.EnterpriseFactory(kind="construction"))  # fmt: skip
    commented, waiting = _under_review(lanshan, dev), _under_review(lanshan, dev)
    permitted = f.staffed_project(state=State.PERMITTED, jurisdiction=lanshan, is_demo=True,
                                  permit_number="3713022026030100120", permitted_at=timezone.now())  # fmt: skip
    Transition.objects.create(
        project=permitted, name="approve", from_state=State.UNDER_REVIEW, to_state=State.PERMITTED
    )

    logins = demo.seed_review(lambda message: None, "pw")

    assert [u for u, *_ in logins] == ["lanshan_chief"]
    chief = User.objects.get(username="lanshan_chief")
    permit = Permit.objects.get(project=permitted)
    assert (permit.review_signoff.signer, permit.approve_signoff.signer) == (lanshan_regulator, chief)
    for index in (permit.ledger_index, permit.review_signoff.ledger_index, permit.approve_signoff.ledger_index):
        assert LedgerEntry.objects.filter(index=index).exists()
    assert permit.facts["owner"] == dev.enterprise.name  # filed by the demo enterprise before the permit was issued
    assert StartReport.objects.get(project=permitted).decision == "pending"
    assert ReviewComment.objects.filter(project=commented, status="open").count() == 2
    assert ReviewComment.objects.filter(project=commented, replies__author=dev).exists()
    assert signoffs.signed(waiting, SignOff.Stage.REVIEW).signer == lanshan_regulator
    assert signoffs.signed(waiting, SignOff.Stage.APPROVE) is None
    rows = {p.pk: queue.row(p) for p in queue.queue(chief)}
    assert rows[waiting.pk].stage == "approve" and rows[permitted.pk].stage == "start"
    for project in (commented, waiting):
        complete = project.transitions.filter(to_state=State.UNDER_REVIEW).latest("at").at
        assert timezone.now() - dt.timedelta(days=13) < complete <= timezone.now()
    previewable = commented.documents.get(kind="contract").versions.order_by("-number").first()
    assert previewable.number == 2 and previewable.content_type == "application/pdf"
