"""Web pages over the same services the API uses. Views only translate between HTTP and services."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_POST

from jianguan.core.models import Jurisdiction
from jianguan.ledger import services as ledger
from jianguan.sites import permissions as site_permissions
from jianguan.sites.alarms import live as site_live
from jianguan.sites.devices import changes as site_device_changes
from jianguan.sites.devices import services as site_devices
from jianguan.sites.readings import trends as site_trends
from jianguan.sites.workforce import roster as site_roster

from . import dangerous_works, lifecycle, permissions, services
from .documents import UploadRejected
from .forms import (
    DocumentForm,
    KeyPersonForm,
    ParticipantForm,
    ProgressReportForm,
    ProjectForm,
    TransitionForm,
)
from .models import DocumentVersion, Project, ProjectType, State
from .prereview import missing_documents
from .requirements import filing_requirements


def _project_or_404(user, pk: int) -> Project:
    try:
        return services.get_project_for(user, pk)
    except Project.DoesNotExist as exc:
        raise Http404("项目不存在或无权查看") from exc


def _filters(request) -> dict[str, str]:
    return {k: request.GET.get(k, "").strip()[:100] for k in ("q", "jurisdiction", "project_type", "state")}


def _day(text: str) -> dt.date | None:
    """A YYYY-MM-DD query parameter; None when absent or not a real day."""
    try:
        return parse_date(text[:10])
    except ValueError:  # well formed, but no such day (2026-02-30)
        return None


def _page(request, qs, per_page=20):
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


@login_required
def project_list(request):
    filters = _filters(request)
    page = _page(request, services.search_projects(request.user, **filters))
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "projects/list.html",
        {
            "page": page,
            "filters": filters,
            "query": query,
            "jurisdictions": Jurisdiction.objects.exclude(parent=None),
            "types": ProjectType.choices,
            "states": State.choices,
            "can_create": permissions.can_create_project(request.user),
        },
    )


@login_required
def project_detail(request, pk: int):
    project = _project_or_404(request.user, pk)
    user = request.user
    parts = services.page_parts(user, project)
    P = permissions.Part
    context = {
        "project": project,
        "parts": parts,
        "withheld": [P(p).label for p, shown in parts.items() if not shown],
        "matches": dangerous_works.match(project.parameters or {}),
        "available": lifecycle.available(user, project),
        "can_edit": permissions.can_edit(user, project),
        "can_upload": permissions.can_upload(user, project),
        "works_state": project.state in permissions.WORKS_STATES,
        "parameter_specs": {s.key: s for s in dangerous_works.PARAMETERS},
    }
    if parts[P.PROJECT_DOCUMENTS] or parts[P.PROJECT_RECORDS]:
        evidence = ledger.entries_in_scope(f"project:{project.pk}")
        context["evidence_versions"] = {
            int(rid): e for (rtype, rid), e in evidence.items() if rtype == "projects.documentversion"
        }
        context["evidence_transitions"] = {
            int(rid): e for (rtype, rid), e in evidence.items() if rtype == "projects.transition"
        }
    if parts[P.PROJECT_DOCUMENTS]:
        reqs = filing_requirements(project.project_type, project.parameters or {})
        missing = {id(r) for r in missing_documents(project, reqs)}
        context.update(
            requirements=[(r, id(r) not in missing) for r in reqs],
            documents=project.documents.prefetch_related("versions__uploaded_by"),
            can_download=permissions.can_download(user, project),
            document_form=DocumentForm(kinds=permissions.uploadable_kinds(user, project)),
        )
    if parts[P.PROJECT_PARTICIPANTS]:
        context.update(
            participants=project.participants.select_related("enterprise"),
            key_people=project.key_people.select_related("person__employer").prefetch_related("person__certificates"),
            participant_form=ParticipantForm(),
            key_person_form=KeyPersonForm(project=project),
        )
    if parts[P.PROJECT_RECORDS]:
        context.update(
            prereview=project.prereviews.first(),
            transitions=project.transitions.select_related("actor"),
            timeline=services.timeline(project)[:100],
        )
    if parts[P.PROJECT_PROGRESS]:
        context.update(reports=project.progress_reports.prefetch_related("photos"), report_form=ProgressReportForm())
    if parts[P.SITE_MONITORING]:
        devices = site_trends.with_latest(site_devices.devices_for(project), project)
        context.update(
            devices=devices,
            trend_windows=site_trends.WINDOWS if any(d.latest for d in devices) else [],
            alarm_panel=site_live.project_panel(user, project),
            can_manage_devices=site_permissions.may_manage_devices(user, project),
            device_changes=site_device_changes.panel(user, project),
            can_command_actuators=permissions.is_regulator_of(user, project),
        )
    if parts[P.SITE_WORKFORCE]:
        context["gate_summary"] = site_roster.gate_summary_for(project, _day(request.GET.get("attendance_day", "")))
    return render(request, "projects/detail.html", context)


@login_required
def project_create(request):
    if not permissions.can_create_project(request.user):
        raise PermissionDenied("只有企业用户可以申报项目")
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.create_project(request.user, form.service_data())
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, f"项目已创建（{project.code}），请登记参建单位、关键岗位人员并上传材料。")
            return redirect("projects:detail", pk=project.pk)
    return render(request, "projects/form.html", {"form": form, "title": "申报新项目"})


@login_required
def project_edit(request, pk: int):
    project = _project_or_404(request.user, pk)
    if not permissions.can_edit(request.user, project):
        raise PermissionDenied("当前状态下您不能修改该项目")
    form = ProjectForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_project(request.user, Project.objects.get(pk=pk), form.service_data())
        except ValidationError as exc:
            _attach_errors(form, exc)
        else:
            messages.success(request, "项目信息已保存。")
            return redirect("projects:detail", pk=pk)
    return render(request, "projects/form.html", {"form": form, "title": f"修改：{project.name}", "project": project})


def _attach_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        name = field.replace("parameters.", "param_")
        form.add_error(name if name in form.fields else None, errors)


@login_required
@require_POST
def participant_add(request, pk: int):
    project = _project_or_404(request.user, pk)
    form = ParticipantForm(request.POST)
    if form.is_valid():
        services.add_participant(request.user, project, form.cleaned_data["enterprise"], form.cleaned_data["role"])
        messages.success(request, "参建单位已登记。")
    else:
        messages.error(request, "参建单位登记失败：请选择角色和企业。")
    return redirect("projects:detail", pk=pk)


@login_required
@require_POST
def key_person_add(request, pk: int):
    project = _project_or_404(request.user, pk)
    form = KeyPersonForm(request.POST, project=project)
    if form.is_valid():
        try:
            services.add_key_person(request.user, project, form.cleaned_data["person"], form.cleaned_data["role"])
        except ValidationError as exc:
            messages.error(request, "登记失败：" + "；".join(exc.messages))
        else:
            messages.success(request, "关键岗位人员已登记。")
    else:
        messages.error(request, "登记失败：请选择岗位和本项目参建单位的人员。")
    return redirect("projects:detail", pk=pk)


@login_required
@require_POST
def document_upload(request, pk: int):
    project = _project_or_404(request.user, pk)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "上传失败：" + "；".join(e for errs in form.errors.values() for e in errs))
        return redirect("projects:detail", pk=pk)
    upload = form.cleaned_data["file"]
    try:
        version = services.upload_document(
            request.user,
            project,
            kind=form.cleaned_data["kind"],
            category=form.cleaned_data["category"].strip(),
            title=form.cleaned_data["title"],
            valid_until=form.cleaned_data["valid_until"],
            file_name=upload.name,
            content=upload,
        )
    except UploadRejected as exc:
        messages.error(request, f"上传失败：{exc.message}")
    else:
        messages.success(request, f"已上传：{version.document}（SHA-256 {version.sha256[:12]}…）")
    return redirect("projects:detail", pk=pk)


@login_required
@require_POST
def transition(request, pk: int):
    project = _project_or_404(request.user, pk)
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            project = lifecycle.perform(project, form.cleaned_data["name"], request.user, form.cleaned_data["reason"])
        except lifecycle.TransitionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"操作成功，项目当前状态：{project.get_state_display()}")
    return redirect("projects:detail", pk=pk)


@login_required
@require_POST
def progress_report(request, pk: int):
    project = _project_or_404(request.user, pk)
    form = ProgressReportForm(request.POST, request.FILES)
    if form.is_valid():
        photo = form.cleaned_data.get("photo")
        try:
            services.add_progress_report(
                request.user,
                project,
                report_date=form.cleaned_data["report_date"],
                percent_complete=form.cleaned_data["percent_complete"],
                summary=form.cleaned_data["summary"],
                photos=[(photo.name, photo)] if photo else [],
            )
        except UploadRejected as exc:
            messages.error(request, f"提交失败：{exc.message}")
        else:
            messages.success(request, "进度报告已提交。")
    else:
        messages.error(request, "提交失败：请填写报告日期、形象进度和进展说明。")
    return redirect("projects:detail", pk=pk)


@login_required
def document_download(request, doc: int, number: int):
    try:
        version = services.get_version_for(request.user, doc, number)
    except DocumentVersion.DoesNotExist as exc:
        raise Http404("文件不存在或无权查看") from exc
    handle = services.open_version_for_download(request.user, version)
    return FileResponse(handle, as_attachment=True, filename=version.original_name, content_type=version.content_type)


def public_list(request):
    filters = _filters(request)
    filters["state"] = filters["state"] if filters["state"] in permissions.PUBLISHED_STATES else ""
    qs = services.search_public_projects(**filters)
    return render(
        request,
        "projects/public_list.html",
        {
            "page": _page(request, qs),
            "filters": filters,
            "jurisdictions": Jurisdiction.objects.exclude(parent=None),
            "types": ProjectType.choices,
        },
    )


def public_detail(request, pk: int):
    project = get_object_or_404(services.search_projects(None), pk=pk)
    return render(
        request,
        "projects/public_detail.html",
        {"project": project, "participants": project.participants.select_related("enterprise")},
    )
