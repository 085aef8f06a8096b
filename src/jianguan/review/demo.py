"""The review room's demo data (called by demo/seed.py after the projects and the evidence log are seeded):

- a second signer (审批) in every district bureau: `lanshan_chief`, `luozhuang_chief`, `hedong_chief` (printed with
  the logins) and `chief_<code>` elsewhere;
- issued permits with their certificates for every permitted (and later) project: 审核 by the district's regulator,
  审批 by its chief, both and the permit in the evidence log;
- the applications under review made complete between 0 and 12 days ago, so the queue has some within the
  7-day limit and some overdue;
- in 兰山区, filed by the demo enterprise (dev_user, builder_user): one application under review with per-document
  comments (one answered), one waiting for the 审批 of lanshan_chief, one returned with an open comment, and one
  permitted project whose start of works builder_user reported and lanshan_reg has to confirm.

Showcase documents get a readable version (a one-page PDF with the document's name, rendered by WeasyPrint when the
machine can) so the workspace's preview shows something; every other demo document is the seed's tiny PDF."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.db.models import Max
from django.utils import timezone
from django.utils.html import escape

from jianguan.accounts.models import User
from jianguan.core import audit
from jianguan.ledger import services as ledger
from jianguan.projects.models import (
    Document,
    DocumentVersion,
    Participant,
    Project,
    State,
    Transition,
)
from jianguan.registry.models import Enterprise

from . import certificate, checklist, permits, services, signoffs, starts
from .models import Permit, ReviewComment, SignOff, Verdict

MAIN_DISTRICTS = (("lanshan", "371302", "兰山区"), ("luozhuang", "371311", "罗庄区"), ("hedong", "371312", "河东区"))
ISSUED_STATES = (State.PERMITTED, State.UNDER_CONSTRUCTION, State.SUSPENDED, State.ACCEPTANCE, State.ARCHIVED)
REVIEW_OPINION = "经审查，申报材料齐全，符合《建筑法》第八条规定的施工许可条件，建议核发施工许可证。"


def seed_review(progress: Callable[[str], None], password: str, seed_value: int = 371300) -> list[tuple[str, str, str]]:
    rng = random.Random(seed_value + 10)
    logins = seed_approvers(password)
    showcase = pick_showcase()  # filed by the demo enterprise before the permits print its name
    progress(f"  施工许可证：{seed_permits()} 张（审核、审批签署与存证）")
    seed_recent_clocks(rng)
    seed_showcase(showcase)
    ledger.sign_checkpoint()
    return logins


def _regulator(code: str) -> User | None:
    return (
        User.objects.filter(role=User.Role.DISTRICT_REGULATOR, department__jurisdiction__code=code)
        .exclude(username__startswith="chief_")
        .exclude(username__endswith="_chief")
        .order_by("pk")
        .first()
    )


def seed_approvers(password: str) -> list[tuple[str, str, str]]:
    """A second signer in each district bureau that has a regulator."""
    logins = []
    main = {code: (slug, name) for slug, code, name in MAIN_DISTRICTS}
    regulators = User.objects.filter(role=User.Role.DISTRICT_REGULATOR).select_related("department__jurisdiction")
    for reg in list(regulators):
        jurisdiction = reg.department.jurisdiction
        slug, _ = main.get(jurisdiction.code, (None, None))
        username = f"{slug}_chief" if slug else f"chief_{jurisdiction.code}"
        if User.objects.filter(username=username).exists():
            continue
        chief = User.objects.create_user(
            username=username,
            password=password,
            display_name=f"{jurisdiction.name}审批负责人",
            role=User.Role.DISTRICT_REGULATOR,
            department=reg.department,
        )
        if slug:
            logins.append(
                (chief.username, chief.get_role_display(), f"{jurisdiction.name}施工许可的第二签署人（审批）")
            )
    return logins


def seed_permits() -> int:
    """Permits for the projects the seed took past the permit (their approve transitions exist)."""
    projects = list(
        Project.objects.filter(state__in=ISSUED_STATES, permit__isnull=True)
        .exclude(permit_number="")
        .select_related("jurisdiction", "applicant")
    )
    approvals = {
        t.project_id: t for t in Transition.objects.filter(name="approve", project__in=projects).order_by("at")
    }
    signers: dict[str, tuple[User | None, User | None]] = {}
    now = timezone.now()
    issued = []
    for project in projects:
        code = project.jurisdiction.code
        if code not in signers:
            names = [f"chief_{code}", *(f"{slug}_chief" for slug, c, _ in MAIN_DISTRICTS if c == code)]
            signers[code] = (_regulator(code), User.objects.filter(username__in=names).first())
        reviewer, chief = signers[code]
        if reviewer is None or chief is None:
            continue
        step = approvals.get(project.pk)
        when = min(step.at if step else project.permitted_at or now, now)
        review = SignOff(project=project, stage="review", signer=reviewer, opinion=REVIEW_OPINION, round=1)
        approve = SignOff(project=project, stage="approve", signer=chief, opinion="同意核发施工许可证。", round=1)
        issued.append((project, when, review, approve, reviewer.department.name))
    SignOff.objects.bulk_create([s for _, _, r, a, _ in issued for s in (r, a)])
    for _, when, review, approve, _ in issued:  # signed when the seed's history says the permit was issued
        review.at, approve.at = when - dt.timedelta(hours=3), when
    entries = ledger.append_many(
        [
            ledger.Item(
                "signoff",
                "review.signoff",
                str(s.pk),
                {
                    "project": p.code,
                    "stage": s.stage,
                    "signer": s.signer.get_full_name(),
                    "opinion": s.opinion,
                    "round": 1,
                    "at": when.isoformat(),
                },
                s.signer.username,
                f"project:{p.pk}",
            )
            for p, when, r, a, _ in issued
            for s in (r, a)
        ]
    )
    pairs = zip(entries[::2], entries[1::2], strict=True)
    for (_, _, review, approve, _), (first, second) in zip(issued, pairs, strict=True):
        review.ledger_index, approve.ledger_index = first.index, second.index
    SignOff.objects.bulk_update([s for _, _, r, a, _ in issued for s in (r, a)], ["at", "ledger_index"])
    rows = [
        Permit(
            project=project,
            number=project.permit_number,
            issued_at=when,
            issuer=issuer,
            facts=permits.facts_for(project),
            verification_code=permits.new_code(),
            review_signoff=review,
            approve_signoff=approve,
        )
        for project, when, review, approve, issuer in issued
    ]
    Permit.objects.bulk_create(rows)
    entries = ledger.append_many(
        [
            ledger.Item(
                permits.RECORD_TYPE,
                permits.RECORD_TYPE,
                str(p.pk),
                permits.public_content(p),
                "",
                f"project:{p.project_id}",
            )
            for p in rows
        ]
    )
    for permit, entry in zip(rows, entries, strict=True):
        permit.ledger_index = entry.index
    Permit.objects.bulk_update(rows, ["ledger_index"])
    return len(rows)


def seed_recent_clocks(rng: random.Random) -> None:
    """Applications under review became complete between 0 and 12 days ago: some within the limit, some over."""
    now = timezone.now()
    for project in Project.objects.filter(state=State.UNDER_REVIEW, is_demo=True):
        complete = now - dt.timedelta(days=rng.randint(0, 12), hours=rng.randint(0, 8))
        steps = list(project.transitions.order_by("-at", "-id")[:2])
        for offset, step in enumerate(steps):  # pass_prereview, then the submission a little earlier
            Transition.objects.filter(pk=step.pk).update(at=complete - dt.timedelta(minutes=2 * offset))
        project.prereviews.update(at=complete)


def _demo_enterprises() -> tuple[Enterprise, Enterprise, User, User]:
    dev_user = User.objects.get(username="dev_user")
    builder_user = User.objects.get(username="builder_user")
    return dev_user.enterprise, builder_user.enterprise, dev_user, builder_user


def _filed_by_demo_enterprise(project: Project, dev: Enterprise, builder: Enterprise) -> None:
    Project.objects.filter(pk=project.pk).update(applicant=dev)
    Participant.objects.filter(project=project, role="owner").update(enterprise=dev)
    Participant.objects.filter(project=project, role="general_contractor").update(enterprise=builder)
    project.refresh_from_db()


def _pdf(title: str, project: Project) -> bytes:
    """A one-page PDF naming the document (WeasyPrint with the CJK font when available, else a blank page)."""
    if certificate.unavailable_reason() is None:
        import weasyprint

        html = (
            f"<html><body><h1>{escape(title)}</h1><p>项目：{escape(project.name)}（{project.code}）</p>"
            f"<p>建设地址：{escape(project.address)}</p><p>本文件为演示数据，用于审查工作台的在线预览。</p></body></html>"
        )
        style = weasyprint.CSS(string=f"body {{ font-family: '{certificate.FONT_FAMILY}'; margin: 30mm; }}")
        return weasyprint.HTML(string=html).write_pdf(stylesheets=[style])
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _readable_version(document: Document, user: User, note: str) -> DocumentVersion:
    """A new version of a demo document with readable content, recorded as an upload would be."""
    content = _pdf(str(document), document.project)
    number = (document.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = DocumentVersion(
        document=document, number=number, original_name=f"{document.kind}-v{number}.pdf", extension=".pdf",
        content_type="application/pdf", size=len(content), sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=user, note=note,
    )  # fmt: skip
    version.file.save(version.original_name, ContentFile(content), save=False)
    version.save()
    ledger.append(
        "document_version", "projects.documentversion", version.pk,
        {"project": document.project.code, "document": document.pk, "kind": document.kind,
         "category": document.category, "version": number, "name": version.original_name, "size": version.size,
         "sha256": version.sha256},
        actor=user, scope=f"project:{document.project_id}",
    )  # fmt: skip
    audit.record(user, "upload", version, project=document.project, label=f"{document} v{number}")
    return version


def _under_review_in(code: str, count: int) -> list[Project]:
    return list(
        Project.objects.filter(state=State.UNDER_REVIEW, is_demo=True, jurisdiction__code=code).order_by("pk")[:count]
    )


def pick_showcase() -> dict[str, Project]:
    """The 兰山区 projects the demo enterprise files (dev_user's company, builder_user's as the contractor)."""
    if User.objects.filter(username__in=("dev_user", "builder_user")).count() != 2:
        return {}
    dev, builder, _, _ = _demo_enterprises()
    chosen: dict[str, Project] = dict(zip(("commented", "waiting"), _under_review_in("371302", 2), strict=False))
    returned = Project.objects.filter(state=State.RETURNED, is_demo=True).order_by("pk").first()
    permitted = Project.objects.filter(state=State.PERMITTED, is_demo=True, jurisdiction__code="371302")
    for name, project in (("returned", returned), ("permitted", permitted.order_by("pk").first())):
        if project is not None:
            chosen[name] = project
    for project in chosen.values():
        _filed_by_demo_enterprise(project, dev, builder)
    return chosen


def seed_showcase(chosen: dict[str, Project]) -> None:
    reg, chief = _regulator("371302"), User.objects.filter(username="lanshan_chief").first()
    if reg is None or chief is None or not chosen:
        return
    _, _, dev_user, builder_user = _demo_enterprises()
    if "commented" in chosen:
        _commented(chosen["commented"], dev_user, reg)
    if "waiting" in chosen:
        _waiting_for_approval(chosen["waiting"], dev_user, reg)
    if "returned" in chosen:
        returned = chosen["returned"]
        document = returned.documents.filter(kind="drawing_review_cert").first() or returned.documents.first()
        if document is not None:
            ReviewComment.objects.create(
                project=returned, document=document, version=document.versions.order_by("-number").first(),
                author=_regulator(returned.jurisdiction.code) or reg,
                body="施工图审查合格书载明的图纸版本与上传的施工图不一致，请核对后重新上传。",
            )  # fmt: skip
    if "permitted" in chosen:
        permitted = Project.objects.get(pk=chosen["permitted"].pk)
        permit = Permit.objects.filter(project=permitted).first()
        today = timezone.localdate()
        started = max(today - dt.timedelta(days=1), timezone.localdate(permit.issued_at) if permit else today)
        starts.report_start(builder_user, permitted, min(started, today), "基坑土方开挖，围挡与扬尘监测已就位")


def _commented(project: Project, dev_user: User, reg: User) -> None:
    for document in project.documents.all():
        _readable_version(document, dev_user, "清晰扫描件")
    for document in project.documents.exclude(kind="contract"):
        services.set_verdict(reg, document, Verdict.OK)
    contract = project.documents.filter(kind="contract").first()
    if contract is not None:
        services.set_verdict(
            reg, contract, Verdict.NEEDS_FIX, "施工合同缺少双方签章页，合同价款与申报总投资不一致，请说明。"
        )
    comment = services.add_comment(reg, project, "请补充建设资金落实情况的说明（资金来源及到位计划）。")
    services.reply(dev_user, comment, "资金来源为企业自有资金及银行贷款，到位计划见补充说明，将随补正材料一并上传。")
    for point in checklist.POINTS[:3]:
        services.mark_point(reg, project, point.code, checklist.Mark.NOT_APPLICABLE if point.may_not_apply else "ok")
    services.assign(reg, project, reg)


def _waiting_for_approval(project: Project, dev_user: User, reg: User) -> None:
    for document in project.documents.all():
        _readable_version(document, dev_user, "清晰扫描件")
    for document in project.documents.all():
        services.set_verdict(reg, document, Verdict.OK)
    for point in checklist.POINTS:
        result = checklist.Mark.NOT_APPLICABLE if point.code == "demolition" else checklist.Mark.OK
        services.mark_point(reg, project, point.code, result)
    services.assign(reg, project, reg)
    signoffs.sign_review(reg, project, REVIEW_OPINION)
