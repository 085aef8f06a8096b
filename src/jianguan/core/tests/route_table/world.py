"""The route table's world: the demo cast (one user per role) and, for each side of the table, a project with
everything the routes address (devices, an alarm, a document, a ledger entry, a district limit rule, …).

Built once per test module through the services the pages use; each request of the table runs in a savepoint
that is rolled back, so every role meets the same world.

`here` is a project in 兰山区 in which the cast's enterprises take part; `there` one in 罗庄区 run by other
enterprises; `unpublished` points the public portal's rows at a filing that is not published."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from django.conf import settings
from django.test import Client
from django.utils import timezone

from jianguan.accounts.models import ApiToken, DataSharingRule, Department, User
from jianguan.ledger import services as ledger
from jianguan.ledger.models import LedgerEntry
from jianguan.projects import changes as project_changes
from jianguan.projects import services as project_services
from jianguan.projects.models import Document, KeyPerson, Participant, PreReview, Project, State
from jianguan.registry.models import Enterprise
from jianguan.sites.alarms.rules import invalidate_rules
from jianguan.sites.devices import services as device_services
from jianguan.sites.limits.defaults import ensure_defaults
from jianguan.sites.models import Alarm, Device, LimitRule, Reading
from jianguan.testing import factories as f

PASSWORD = "pw-123456"  # the factories' password
Part = DataSharingRule.Resource
Role = User.Role

# What each department kind of the cast may read (as in the demo: 公安 the basic part only, 人社 for wage
# arrears, 生态环境 for dust and noise).
SHARING = {
    Department.Kind.POLICE: (Part.PROJECT_BASIC,),
    Department.Kind.HR: (Part.PROJECT_BASIC, Part.PROJECT_PARTICIPANTS, Part.SITE_WORKFORCE),
    Department.Kind.ENVIRONMENT: (Part.PROJECT_BASIC, Part.SITE_MONITORING),
}


def pdf(note: str = "") -> bytes:
    """A small well-formed PDF with one page (what the upload checks accept)."""
    from jianguan.testing import files

    return files.make_pdf(title=note or "测试文件")


def _cast(lanshan, luozhuang, enterprises) -> dict[str, User]:
    city = f.city()

    def dept(name: str, kind: str, jurisdiction) -> Department:
        return Department.objects.get_or_create(name=name, defaults={"kind": kind, "jurisdiction": jurisdiction})[0]

    lanshan_bureau = dept("兰山区住房和城乡建设局", Department.Kind.HOUSING, lanshan)
    officer = Role.DEPT_OFFICER
    return {
        "city": f.UserFactory(
            role=Role.BUREAU_ADMIN,
            department=dept("临沂市住房和城乡建设局", Department.Kind.HOUSING, city),
            is_staff=True,
            is_superuser=True,
        ),
        "reg": f.UserFactory(role=Role.DISTRICT_REGULATOR, department=lanshan_bureau),
        "reg_other": f.UserFactory(
            role=Role.DISTRICT_REGULATOR, department=dept("罗庄区住房和城乡建设局", Department.Kind.HOUSING, luozhuang)
        ),
        "inspector": f.UserFactory(role=Role.INSPECTOR, department=lanshan_bureau),
        "dept_basic": f.UserFactory(role=officer, department=dept("兰山公安分局", Department.Kind.POLICE, lanshan)),
        "dept_hr": f.UserFactory(role=officer, department=dept("兰山区人社局", Department.Kind.HR, lanshan)),
        "dept_env": f.UserFactory(
            role=officer, department=dept("兰山区生态环境分局", Department.Kind.ENVIRONMENT, lanshan)
        ),
        "developer": f.UserFactory(role=Role.ENTERPRISE_USER, enterprise=enterprises["developer"]),
        "contractor": f.UserFactory(role=Role.ENTERPRISE_USER, enterprise=enterprises["contractor"]),
        "supervisor": f.UserFactory(role=Role.ENTERPRISE_USER, enterprise=enterprises["supervisor"]),
        "stranger": f.UserFactory(role=Role.ENTERPRISE_USER, enterprise=enterprises["stranger"]),
    }


def _project(tag: str, code: str, jurisdiction, state: str, applicant, gc, sup) -> Project:
    project = f.ProjectFactory(
        name=f"{tag}{'在建' if state == State.UNDER_CONSTRUCTION else '申报'}项目",
        code=code,
        jurisdiction=jurisdiction,
        applicant=applicant,
        state=state,
    )
    Participant.objects.bulk_create(
        [
            Participant(project=project, enterprise=applicant, role="owner"),
            Participant(project=project, enterprise=gc, role="general_contractor"),
            Participant(project=project, enterprise=sup, role="supervisor"),
            Participant(project=project, enterprise=f.EnterpriseFactory(kind=Enterprise.Kind.SURVEY), role="surveyor"),
        ]
    )
    PreReview.objects.create(project=project, findings=[], clean=True)
    return project


def _side(tag: str, number: int, jurisdiction, applicant, gc, sup, staff: dict[str, User]) -> SimpleNamespace:
    """One side of the table: a project under construction with its site, and a returned filing."""
    district = jurisdiction.code
    site = _project(tag, f"{district}-2026-{number:04d}", jurisdiction, State.UNDER_CONSTRUCTION, applicant, gc, sup)
    filing = _project(tag, f"{district}-2026-{number + 1:04d}", jurisdiction, State.RETURNED, applicant, gc, sup)
    admin, applicant_user, gc_user = staff["admin"], staff["applicant"], staff["gc"]

    def device(name: str, kind: str, protocol: str, **extra) -> Device:
        return device_services.register_device(admin, site, {"name": name, "kind": kind, "protocol": protocol, **extra})

    dust = device(f"{tag}东门扬尘", "dust_noise", "hj212", mn=f"ROUTE{number}DUST", password="pw-dust")
    spare = device(f"{tag}西门扬尘", "dust_noise", "http")
    retired = device(f"{tag}旧扬尘", "dust_noise", "http")
    device_services.set_retired(admin, retired, True, "设备更换")
    gate = device(f"{tag}闸机", "gate", "http")
    cannon = device(f"{tag}雾炮", "actuator", "mqtt", mqtt_client_id=f"route-{number}-cannon")
    crane = device(f"{tag}1号塔吊", "crane", "http")
    # The contractor asks to take the crane's monitor out of service: a pending change for the district to decide.
    change = device_services.set_retired(gc_user, crane, True, "塔吊拆除").requested[0]
    now = timezone.now()
    Reading.objects.create(device=dust, parameter="a34004", series=0, ts=now - dt.timedelta(minutes=5), value=88.0)
    alarm = Alarm.objects.create(
        project=site, device=dust, rule=LimitRule.objects.get(parameter="a34004", jurisdiction=None),
        parameter="a34004", severity="warning", raised_at=now - dt.timedelta(minutes=4),
        first_value=88, last_value=88, peak_value=88,
    )  # fmt: skip
    version = project_services.upload_document(
        applicant_user, site, kind="contract", title=f"{tag}施工合同", file_name="contract.pdf", content=pdf(tag)
    )
    project_services.add_progress_report(
        gc_user, site, report_date=timezone.localdate(), percent_complete=40, summary="主体结构施工", photos=[]
    )
    entry = LedgerEntry.objects.get(record_type="projects.documentversion", record_id=str(version.pk))
    # The filing's own registrations to correct: a project manager, a document; and the permitted project's
    # pending 变更 (the applicant asks to remove its surveyor).
    manager = f.make_person(gc, f"{tag}原项目经理", ("constructor", "safety_b"))
    post = KeyPerson.objects.create(project=filing, person=manager, role="project_manager")
    filed = project_services.upload_document(
        applicant_user, filing, kind="drawing_review_cert", title=f"{tag}审查合格书", file_name="c.pdf",
        content=pdf(tag),
    )  # fmt: skip
    project_change = project_changes.request(
        applicant_user, site, "remove_participant", target_id=site.participants.get(role="surveyor").pk,
        reason="勘察合同已履行完毕",
    )  # fmt: skip
    override = LimitRule.objects.create(
        name=f"{jurisdiction.name}PM2.5", parameter="a34004", unit="µg/m³", jurisdiction=jurisdiction,
        device_kind="dust_noise", warning=70, source=f"{jurisdiction.name}扬尘治理文件",
    )  # fmt: skip
    return SimpleNamespace(
        site=site.pk,
        site_name=site.name,
        site_code=site.code,
        filing=filing.pk,
        filing_name=filing.name,
        applicant=applicant.pk,
        gc=gc.pk,
        removable=filing.participants.get(role="surveyor").pk,
        candidate=f.make_person(gc, f"{tag}候任经理", ("constructor", "safety_b")).pk,
        post=post.pk,
        filed_document=filed.document_id,
        project_change=project_change.pk,
        change_summary=project_change.summary,
        other_surveyor=f.EnterpriseFactory(name=f"{tag}新勘察院有限公司", kind=Enterprise.Kind.SURVEY).pk,
        worker_candidate=f.make_person(gc, f"{tag}钢筋工").pk,
        contract=version.document_id,
        entry=entry.index,
        dust=dust.pk,
        dust_name=dust.name,
        spare=spare.pk,
        spare_token=spare.issued_token,
        retired=retired.pk,
        retired_token=retired.issued_token,
        gate=gate.pk,
        gate_token=gate.issued_token,
        cannon=cannon.pk,
        alarm=alarm.pk,
        override=override.pk,
        change=change.pk,
        crane_name=crane.name,
    )


def _review_side(side: SimpleNamespace, number: int, jurisdiction, applicant, gc, sup, staff: dict[str, User]) -> None:
    """The review room's objects of a side: a filing under review with a document and an open comment (`review`),
    one cleared for the 审核 signature (`ready`), a permitted project without (`permitted`) and with a reported
    start of works (`starting`), and the site's permit (its verification code: `permit_code`)."""
    from jianguan.review import permits, services, starts
    from jianguan.testing.review import clear_for_review

    district, reviewer, applicant_user = jurisdiction.code, staff["reviewer"], staff["applicant"]

    def filing(offset: int, state: str) -> tuple[Project, Document]:
        code = f"{district}-2026-{number + offset:04d}"
        project = _project("审查", code, jurisdiction, State.RETURNED, applicant, gc, sup)
        version = project_services.upload_document(
            applicant_user, project, kind="contract", title="施工合同", file_name="contract.pdf", content=pdf()
        )
        Project.objects.filter(pk=project.pk).update(state=state)
        project.refresh_from_db()
        return project, version.document

    review, document = filing(2, State.UNDER_REVIEW)
    comment = services.add_comment(reviewer, review, "合同缺少签章页", document)
    ready, _ = filing(3, State.UNDER_REVIEW)
    clear_for_review(ready, reviewer)
    permitted, _ = filing(4, State.PERMITTED)
    starting, _ = filing(5, State.PERMITTED)
    report = starts.report_start(applicant_user, starting, timezone.localdate(), "基坑开挖")
    site = Project.objects.get(pk=side.site)
    Project.objects.filter(pk=site.pk).update(permit_number=f"{district}2026010190{number % 100:02d}01",
                                              permitted_at=timezone.now())  # fmt: skip
    site.refresh_from_db()
    permit = permits.issue(site, staff["admin"], None)
    side.__dict__.update(
        review=review.pk, review_doc=document.pk, review_comment=comment.pk, ready=ready.pk, permitted=permitted.pk,
        start_report=report.pk, permit_code=permit.verification_code, assignee=reviewer.pk,
    )  # fmt: skip


