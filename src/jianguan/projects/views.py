"""Web pages over the same services the API uses. Views only translate between HTTP and services."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
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

from . import changes, corrections, dangerous_works, lifecycle, permissions, services, todo
from .documents import UploadRejected
from .forms import (
    DocumentForm,
    KeyPersonForm,
    ParticipantForm,
    PickerSearchForm,
    ProgressReportForm,
    ProjectForm,
    TransitionForm,
)
from .models import Document, DocumentVersion, Project, ProjectType, State
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


def home(request):
    """The landing page: an enterprise user's to-do list, everyone else's project list (anonymous: the login)."""
    if getattr(request.user, "role", None) == "enterprise_user" and request.user.enterprise_id:
        return redirect("projects:todo")
    return redirect("projects:list")


@login_required
def todo_list(request):
    """待办: what waits for the enterprise's move (projects/todo.py)."""
    if not permissions.can_create_project(request.user):
        raise PermissionDenied("待办页面供企业用户使用")
    return render(request, "projects/todo.html", {"sections": todo.sections_for(request.user)})


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
    return render(request, "projects/detail.html", detail_context(request, project))


def detail_context(request, project: Project) -> dict:
    """The project page: its sections (概况, 材料, 人员, 设备, 记录), each only with the part it needs."""
    user = request.user
    parts = services.page_parts(user, project)
    P = permissions.Part
    stage = permissions.correction_stage(project)
    context = {
        "project": project,
        "parts": parts,
        "withheld": [P(p).label for p, shown in parts.items() if not shown],
        "dangerous": dangerous_works.highest_per_category(dangerous_works.match(project.parameters or {})),
        "can_edit": permissions.can_edit(user, project),
        "can_upload": permissions.can_upload(user, project),
        "may_correct": permissions.may_correct(user, project),
        "may_request_change": permissions.may_request_change(user, project),
        "stage": stage,
        "works_state": project.state in permissions.WORKS_STATES,
        **actions_context(user, project),
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
        context.update(materials_context(user, project))
    if parts[P.PROJECT_PARTICIPANTS]:
        context.update(
            participants=project.participants.select_related("enterprise"),
            key_people=project.key_people.select_related("person__employer").prefetch_related("person__certificates"),
            participant_search=PickerSearchForm(kind="participant", auto_id="participant-search-%s"),
            key_person_search=PickerSearchForm(kind="key_person", auto_id="key-person-search-%s"),
        )
    if parts[P.PROJECT_RECORDS]:
        context.update(
            prereview=project.prereviews.first(),
            transitions=project.transitions.select_related("actor"),
            timeline=services.timeline(project)[:100],
            corrections=corrections.history(project)[:50],
            change_panel=changes.panel(user, project),
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
    panel = context.get("alarm_panel") or {}
    context["show_devices"] = bool(
        context.get("devices") or panel.get("open") or panel.get("closed") or context.get("can_manage_devices")
        or context.get("gate_summary")
    )  # fmt: skip
    return context


def actions_context(user, project: Project) -> dict:
    """The lifecycle steps the user may take, and what a submission would still lack (asked before it goes)."""
    available = lifecycle.available(user, project)
    gaps = services.submission_gaps(project) if any(name == "submit" for name, _ in available) else None
    return {"available": available, "gaps": gaps}


def materials_context(user, project: Project) -> dict:
    """The checklist (one row per required item, with the documents that satisfy it and, where the user may
    add the kind, its own upload form), the documents, the warnings."""
    documents = list(project.documents.prefetch_related("versions__uploaded_by").select_related("withdrawn_by"))
    active = [d for d in documents if d.withdrawn_at is None]
    rows = []
    for req in filing_requirements(project.project_type, project.parameters or {}):
        found = [
            d
            for d in active
            if d.kind == req.kind and (not req.category or d.category == req.category) and d.versions.all()
        ]
        rows.append(ChecklistRow(req, found, permissions.can_upload(user, project, req.kind)))
    categories = services.category_choices(project, "special_plan")
    return {
        "checklist": rows,
        "missing_count": sum(1 for row in rows if not row.found),
        "documents": active,
        "withdrawn_documents": [d for d in documents if d.withdrawn_at is not None],
        "duplicates": services.duplicate_files(project),
        "can_download": permissions.can_download(user, project),
        "document_form": DocumentForm(
            kinds=permissions.uploadable_kinds(user, project), categories=categories, auto_id="upload-%s"
        ),
        "special_kinds": sorted(services.CATEGORY_KINDS),
    }


class ChecklistRow:
    """One item of the 申报材料清单 on the page."""

    def __init__(self, requirement, found: list[Document], can_upload: bool):
        self.requirement, self.found, self.can_upload = requirement, found, can_upload
        category = requirement.category
        index = dangerous_works.CATEGORIES.index(category) if category in dangerous_works.CATEGORIES else ""
        self.key = f"req-{requirement.kind}{'-' if category else ''}{index}"


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
            _conversion_note(request, form)
            messages.success(request, f"项目已创建（{project.code}），请登记参建单位、关键岗位人员并上传材料。")
            return redirect("projects:detail", pk=project.pk)
    return render(request, "projects/form.html", _form_context(form, "申报新项目"))


def _form_context(form: ProjectForm, title: str, project: Project | None = None) -> dict:
    """The filing form with what its map needs: the districts' boundaries, the centre, the base-map tiles."""
    jurisdictions = list(Jurisdiction.objects.exclude(parent=None).exclude(boundary=None))
    center = settings.JIANGUAN["MAP_CENTER"]
    return {
        "form": form,
        "title": title,
        "project": project,
        "map": {
            "center": [project.lat, project.lon] if project else list(center),
            "tiles": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
            "districts": [
                {"name": j.name, "id": j.pk, "approximate": j.boundary_approximate, "boundary": j.boundary}
                for j in jurisdictions
            ],
            "convert_url": "/api/geo/to-wgs84",
            "approximate": any(j.boundary_approximate for j in jurisdictions),
        },
    }


def _conversion_note(request, form: ProjectForm) -> None:
    if form.conversion is not None:
        messages.info(
            request, f"{form.conversion.note}：纬度 {form.conversion.lat:.6f}，经度 {form.conversion.lon:.6f}。"
        )


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
            _conversion_note(request, form)
            messages.success(request, "项目信息已保存。")
            return redirect("projects:detail", pk=pk)
    return render(request, "projects/form.html", _form_context(form, f"修改：{project.name}", project))


def _attach_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        name = field.replace("parameters.", "param_")
        form.add_error(name if name in form.fields else None, errors)


def _back(project_or_pk, section: str = ""):
    pk = getattr(project_or_pk, "pk", project_or_pk)
    return redirect(reverse("projects:detail", args=[pk]) + (f"#{section}" if section else ""))


@login_required
@require_POST
def participant_add(request, pk: int):
    project = _project_or_404(request.user, pk)
    form = ParticipantForm(request.POST)
    if form.is_valid():
        try:
            services.add_participant(request.user, project, form.cleaned_data["enterprise"], form.cleaned_data["role"])
        except ValidationError as exc:
            messages.error(request, "登记失败：" + "；".join(exc.messages))
        else:
            messages.success(request, "参建单位已登记。")
    else:
        messages.error(request, "参建单位登记失败：请选择角色和企业。")
    return _back(pk, "people")


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
    return _back(pk, "people")


@login_required
@require_POST
def document_upload(request, pk: int):
    """Uploads a document: from the general form, or from a checklist row (with htmx the row answers in place,
    with the checklist's count, the document list and the submit button's question refreshed)."""
    project = _project_or_404(request.user, pk)
    form = DocumentForm(request.POST, request.FILES)
    row_key = request.POST.get("row", "")[:80]
    error, version = "", None
    if not form.is_valid():
        error = "上传失败：" + "；".join(e for errs in form.errors.values() for e in errs)
    else:
        upload = form.cleaned_data["file"]
        try:
            version = services.upload_document(
                request.user,
                project,
                kind=form.cleaned_data["kind"],
                category=form.cleaned_data["category"],
                title=form.cleaned_data["title"],
                valid_until=form.cleaned_data["valid_until"],
                file_name=upload.name,
                content=upload,
            )
        except UploadRejected as exc:
            error = f"上传失败：{exc.message}"
        except ValidationError as exc:
            error = "上传失败：" + "；".join(exc.messages)
    warnings = [group.message for group in version.duplicates] if version else []
    if request.htmx and row_key:
        return _checklist_answer(request, project, row_key, error, version, warnings)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"已上传：{version.document}（SHA-256 {version.sha256[:12]}…）")
        for warning in warnings:
            messages.warning(request, warning)
    return _back(pk, "materials")


def _checklist_answer(request, project: Project, row_key: str, error: str, version, warnings: list[str]):
    """The checklist row uploaded from, re-rendered, with out-of-band updates of what the upload changed."""
    project.refresh_from_db()
    user = request.user
    context = {
        "project": project,
        **materials_context(user, project),
        **actions_context(user, project),
        "may_correct": permissions.may_correct(user, project),
        "may_request_change": permissions.may_request_change(user, project),
        "stage": permissions.correction_stage(project),
    }
    evidence = ledger.entries_in_scope(f"project:{project.pk}")
    context["evidence_versions"] = {
        int(rid): e for (rtype, rid), e in evidence.items() if rtype == "projects.documentversion"
    }
    row = next((r for r in context["checklist"] if r.key == row_key), None)
    if row is None:
        raise Http404("没有该清单项")
    context.update(row=row, row_error=error, row_version=version, row_warnings=warnings, oob=True)
    return render(request, "projects/_checklist_answer.html", context, status=422 if error else 200)


@login_required
@require_POST
def transition(request, pk: int):
    project = _project_or_404(request.user, pk)
    form = TransitionForm(request.POST)
    if form.is_valid() and form.cleaned_data["name"] == "submit" and request.POST.get("confirmed") != "1":
        # Submitting with items missing is asked first (confirm.js asks in the browser; without it, this page).
        gaps = services.submission_gaps(project)
        if gaps.total and lifecycle.actor_kinds(request.user, project) & {"applicant"}:
            return render(request, "projects/confirm_submit.html", {"project": project, "gaps": gaps})
    if form.is_valid():
        try:
            project = lifecycle.perform(project, form.cleaned_data["name"], request.user, form.cleaned_data["reason"])
        except lifecycle.TransitionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"操作成功，项目当前状态：{project.get_state_display()}")
    return _back(pk, "overview")


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
