"""The start of works is reported by the enterprise (the applicant or the general contractor) and confirmed by the
regulator, not clicked by the regulator alone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from jianguan.notify.models import Notification
from jianguan.projects import lifecycle
from jianguan.projects.models import State
from jianguan.review import starts
from jianguan.review.models import StartReport
from jianguan.testing.review import issue_permit


@pytest.fixture
def permitted(filing):
    issue_permit(filing.project, filing.reviewer, filing.approver)
    filing.project.refresh_from_db()
    return filing


def test_the_regulator_alone_cannot_start_the_works(permitted):
    with pytest.raises(lifecycle.TransitionError) as refused:
        lifecycle.perform(permitted.project, "start_construction", permitted.reviewer)
    assert refused.value.code == "precondition"
    with pytest.raises(PermissionDenied):  # nor does the enterprise move the state itself
        lifecycle.perform(permitted.project, "start_construction", permitted.applicant)
    with pytest.raises(PermissionDenied):
        starts.report_start(permitted.reviewer, permitted.project, timezone.localdate())


def test_the_applicant_or_the_contractor_reports_and_the_regulator_confirms(permitted):
    with pytest.raises(PermissionDenied):
        starts.report_start(permitted.supervisor, permitted.project, timezone.localdate())
    report = starts.report_start(permitted.contractor, permitted.project, timezone.localdate(), "基坑开挖")
    assert Notification.objects.filter(recipient=permitted.reviewer, topic="works.start_reported").exists()
    with pytest.raises(starts.ReviewConflict):
        starts.report_start(permitted.applicant, permitted.project, timezone.localdate())
    with pytest.raises(PermissionDenied):
        starts.decide(permitted.applicant, report, True)
    starts.decide(permitted.reviewer, report, True, "现场核实已开工")
    permitted.project.refresh_from_db()
    assert permitted.project.state == State.UNDER_CONSTRUCTION
    step = permitted.project.transitions.get(name="start_construction")
    assert step.actor == permitted.reviewer and report.started_on.isoformat() in step.reason
    assert StartReport.objects.get().decision == "confirmed"


def test_a_declined_report_needs_a_reason_and_leaves_the_project_permitted(permitted):
    report = starts.report_start(permitted.applicant, permitted.project, timezone.localdate())
    with pytest.raises(ValidationError):
        starts.decide(permitted.reviewer, report, False, "")
    starts.decide(permitted.reviewer, report, False, "现场尚未开工")
    permitted.project.refresh_from_db()
    assert permitted.project.state == State.PERMITTED
    starts.report_start(permitted.applicant, permitted.project, timezone.localdate())  # may report again


def test_a_start_date_in_the_future_or_before_the_permit_is_refused(permitted):
    for day in (timezone.localdate() + dt.timedelta(days=1), timezone.localdate() - dt.timedelta(days=30)):
        with pytest.raises(ValidationError):
            starts.report_start(permitted.applicant, permitted.project, day)


def test_the_project_page_offers_the_report_and_the_confirmation(permitted):
    applicant, regulator = Client(), Client()
    applicant.force_login(permitted.applicant)
    regulator.force_login(permitted.reviewer)
    url = f"/projects/{permitted.project.pk}/"
    assert 'id="start-form"' in applicant.get(url).content.decode()
    applicant.post(f"{url}start/", {"started_on": timezone.localdate().isoformat(), "note": "主体开工"})
    report = StartReport.objects.get()
    page = regulator.get(url).content.decode()
    assert 'id="confirm-start"' in page and "主体开工" in page
    regulator.post(f"/projects/review/starts/{report.pk}/confirm/", {"note": ""})
    permitted.project.refresh_from_db()
    assert permitted.project.state == State.UNDER_CONSTRUCTION
