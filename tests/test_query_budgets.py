"""Query budgets: every list page and every list endpoint of the API makes the same number of queries whether it
lists a few rows or three times as many, and no more than its budget (NetBox-style: the expected counts live
here and a change that adds a query per row, or a query at all, fails). A list route missing from the table
fails too, so a new room's lists cannot slip past.

Budgets are measured as the city bureau's administrator (or anonymously for the public portal), on the second
request of a session (the first one warms per-process caches such as the limit rules), with the public
response cache off: these are the database's costs of a cache miss.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from jianguan.accounts.models import ApiToken, User
from jianguan.core import audit
from jianguan.notify.models import Notification
from jianguan.projects.models import (
    Correction,
    Document,
    DocumentVersion,
    KeyPerson,
    Participant,
    ProgressReport,
    ProjectChangeRequest,
    State,
)
from jianguan.registry.models import Enterprise
from jianguan.review.models import CommentReply, DocumentVerdict, ReviewComment, SignOff, StartReport
from jianguan.sites.models import (
    ActuatorCommand,
    Alarm,
    CraneOperatorCheck,
    Device,
    DeviceChangeRequest,
    LimitRule,
    Reading,
    ReadingAggregate,
)
from jianguan.testing import factories as f

_serial = itertools.count(1)
DIVISIONS = iter([(f"3713{k:02d}", f"测试县{k}") for k in range(40, 99)])


def _project(world, state=State.UNDER_CONSTRUCTION, jurisdiction=None):
    project = f.ProjectFactory(state=state, jurisdiction=jurisdiction or world.lanshan)
    Participant.objects.bulk_create(
        [
            Participant(project=project, enterprise=project.applicant, role="owner"),
            Participant(
                project=project,
                enterprise=f.EnterpriseFactory(kind=Enterprise.Kind.CONSTRUCTION),
                role="general_contractor",
            ),
        ]
    )
    return project


def _projects(state):
    def grow(world, n):
        for _ in range(n):
            _project(world, state)

    return grow


def _device(project, kind="dust_noise"):
    return Device.objects.create(project=project, name=f"设备{next(_serial)}", kind=kind, protocol="hj212",
                                 mn=f"QB{next(_serial):06d}", last_seen_at=timezone.now())  # fmt: skip


def _alarm(world, device):
    return Alarm.objects.create(
        project=device.project, device=device, rule=world.rule, parameter="a34004", severity="warning",
        raised_at=timezone.now(), first_value=90, last_value=90, peak_value=90,
    )  # fmt: skip


def grow_alarms(world, n):
    for _ in range(n):  # each on its own project and device: a per-row look-up of either would show
        _alarm(world, _device(_project(world)))


def grow_monitors(world, n):
    for _ in range(n):  # each in another district: the limits that mark a value as over differ by district
        device = _device(_project(world, jurisdiction=f.division(*next(DIVISIONS))))
        for parameter in ("a34004", "a34002", "LA"):
            Reading.objects.create(device=device, parameter=parameter, series=0, value=80.0, flag="N",
                                   ts=timezone.now() - dt.timedelta(minutes=2))  # fmt: skip
        _alarm(world, device)


def grow_participants(world, n):
    for _ in range(n):
        Participant.objects.create(project=world.project, enterprise=f.EnterpriseFactory(), role="subcontractor")


def grow_key_people(world, n):
    for _ in range(n):
        person = f.make_person(world.gc, certs=("constructor", "safety_b"))
        KeyPerson.objects.create(project=world.project, person=person, role="project_manager")


def _document(world, kind="construction_plan"):
    document = Document.objects.create(project=world.project, kind=kind, title=f"文件{next(_serial)}",
                                       created_by=world.admin)  # fmt: skip
    for number in (1, 2):
        DocumentVersion.objects.create(document=document, number=number, file=f"x/{document.pk}-{number}.pdf",
                                       original_name="a.pdf", extension=".pdf", content_type="application/pdf",
                                       size=10, sha256="0" * 64, uploaded_by=world.admin)  # fmt: skip
    return document


def grow_documents(world, n):
    for _ in range(n):
        _document(world)


def grow_reports(world, n):
    for _ in range(n):
        report = ProgressReport.objects.create(project=world.project, author=world.admin, enterprise=world.gc,
                                               report_date=timezone.localdate(), percent_complete=50,
                                               summary="进展")  # fmt: skip
        report.photos.add(_document(world, "progress_photo"))


def grow_audit(world, n):
    for _ in range(n):
        audit.record(f.UserFactory(), "update", world.project, project=world.project, changes={"name": "x"})


def grow_devices(world, n):
    for _ in range(n):
        _device(world.project)


def grow_device_changes(world, n):
    user = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=world.gc)
    for _ in range(n):
        DeviceChangeRequest.objects.create(project=world.project, device=_device(world.project), action="retire",
                                           reason="拆除", summary="停用", requested_by=user)  # fmt: skip


def grow_readings(world, n):
    for _ in range(n):
        Reading.objects.create(device=world.device, parameter="a34004", series=0, value=50.0, flag="N",
                               ts=timezone.now() - dt.timedelta(minutes=next(_serial)))  # fmt: skip


def grow_aggregates(world, n):
    for _ in range(n):
        start = timezone.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=next(_serial))
        ReadingAggregate.objects.create(device=world.device, parameter="a34004", series=0, bucket="hour",
                                        start=start, count=60, total=3000.0, computed_at=timezone.now())  # fmt: skip


def grow_crane_checks(world, n):
    for _ in range(n):
        crane = _device(world.project, kind="crane")
        CraneOperatorCheck.objects.create(device=crane, person=f.make_person(world.gc), id_number_masked="3713**",
                                          ts=timezone.now(), ok=False, reasons=["unregistered"],
                                          messages=["未登记"])  # fmt: skip


def grow_commands(world, n):
    for _ in range(n):
        ActuatorCommand.objects.create(command_id=f"cmd-{next(_serial)}", device=_device(world.project, "sprinkler"),
                                       alarm=world.alarm, action="on", issued_by=world.admin)  # fmt: skip


def grow_jurisdictions(world, n):
    for _ in range(n):
        f.division(*next(DIVISIONS))


def grow_enterprises(world, n):
    for _ in range(n):
        f.EnterpriseFactory()


def grow_limits(world, n):
    for _ in range(n):
        LimitRule.objects.create(name=f"兰山规则{next(_serial)}", parameter="a34004", jurisdiction=world.lanshan,
                                 warning=70.0, source="测试")  # fmt: skip


def grow_tokens(world, n):
    for _ in range(n):
        ApiToken.issue(world.admin, f"令牌{next(_serial)}")


def grow_notifications(world, n):
    for _ in range(n):
        Notification.objects.create(recipient=world.admin, title="告警", topic="alarm.raise", url="/sites/alarms/")


def _comment(world, document=None):
    comment = ReviewComment.objects.create(project=world.project, document=document, author=world.admin,
                                           body=f"意见{next(_serial)}")  # fmt: skip
    CommentReply.objects.create(comment=comment, author=world.admin, body="回复")
    return comment


def grow_review_comments(world, n):
    for _ in range(n):
        _comment(world, _document(world, "contract"))


def grow_reviewed_documents(world, n):
    for _ in range(n):  # each with a verdict on its latest version, an open comment and a reply
        document = _document(world, "contract")
        DocumentVerdict.objects.create(document=document, version=document.versions.last(), verdict="needs_fix",
                                       reviewer=f.UserFactory())  # fmt: skip
        _comment(world, document)


def grow_signoffs(world, n):
    for _ in range(n):
        SignOff.objects.create(project=world.project, stage="review", signer=f.UserFactory(), opinion="同意",
                               round=next(_serial))  # fmt: skip


def grow_start_reports(world, n):
    for _ in range(n):
        StartReport.objects.create(project=world.project, reported_by=f.UserFactory(), enterprise=world.gc,
                                   started_on=timezone.localdate(), decision="declined")  # fmt: skip


def grow_corrections(world, n):
    for _ in range(n):
        Correction.objects.create(project=world.project, stage="filed", subject="participant", action="remove",
                                  role="subcontractor", old=f"专业分包：企业{next(_serial)}", reason="登记有误",
                                  actor=world.admin)  # fmt: skip


def grow_project_changes(world, n):
    user = world.applicant_user
    for _ in range(n):
        ProjectChangeRequest.objects.create(project=world.project, action="withdraw_document",
                                            target_id=next(_serial), summary="撤回文件", reason="有误",
                                            requested_by=user)  # fmt: skip


def grow_todo(world, n):
    """For each, a filing sent back, one missing documents, a permitted project, an expiring certificate."""
    applicant = world.project.applicant
    for _ in range(n):
        f.ProjectFactory(applicant=applicant, state=State.PREREVIEW_FAILED).prereviews.create(
            findings=[{"code": "x", "severity": "error", "message": "缺少施工合同", "subject": "contract"}]
        )
        returned = f.ProjectFactory(applicant=applicant, state=State.RETURNED)
        returned.transitions.create(name="return", from_state="under_review", to_state="returned", reason="补充图纸")
        draft = f.ProjectFactory(applicant=applicant, state=State.DRAFT, parameters={"excavation_depth_m": 6.0})
        _document(SimpleNamespace(project=draft, admin=world.admin), "contract")
        permitted = f.staffed_project(applicant=applicant, state=State.PERMITTED, permitted_at=timezone.now())
        cert = permitted.key_people.get(role="project_manager").person.certificates.first()
        cert.valid_until = timezone.localdate() + dt.timedelta(days=10)
        cert.save()
        ProjectChangeRequest.objects.create(project=permitted, action="withdraw_document", target_id=1,
                                            summary="撤回文件", reason="有误",
                                            requested_by=world.applicant_user)  # fmt: skip


def grow_participant_candidates(world, n):
    for _ in range(n):
        f.EnterpriseFactory(kind=Enterprise.Kind.DESIGN)
        f.EnterpriseFactory(kind=Enterprise.Kind.DESIGN, qualified=False)  # shown, with why not


def grow_key_person_candidates(world, n):
    for _ in range(n):
        f.make_person(world.filing_gc, certs=("constructor", "safety_b"))
        f.make_person(world.filing_gc, certs=("constructor",))  # shown, with why not


@dataclass(frozen=True)
class Budget:
    route: str  # the API path as the router declares it, or the page's URL name
    url: Callable[[SimpleNamespace], str]
    grow: Callable[[SimpleNamespace, int], None]
    queries: int
    anonymous: bool = False
    user: str = "admin"  # the world's user who asks (the enterprise's pages: its applicant's user)


BUDGETS = [
    # API list endpoints
    Budget("/api/jurisdictions", lambda w: "/api/jurisdictions", grow_jurisdictions, 1),
    Budget("/api/auth/tokens", lambda w: "/api/auth/tokens", grow_tokens, 3),
    Budget("/api/enterprises", lambda w: "/api/enterprises", grow_enterprises, 4),
    Budget("/api/projects", lambda w: "/api/projects?page_size=50", _projects(State.UNDER_CONSTRUCTION), 3),
    Budget("/api/projects/{project_id}/participants", lambda w: f"/api/projects/{w.project.pk}/participants",
           grow_participants, 3),
    Budget("/api/projects/{project_id}/key-people", lambda w: f"/api/projects/{w.project.pk}/key-people",
           grow_key_people, 5),
    Budget("/api/projects/{project_id}/documents", lambda w: f"/api/projects/{w.project.pk}/documents",
           grow_documents, 6),
    Budget("/api/projects/{project_id}/progress-reports",
           lambda w: f"/api/projects/{w.project.pk}/progress-reports", grow_reports, 4),
    Budget("/api/projects/{project_id}/audit", lambda w: f"/api/projects/{w.project.pk}/audit", grow_audit, 4),
    Budget("/api/public/projects", lambda w: "/api/public/projects", _projects(State.UNDER_CONSTRUCTION), 3,
           anonymous=True),
    Budget("/api/projects/{project_id}/devices", lambda w: f"/api/projects/{w.project.pk}/devices",
           grow_devices, 3),
    Budget("/api/devices/{device_id}/readings", lambda w: f"/api/devices/{w.device.pk}/readings",
           grow_readings, 5),
    Budget("/api/alarms", lambda w: "/api/alarms", grow_alarms, 3),
    Budget("/api/device-changes", lambda w: "/api/device-changes", grow_device_changes, 3),
    Budget("/api/projects/{project_id}/crane-operators",
           lambda w: f"/api/projects/{w.project.pk}/crane-operators", grow_crane_checks, 3),
    Budget("/api/alarms/{alarm_id}/commands", lambda w: f"/api/alarms/{w.alarm.pk}/commands", grow_commands, 3),
    Budget("/api/devices/{device_id}/aggregates", lambda w: f"/api/devices/{w.device.pk}/aggregates",
           grow_aggregates, 5),
    Budget("/api/projects/{project_id}/corrections", lambda w: f"/api/projects/{w.project.pk}/corrections",
           grow_corrections, 4),
    Budget("/api/project-changes", lambda w: "/api/project-changes", grow_project_changes, 3),
    # list pages
    Budget("projects:list", lambda w: "/projects/", _projects(State.UNDER_CONSTRUCTION), 7),
    Budget("review:queue", lambda w: "/projects/review/", _projects(State.UNDER_REVIEW), 8),
    Budget("review:workspace", lambda w: f"/projects/{w.project.pk}/review/", grow_reviewed_documents, 20),
    Budget("/api/review/queue", lambda w: "/api/review/queue", _projects(State.UNDER_REVIEW), 3),
    Budget("/api/projects/{project_id}/review-comments", lambda w: f"/api/projects/{w.project.pk}/review-comments",
           grow_review_comments, 5),
    Budget("/api/projects/{project_id}/signoffs", lambda w: f"/api/projects/{w.project.pk}/signoffs", grow_signoffs,
           3),
    Budget("/api/projects/{project_id}/start-reports", lambda w: f"/api/projects/{w.project.pk}/start-reports",
           grow_start_reports, 3),
    Budget("public:list", lambda w: "/public/", _projects(State.UNDER_CONSTRUCTION), 4, anonymous=True),
    Budget("sites:alarms", lambda w: "/sites/alarms/", grow_alarms, 9),
    Budget("sites:monitors", lambda w: "/sites/monitors/", grow_monitors, 7),
    Budget("sites:limits", lambda w: "/sites/limits/", grow_limits, 6),
    Budget("notifications", lambda w: "/notifications/", grow_notifications, 8),
    Budget("account", lambda w: "/account/", grow_tokens, 7),
    Budget("sites:device_changes", lambda w: "/sites/device-changes/", grow_device_changes, 8),
    Budget("projects:change_list", lambda w: "/projects/changes/", grow_project_changes, 7),
    Budget("projects:todo", lambda w: "/projects/todo/", grow_todo, 12, user="applicant_user"),
    Budget("projects:pick_participant", lambda w: f"/projects/{w.filing.pk}/pick/participant/?role=designer&q=",
           grow_participant_candidates, 7, user="applicant_user"),
    Budget("projects:pick_key_person", lambda w: f"/projects/{w.filing.pk}/pick/key-person/?role=project_manager",
           grow_key_person_candidates, 8, user="applicant_user"),
]  # fmt: skip

# A regulator's pages carry the navigation's count of device changes awaiting approval: one query more, the
# same whatever the rows.
# Named pages that list nothing (forms, details, actions, downloads, streams): no budget needed.
NOT_LISTS = {
    "healthz", "login", "logout", "token_revoke", "ledger_public_key", "projects:create", "projects:detail",
    "projects:edit",
    "projects:participant_add", "projects:key_person_add", "projects:document_upload", "projects:transition",
    "projects:progress_report", "projects:document_download", "public:detail", "sites:alarm_stream",
    "sites:alarm_action", "sites:device_create", "sites:actuator_command", "sites:device_edit",
    "sites:device_service", "sites:device_change_decide", "sites:limit_create", "sites:limit_edit",
    "sites:limit_toggle",
    "review:comment_add", "review:mark", "review:opinion", "review:assign", "review:sign", "review:certificate",
    "review:start_report", "review:verdict", "review:preview", "review:comment_close", "review:comment_reply",
    "review:start_decide", "permits:verify", "permits:verify_bundle",
    # CSV downloads stream their rows from one query each (tested with their pages)
    "sites:alarm_export", "sites:device_readings_export",
    # corrections and 变更: actions (the pickers and the approval list have budgets)
    "home", "projects:participant_remove", "projects:participant_replace", "projects:key_person_remove",
    "projects:key_person_replace", "projects:change_request", "projects:change_decide",
    "projects:document_version", "projects:document_withdraw",
}  # fmt: skip


@pytest.fixture
def world(lanshan, bureau_admin, settings):
    settings.PUBLIC_CACHE_SECONDS = 0
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION, jurisdiction=lanshan)
    gc = project.participants.get(role="general_contractor").enterprise
    rule = LimitRule.objects.get(parameter="a34004", jurisdiction=None, period="all")
    world = SimpleNamespace(lanshan=lanshan, admin=bureau_admin, project=project, gc=gc, rule=rule)
    world.applicant_user = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=project.applicant)
    world.filing = f.staffed_project(state=State.DRAFT, jurisdiction=lanshan, applicant=project.applicant)
    world.filing_gc = world.filing.participants.get(role="general_contractor").enterprise
    world.device = _device(project)
    world.alarm = _alarm(world, world.device)
    return world


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


@pytest.mark.parametrize("budget", BUDGETS, ids=[b.route for b in BUDGETS])
def test_list_queries_stay_within_budget_when_rows_triple(budget, world):
    client = Client()
    if not budget.anonymous:
        client.force_login(getattr(world, budget.user))
    budget.grow(world, 2)
    url = budget.url(world)
    client.get(url)  # warms the session and the per-process caches
    few = _count(client, url)
    budget.grow(world, 4)
    many = _count(client, url)
    assert many == few, f"{budget.route}: {few} queries for a few rows, {many} for three times as many"
    assert many <= budget.queries, f"{budget.route}: {many} queries, budget {budget.queries}"


def _api_list_routes() -> set[str]:
    from jianguan.api import api

    routes = set()
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                model = operation.response_models.get(200)
                response = getattr(model, "__annotations__", {}).get("response")
                if "GET" in operation.methods and ("list[" in str(response) or "Paged" in str(response)):
                    routes.add(("/api/" + prefix.strip("/") + path).replace("//", "/"))
    return routes


def _page_names(patterns, namespace="") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern) in ("api/", "admin/"):
                continue
            names |= _page_names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def test_every_list_route_has_a_budget():
    routes = {b.route for b in BUDGETS}
    assert _api_list_routes() == {r for r in routes if r.startswith("/api/")}
    pages = _page_names(get_resolver().url_patterns) - NOT_LISTS
    assert pages == {r for r in routes if not r.startswith("/api/")}