def build() -> SimpleNamespace:
    ensure_defaults(LimitRule)  # a transactional test elsewhere may have flushed the migrations' rows
    invalidate_rules()
    lanshan, luozhuang = f.division("371302", "兰山区"), f.division("371311", "罗庄区")
    for kind, parts in SHARING.items():
        for part in parts:
            DataSharingRule.objects.get_or_create(
                department_kind=kind, resource=part, defaults={"purpose": "联合监管", "legal_basis": "数据共享协议"}
            )
    kinds = Enterprise.Kind
    enterprises = {
        "developer": f.EnterpriseFactory(name="沂河置业有限公司", kind=kinds.DEVELOPER),
        "contractor": f.EnterpriseFactory(name="兰山建工集团有限公司", kind=kinds.CONSTRUCTION),
        "supervisor": f.EnterpriseFactory(name="沂蒙监理有限公司", kind=kinds.SUPERVISION),
        "stranger": f.EnterpriseFactory(name="无关建设有限公司", kind=kinds.CONSTRUCTION),
    }
    users = _cast(lanshan, luozhuang, enterprises)
    other_dev = f.EnterpriseFactory(name="罗庄置业有限公司", kind=kinds.DEVELOPER)
    other_gc = f.EnterpriseFactory(name="罗庄建工有限公司", kind=kinds.CONSTRUCTION)
    other_sup = f.EnterpriseFactory(name="罗庄监理有限公司", kind=kinds.SUPERVISION)
    other_staff = {
        "admin": users["city"],
        "applicant": f.UserFactory(role=Role.ENTERPRISE_USER, enterprise=other_dev),
        "gc": f.UserFactory(role=Role.ENTERPRISE_USER, enterprise=other_gc),
    }
    here = _side(
        "本区",
        9001,
        lanshan,
        enterprises["developer"],
        enterprises["contractor"],
        enterprises["supervisor"],
        {"admin": users["city"], "applicant": users["developer"], "gc": users["contractor"]},
    )
    there = _side("外区", 9101, luozhuang, other_dev, other_gc, other_sup, other_staff)
    _review_side(here, 9001, lanshan, enterprises["developer"], enterprises["contractor"], enterprises["supervisor"],
                 {"admin": users["city"], "applicant": users["developer"], "reviewer": users["reg"]})  # fmt: skip
    _review_side(
        there, 9101, luozhuang, other_dev, other_gc, other_sup, {**other_staff, "reviewer": users["reg_other"]}
    )
    ledger.sign_checkpoint()
    # One entry after the signed checkpoint, so that signing one now makes a new checkpoint.
    filing = Project.objects.get(pk=here.filing)
    project_services.upload_document(
        users["developer"], filing, kind="planning_permit", file_name="p.pdf", content=pdf()
    )
    unpublished = SimpleNamespace(**{**vars(here), "site": here.filing, "site_name": here.filing_name})
    extra_designer = f.EnterpriseFactory(name="沂州设计院有限公司", kind=kinds.DESIGN)
    world = SimpleNamespace(
        users=users,
        tokens={role: ApiToken.issue(user, "route-table")[1] for role, user in users.items()},
        sessions={role: _session(user) for role, user in users.items()},
        sides={"here": here, "there": there, "unpublished": unpublished},
        lanshan=lanshan.pk,
    )
    # A token of each side's applicant (the cast's developer here): its owner alone may revoke it.
    here.token = ApiToken.issue(users["developer"], "owner's own")[0].pk
    there.token = ApiToken.issue(other_staff["applicant"], "another's")[0].pk
    unpublished.token = here.token
    for side in world.sides.values():
        side.world = world
        side.extra_enterprise = extra_designer.pk
    return world


def _session(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value
