"""The review room's pages, thin over its services: the queue, the workspace and its forms, document previews, the
certificate, the start of works, and the public verification page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from jianguan.core.models import Jurisdiction
from jianguan.ledger import services as ledger
from jianguan.projects import services as project_services
from jianguan.projects.lifecycle import TransitionError

from . import certificate, clocks, forms, permissions, permits, preview, queue, services, signoffs, starts
from .models import Permit, SignOff


def _found(getter, *args, **kwargs):
    try:
        return getter(*args, **kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404("对象不存在或无权查看") from exc


def _back(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _act(request, action, success: str) -> bool:
    """Runs a service call; a refused state or bad input becomes the page's error message (the caller redirects).
    PermissionDenied and DoesNotExist propagate: 403 and 404."""
    try:
        action()
    except TransitionError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, success)
        return True
    return False


def _workspace_url(project_id: int, anchor: str = "") -> str:
    return reverse("review:workspace", args=[project_id]) + (f"#{anchor}" if anchor else "")


# --- the queue -------------------------------------------------------------------------------------------------


@login_required
def queue_page(request):
    if not permissions.may_see_queue(request.user):
        raise PermissionDenied("审查待办仅供审查许可的监管人员使用")
    form = forms.QueueFilter(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    tab = filters.get("tab") or "bureau"
    chosen = {
        "q": (filters.get("q") or "").strip(),
        "jurisdiction": filters.get("jurisdiction") or "",
        "assignee": filters.get("assignee") or "",
        "stage": filters.get("stage") or "",
        "overdue": bool(filters.get("overdue")),
        "sort": filters.get("sort") or "waiting",
    }
    page = Paginator(queue.queue(request.user, tab=tab, **chosen), 20).get_page(request.GET.get("page"))
    rows = [queue.row(p) for p in page.object_list]
    query = urlencode({k: v for k, v in {"tab": tab, **chosen}.items() if v})
    return render(
        request,
        "review/queue.html",
        {
            "page": page,
            "rows": rows,
            "tab": tab,
            "tabs": queue.TABS,
            "filters": chosen,
            "query": query,
            "counts": queue.counts(request.user),
            "stages": queue.STAGES,
            "sorts": queue.SORTS,
            "jurisdictions": Jurisdiction.objects.exclude(parent=None),
            "decision": clocks.decision_limit(),
            "notice": clocks.notice_limit(),
        },
    )


# --- the workspace ---------------------------------------------------------------------------------------------


@login_required
def workspace_page(request, pk: int):
    project = _found(services.get_project_for_review, request.user, pk)
    space = services.workspace(project)
    for row in space.rows:
        for version in row.versions:
            version.preview_kind = preview.kind(version)  # pdf (PDF.js), image, or none (download only)
    user = request.user
    review = space.signoffs.get(SignOff.Stage.REVIEW)
    return render(
        request,
        "review/workspace.html",
        {
            "project": project,
            "ws": space,
            "review_blockers": signoffs.review_blockers(project) if review is None else [],
            "approval_refusal": signoffs.approval_refusal(project, user) if review is not None else None,
            "second_signoff": settings.PERMIT_SECOND_SIGNOFF,
            "reviewers": permissions.reviewers_for(project),
            "decision": clocks.decision_limit(),
            "notice": clocks.notice_limit(),
            "permit": Permit.objects.filter(project=project).first(),
            "verdict_form": forms.VerdictForm(),
            "mark_choices": forms.MarkForm.base_fields["result"].choices,
            "reviewable": project.state in services.REVIEWABLE,
        },
    )


@login_required
@require_POST
def verdict(request, doc: int):
    document = _found(services.get_document_for_review, request.user, doc)
    form = forms.VerdictForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择审查结论")
    else:
        _act(
            request,
            lambda: services.set_verdict(
                request.user, document, form.cleaned_data["verdict"], form.cleaned_data["comment"]
            ),
            "审查结论已记录",
        )
    return redirect(_workspace_url(document.project_id, f"doc-{document.pk}"))


@login_required
@require_POST
def comment_add(request, pk: int):
    project = _found(services.get_project_for_review, request.user, pk)
    form = forms.CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写审查意见")
        return redirect(_workspace_url(pk, "comments"))
    document = None
    if form.cleaned_data["document"]:
        document = project.documents.filter(pk=form.cleaned_data["document"]).first()
        if document is None:
            raise Http404("文件不存在")
    _act(
        request,
        lambda: services.add_comment(request.user, project, form.cleaned_data["body"], document),
        "审查意见已提出",
    )
    return redirect(_workspace_url(pk, f"doc-{document.pk}" if document else "comments"))


@login_required
@require_POST
def comment_close(request, comment: int):
    found = _found(services.get_comment_for, request.user, comment)
    form = forms.CloseForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    _act(request, lambda: services.close_comment(request.user, found, note), "审查意见已关闭")
    return redirect(_back(request, _workspace_url(found.project_id, f"comment-{found.pk}")))


@login_required
@require_POST
def comment_reply(request, comment: int):
    found = _found(services.get_comment_for, request.user, comment)
    form = forms.ReplyForm(request.POST)
    default = reverse("projects:detail", args=[found.project_id]) + "#review-block"
    if not form.is_valid():
        if not permissions.may_reply(request.user, found):
            raise PermissionDenied("只有本项目的参建单位可以回复审查意见")
        messages.error(request, "请填写回复内容")
    else:
        _act(request, lambda: services.reply(request.user, found, form.cleaned_data["body"]), "回复已提交")
    return redirect(_back(request, default))


@login_required
@require_POST
def mark(request, pk: int):
    project = _found(services.get_project_for_review, request.user, pk)
    form = forms.MarkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择审查要点和结论")
    else:
        data = form.cleaned_data
        _act(
            request,
            lambda: services.mark_point(request.user, project, data["point"], data["result"], data["note"]),
            "审查要点已记录",
        )
    return redirect(_workspace_url(pk, "checklist"))


@login_required
@require_POST
def opinion(request, pk: int):
    project = _found(services.get_project_for_review, request.user, pk)
    form = forms.OpinionForm(request.POST)
    text = form.cleaned_data["opinion"] if form.is_valid() else ""
    if form.is_valid():
        _act(request, lambda: services.save_opinion(request.user, project, text), "审查意见草稿已保存")
    else:
        messages.error(request, "审查意见不能超过 4000 字")
    return redirect(_workspace_url(pk, "signoff"))


@login_required
@require_POST
def assign(request, pk: int):
    project = _found(services.get_project_for_review, request.user, pk)
    form = forms.AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择承办人")
        return redirect(_workspace_url(pk))

    def run():
        services.assign(request.user, project, services.find_assignee(project, form.cleaned_data["assignee"]))

    _act(request, run, "承办人已更新")
    return redirect(_back(request, _workspace_url(pk)))


@login_required
@require_POST
def sign(request, pk: int):
    project = _found(services.get_project_for_review, request.user, pk)
    form = forms.SignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "签署须填写意见")
        return redirect(_workspace_url(pk, "signoff"))
    stage, text = form.cleaned_data["stage"], form.cleaned_data["opinion"]
    label = "审核意见已签署，待审批" if stage == SignOff.Stage.REVIEW else "审批已签署，施工许可证已核发"
    _act(request, lambda: signoffs.sign(request.user, project, stage, text), label)
    return redirect(_workspace_url(pk, "signoff"))


@login_required
def preview_file(request, doc: int, number: int):
    version = _found(project_services.get_version_for, request.user, doc, number)
    return preview.response(request.user, version)


# --- the certificate, the start of works, the public verification ------------------------------------------------


@login_required
def certificate_pdf(request, pk: int):
    project = _found(project_services.get_project_for, request.user, pk)
    permit = _found(Permit.objects.get, project=project)
    try:
        pdf = certificate.render(permit, permits.verification_url(permit, request))
    except certificate.CertificateUnavailable as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{_quote(certificate.filename(permit))}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@login_required
@require_POST
def start_report(request, pk: int):
    project = _found(project_services.get_project_for, request.user, pk)
    form = forms.StartReportForm(request.POST)
    if not permissions.may_report_start(request.user, project):
        raise PermissionDenied("开工由建设单位或施工总承包单位报告")
    if not form.is_valid():
        messages.error(request, "请填写实际开工日期")
    else:
        data = form.cleaned_data
        _act(
            request,
            lambda: starts.report_start(request.user, project, data["started_on"], data["note"]),
            "开工报告已提交，待监管部门确认",
        )
    return redirect(reverse("projects:detail", args=[pk]) + "#review-block")


@login_required
@require_POST
def start_decide(request, report: int, action: str):
    found = _found(starts.get_report_for, request.user, report)
    if action not in ("confirm", "decline"):
        raise Http404("未知操作")
    form = forms.StartDecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    confirm = action == "confirm"
    _act(
        request,
        lambda: starts.decide(request.user, found, confirm, note),
        "已确认开工，项目进入施工中" if confirm else "已退回开工报告",
    )
    return redirect(_back(request, reverse("projects:detail", args=[found.project_id]) + "#review-block"))


def verify(request, code: str):
    """Public: what a certificate's QR code opens."""
    permit = _found(permits.get_by_code, code)
    entry = permits.ledger_entry(permit)
    checkpoint = ledger.latest_checkpoint()
    return render(
        request,
        "review/verify.html",
        {
            "permit": permit,
            "facts": permit.facts,
            "project": permit.project,
            "state_label": permit.project.get_state_display(),
            "entry": entry,
            "checkpoint": checkpoint,
            "bundle_url": reverse("permits:verify_bundle", args=[permit.verification_code]),
        },
    )


def verify_bundle(request, code: str):
    """Public: the permit entry's evidence bundle, for `jianguan ledger-verify` offline."""
    permit = _found(permits.get_by_code, code)
    bundle = permits.evidence_bundle(permit)
    if bundle is None:
        raise Http404("该许可证尚无存证记录")
    response = HttpResponse(ledger.canonical_json(bundle), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="permit-{permit.number}-evidence.json"'
    return response
