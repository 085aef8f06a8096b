"""Pages for the pickers, corrections and 变更: thin translations between HTTP and pickers.py, corrections.py and
changes.py. Each page works without JavaScript (plain forms and redirects); with htmx the pickers' search
answers with the results alone, swapped in place."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import changes, corrections, permissions, pickers, services
from .corrections import NotNow
from .documents import UploadRejected
from .forms import ChangeRequestForm, DecisionForm, PickerSearchForm, ReplaceForm, VersionForm
from .models import Document, Project, ProjectChangeRequest
from .views import _back, _project_or_404

Action = ProjectChangeRequest.Action


def _errors(exc: ValidationError | NotNow) -> str:
    return exc.message if isinstance(exc, NotNow) else "；".join(exc.messages)


# --- pickers ---------------------------------------------------------------------------------------------------


def _picker(request, pk: int, kind: str):
    project = _project_or_404(request.user, pk)
    if not permissions.may_pick(request.user, project):
        raise PermissionDenied("只有申报单位可以为本项目选择参建单位和人员")
    form = PickerSearchForm(request.GET or None, kind=kind)
    choices = dict(form.fields["role"].choices)
    role = request.GET.get("role", "")
    role = role if role in choices else next(iter(choices))
    query = form.cleaned_data["q"] if form.is_valid() else ""
    target, mode = None, "add"
    replace_id = form.cleaned_data.get("replace") if form.is_valid() else None
    if replace_id:
        registered = project.participants if kind == "participant" else project.key_people
        target = registered.filter(pk=replace_id).first()
        if target is None:
            raise Http404("没有该登记")
        role = target.role
        mode = "change" if permissions.may_request_change(request.user, project) else "replace"
    elif not permissions.can_edit(request.user, project):
        mode = "none"  # may only replace (after submission) or ask (after the permit): says so
    if kind == "participant":
        picker = pickers.participant_candidates(project, role, query)
    else:
        picker = pickers.key_person_candidates(project, role, query)
    context = {
        "project": project,
        "picker": picker,
        "form": PickerSearchForm(initial={"role": role, "q": query, "replace": replace_id}, kind=kind),
        "mode": mode,
        "target": target,
        "stage": permissions.correction_stage(project),
        "action": Action.REPLACE_PARTICIPANT if kind == "participant" else Action.REPLACE_KEY_PERSON,
    }
    if request.htmx:
        return render(request, "projects/_picker_results.html", context)
    return render(request, "projects/picker.html", context)


@login_required
def pick_participant(request, pk: int):
    """参建单位的选择：按名称或统一社会信用代码搜索，按角色筛选，资质及有效期，不可选的说明原因。"""
    return _picker(request, pk, "participant")


@login_required
def pick_key_person(request, pk: int):
    """关键岗位人员的选择：本项目相应参建单位的在册人员，证书及有效期，不可选的说明原因。"""
    return _picker(request, pk, "key_person")


# --- corrections ---------------------------------------------------------------------------------------------


def _correct(request, project: Project, section: str, do, done: str):
    try:
        do()
    except (ValidationError, NotNow) as exc:
        messages.error(request, "更正失败：" + _errors(exc))
    else:
        messages.success(request, done)
    return _back(project, section)


@login_required
@require_POST
def participant_remove(request, pk: int, participant_id: int):
    project = _project_or_404(request.user, pk)
    participant = _get(project.participants.select_related("enterprise"), participant_id)
    reason = request.POST.get("reason", "")
    return _correct(
        request,
        project,
        "people",
        lambda: corrections.remove_participant(request.user, participant, reason),
        f"已移除{participant.get_role_display()}：{participant.enterprise.name}",
    )


@login_required
@require_POST
def participant_replace(request, pk: int, participant_id: int):
    project = _project_or_404(request.user, pk)
    participant = _get(project.participants.select_related("enterprise"), participant_id)
    form = ReplaceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "更正失败：请选择接替的企业" + ("并填写原因" if "reason" in form.errors else ""))
        return _back(project, "people")
    data = form.cleaned_data
    return _correct(
        request,
        project,
        "people",
        lambda: corrections.replace_participant(request.user, participant, data["choice"], data["reason"]),
        f"已更换{participant.get_role_display()}，原登记已记入更正记录",
    )


@login_required
@require_POST
def key_person_remove(request, pk: int, post_id: int):
    project = _project_or_404(request.user, pk)
    post = _get(project.key_people.select_related("person"), post_id)
    reason = request.POST.get("reason", "")
    return _correct(
        request,
        project,
        "people",
        lambda: corrections.remove_key_person(request.user, post, reason),
        f"已移除{post.get_role_display()}：{post.person.name}",
    )


@login_required
@require_POST
def key_person_replace(request, pk: int, post_id: int):
    project = _project_or_404(request.user, pk)
    post = _get(project.key_people.select_related("person"), post_id)
    form = ReplaceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "更正失败：请选择接任的人员")
        return _back(project, "people")
    data = form.cleaned_data
    return _correct(
        request,
        project,
        "people",
        lambda: corrections.replace_key_person(request.user, post, data["choice"], data["reason"]),
        f"已更换{post.get_role_display()}，原登记已记入更正记录",
    )


def _get(qs, pk: int):
    found = qs.filter(pk=pk).first()
    if found is None:
        raise Http404("没有该登记")
    return found


def _document_or_404(user, doc: int):
    try:
        return services.get_document_for(user, doc)
    except Document.DoesNotExist as exc:
        raise Http404("文件不存在或无权查看") from exc


@login_required
@require_POST
def document_withdraw(request, doc: int):
    document = _document_or_404(request.user, doc)
    reason = request.POST.get("reason", "")
    return _correct(
        request,
        document.project,
        "materials",
        lambda: corrections.withdraw_document(request.user, document, reason),
        f"已撤回：{document}；其各版本和存证保留",
    )


@login_required
@require_POST
def document_version(request, doc: int):
    """A new version of a document (the old ones stay): its keepers, and the applicant as a correction."""
    document = _document_or_404(request.user, doc)
    form = VersionForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "替换失败：请选择文件并说明替换原因")
        return _back(document.project, "materials")
    upload = form.cleaned_data["file"]
    try:
        version = services.upload_document(
            request.user,
            document.project,
            kind=document.kind,
            file_name=upload.name,
            content=upload,
            document=document,
            note=form.cleaned_data["note"],
        )
    except UploadRejected as exc:
        messages.error(request, f"替换失败：{exc.message}")
    except ValidationError as exc:
        messages.error(request, "替换失败：" + "；".join(exc.messages))
    else:
        messages.success(request, f"已上传新版本：{document} v{version.number}（原版本保留）")
        for group in version.duplicates:
            messages.warning(request, group.message)
    return _back(document.project, "materials")


# --- 变更 ------------------------------------------------------------------------------------------------------


@login_required
@require_POST
def change_request(request, pk: int):
    project = _project_or_404(request.user, pk)
    form = ChangeRequestForm(request.POST)
    if not form.is_valid():
        if not permissions.may_request_change(request.user, project):
            raise PermissionDenied(changes.REQUEST_REFUSED)
        messages.error(request, "申请失败：请填写变更原因")
        return _back(project, "people")
    data = form.cleaned_data
    newcomer = {"person_id" if data["action"] == Action.REPLACE_KEY_PERSON else "enterprise_id": data["choice"]}
    try:
        change = changes.request(
            request.user, project, data["action"], target_id=data["target_id"], reason=data["reason"], **newcomer
        )
    except (ValidationError, NotNow) as exc:
        messages.error(request, "申请失败：" + _errors(exc))
    else:
        messages.success(request, f"已提交变更申请：{change.summary}。批准前保持原登记。")
    return _back(project, "people")


@login_required
def change_list(request):
    """项目变更审批: the requests of the projects the user reads, pending first."""
    state = request.GET.get("state", "pending")
    state = state if state in ProjectChangeRequest.State.values else ""
    qs = changes.search(request.user, state=state)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    decidable = permissions.decidable_changes(request.user, list(page))
    return render(
        request,
        "projects/changes.html",
        {
            "page": page,
            "state": state or "all",
            "states": [*ProjectChangeRequest.State.choices, ("all", "全部")],
            "decidable": decidable,
            "decision_form": DecisionForm(),
        },
    )


@login_required
@require_POST
def change_decide(request, pk: int, action: str):
    try:
        change = changes.get_change_for(request.user, pk)
    except ProjectChangeRequest.DoesNotExist as exc:
        raise Http404("变更申请不存在或无权查看") from exc
    comment = request.POST.get("comment", "")
    try:
        if action == "approve":
            changes.approve(request.user, change, comment)
            messages.success(request, f"已批准并生效：{change.summary}")
        elif action == "reject":
            changes.reject(request.user, change, comment)
            messages.success(request, f"已驳回：{change.summary}")
        else:
            raise Http404("未知操作")
    except (ValidationError, NotNow) as exc:
        messages.error(request, "审批失败：" + _errors(exc))
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("projects:change_list")
