import csv
import datetime as dt
import itertools
from urllib.parse import quote, urlencode

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.http import Http404, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from jianguan.projects import permissions as project_permissions
from jianguan.projects.models import Project

from . import permissions
from .actuators import commands as actuators
from .alarms import handling, live
from .alarms import search as alarm_search
from .devices import changes
from .devices import services as device_services
from .forms import AlarmFilterForm, LimitRuleForm, attach_errors
from .limits import editing as limit_admin
from .models import Alarm, Device, DeviceChangeRequest, LimitRule
from .readings import overview, trends

# --- alarms ---------------------------------------------------------------------------------------------


@login_required
def alarm_list(request):
    form = AlarmFilterForm(request.GET)
    query = form.query()
    if query.state == "open":
        live_states = ",".join(live.OPEN_STATES)
    elif query.state in Alarm.State.values:
        live_states = query.state
    else:
        live_states = ""  # all
    page = Paginator(alarm_search.search(request.user, query), 30).get_page(request.GET.get("page"))
    can_ack, can_resolve = permissions.alarm_powers(request.user)
    params = query.as_params()
    districts = alarm_search.districts(request.user)
    return render(
        request,
        "sites/alarms.html",
        {
            "page": page,
            "form": form,
            "filters": query,
            "districts": districts if len(districts) > 1 else [],
            "parameters": alarm_search.parameters(),
            "query": urlencode(params),
            "can_ack": can_ack,
            "can_resolve": can_resolve,
            "can_view_limits": permissions.may_view_limits(request.user),
            # New alarms are added live at the top of the first page when the filter shows active ones (and
            # no other filter applies: the feed cannot tell whether a new alarm matches it).
            "live_prepend": page.number == 1
            and not query.narrowed
            and (not live_states or Alarm.State.ACTIVE in live_states.split(",")),
            "live_states": live_states,
            "cursor": live.cursor_now(request.user),
            "next": request.get_full_path(),
        },
    )


@login_required
def monitor_overview(request):
    """监测总览: the user's monitors (or cranes) with their latest values, worst first."""
    params = {k: request.GET.get(k, "").strip()[:100] for k in ("kind", "jurisdiction", "q", "status")}
    data = overview.overview(
        request.user,
        kind=params["kind"] or Device.Kind.DUST_NOISE,
        jurisdiction=params["jurisdiction"],
        q=params["q"],
        status=params["status"],
    )
    params["kind"] = data.kind  # what was shown (an unknown kind falls back to the monitors)
    districts = alarm_search.districts(request.user)
    return render(
        request,
        "sites/monitors.html",
        {
            "data": data,
            "page": Paginator(data.rows, 50).get_page(request.GET.get("page")),
            "filters": params,
            "query": urlencode({k: v for k, v in params.items() if v}),
            "kinds": [(k, Device.Kind(k).label) for k in overview.COLUMNS],
            "statuses": overview.STATUSES,
            "districts": districts if len(districts) > 1 else [],
            "can_view_limits": permissions.may_view_limits(request.user),
        },
    )


class _Echo:
    """The file a csv.writer writes to, handing each row back to the streaming response."""

    def write(self, value: str) -> str:
        return value


def _csv_download(rows, ascii_name: str, chinese_name: str) -> StreamingHttpResponse:
    """Rows streamed as a CSV file, UTF-8 with BOM so that Excel and WPS read the Chinese."""
    writer = csv.writer(_Echo())
    body = itertools.chain(["\ufeff"], (writer.writerow(row) for row in rows))
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}-{stamp}.csv\"; filename*=UTF-8''{quote(f'{chinese_name}-{stamp}.csv')}"
    )
    return response


@login_required
def alarm_export(request):
    """The alarm list's filters as a CSV file."""
    query = AlarmFilterForm(request.GET).query()
    rows = alarm_search.csv_rows(alarm_search.search(request.user, query, what="告警导出（CSV）"))
    return _csv_download(rows, "jianguan-alarms", "现场告警")


@login_required
def device_readings_export(request, device_id: int):
    """A monitor's or crane's readings of the last `days` (1–31, default 7) as a CSV file, one row per time."""
    device = _device_for(request.user, device_id, "监测数据导出（CSV）")
    raw = request.GET.get("days", "7")
    days = min(max(int(raw), 1), trends.EXPORT_MAX_DAYS) if raw.isdigit() else 7
    until = timezone.now()
    rows = trends.export_rows(device, until - dt.timedelta(days=days), until)
    return _csv_download(rows, f"jianguan-device-{device.pk}", f"{device.project.name}-{device.name}-监测数据")


@login_required
@require_POST
def alarm_action(request, pk: int, action: str):
    alarm = get_object_or_404(permissions.visible_alarms(request.user), pk=pk)
    if action not in ("acknowledge", "resolve"):
        raise Http404("未知操作")
    comment = request.POST.get("comment", "")
    try:  # a refused user gets 403 (PermissionDenied); a bad comment or state a message
        if action == "acknowledge":
            handling.acknowledge(request.user, alarm, comment)
        else:
            handling.resolve(request.user, alarm, comment)
        messages.success(request, "告警已更新。")
    except ValidationError as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        return redirect(next_url)
    return redirect("sites:alarms")


@login_required
async def alarm_stream(request):
    """Server-sent events: the alarms the user may read, as they are raised and change (see live.py)."""
    user = await request.auser()
    raw = request.GET.get("project", "")
    if raw and not raw.isdigit():
        raise Http404("项目不存在或无权查看")
    cursor = live.Cursor.parse(request.headers.get("Last-Event-ID") or request.GET.get("since"))
    csrf_token = get_token(request)
    if live.USE_POLL_POOL:
        # The stream polls on the shared pool: this request's thread gives its connection (session, user) back
        # now rather than holding it for the stream's five minutes, and before it waits for a poll thread,
        # which may need that very connection from the process's database pool.
        await sync_to_async(connections.close_all)()
    watch = await live.run_poll(lambda: _watch(user, int(raw) if raw else None, cursor, csrf_token))
    response = StreamingHttpResponse(live.stream(watch), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass events through at once
    return response


def _watch(user, project_id, cursor, csrf_token) -> live.AlarmWatch:
    try:
        return live.watch_for(user, project_id, cursor, csrf_token)
    except Project.DoesNotExist as exc:
        raise Http404("项目不存在或无权查看") from exc


# --- limits ---------------------------------------------------------------------------------------------


def _limits_viewer(request):
    if not permissions.may_view_limits(request.user):
        raise PermissionDenied("只有市住建局管理员和区县监管人员可以查看限值设置")
    return request.user


@login_required
def limit_list(request):
    user = _limits_viewer(request)
    overview = limit_admin.overview(user, request.GET.get("district"))
    return render(
        request,
        "sites/limits.html",
        {
            "overview": overview,
            "can_create": permissions.may_create_limit(user),
            "own_district": permissions.own_limit_district(user),
            "pickup_seconds": limit_admin.PICKUP_SECONDS,
            "can_view_limits": True,
        },
    )


@login_required
def limit_create(request):
    user = _limits_viewer(request)
    if not permissions.may_create_limit(user):
        raise PermissionDenied("您无权新增限值规则")
    copy_of = limit_admin.copy_source(user, request.GET["from"]) if request.GET.get("from", "").isdigit() else None
    form = LimitRuleForm(request.POST or None, initial=limit_admin.initial_for(copy_of))
    if request.method == "POST" and form.is_valid():
        try:
            rule = limit_admin.create_rule(user, form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, limit_admin.saved_message(rule))
            return redirect(f"{_list_url(rule)}#rule-{rule.pk}")
    scope = limit_admin.scope_label(permissions.own_limit_district(user))
    return render(
        request,
        "sites/limit_form.html",
        {
            "form": form,
            "title": f"新增限值规则（{scope}）",
            "copy_of": copy_of,
            "pickup_seconds": limit_admin.PICKUP_SECONDS,
        },
    )


def _limit_rule(user, pk: int):
    """A rule the user may read (404 otherwise, for those who may not see the limit pages too)."""
    try:
        return limit_admin.get_rule_for(user, pk)
    except LimitRule.DoesNotExist as exc:
        raise Http404("限值规则不存在或无权查看") from exc


@login_required
def limit_edit(request, pk: int):
    user = request.user
    rule = _limit_rule(user, pk)
    if not permissions.may_edit_limit(user, rule):
        raise PermissionDenied("您无权修改该限值规则")
    form = LimitRuleForm(request.POST or None, initial=limit_admin.initial_for(rule))
    if request.method == "POST" and form.is_valid():
        try:
            rule = limit_admin.update_rule(user, rule, form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, limit_admin.saved_message(rule))
            return redirect(f"{_list_url(rule)}#rule-{rule.pk}")
    return render(
        request,
        "sites/limit_form.html",
        {
            "form": form,
            "title": f"修改限值规则：{rule.name}（{limit_admin.scope_label(rule.jurisdiction)}）",
            "rule": rule,
            "pickup_seconds": limit_admin.PICKUP_SECONDS,
        },
    )


@login_required
@require_POST
def limit_toggle(request, pk: int, action: str):
    user = request.user
    rule = _limit_rule(user, pk)
    if action not in ("activate", "deactivate"):
        raise Http404
    try:
        rule = limit_admin.set_active(user, rule, action == "activate")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, limit_admin.saved_message(rule, "启用" if rule.active else "停用"))
    return redirect(f"{_list_url(rule)}#rule-{rule.pk}")


def _list_url(rule) -> str:
    url = reverse("sites:limits")
    return f"{url}?district={rule.jurisdiction.code}" if rule.jurisdiction_id else url


# --- devices --------------------------------------------------------------------------------------------


def _project_for(user, project_id: int) -> Project:
    project = get_object_or_404(project_permissions.visible_projects(user), pk=project_id)
    return project


@login_required
def device_create(request, project_id: int):
    """The general contractor or the district bureau registers a device of the project."""
    from .forms import DeviceForm

    project = _project_for(request.user, project_id)
    if not permissions.may_manage_devices(request.user, project):
        raise PermissionDenied(device_services.MANAGE_REFUSED)
    form = DeviceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = device_services.register_device(request.user, project, form.device_data())
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            if getattr(device, "issued_token", None):
                # Shown once: only its hash is kept.
                return render(request, "sites/device_token.html", {"project": project, "device": device})
            messages.success(request, f"设备“{device.name}”已登记。")
            return redirect(reverse("projects:detail", args=[project.pk]) + "#site")
    return render(request, "sites/device_form.html", {"form": form, "project": project})


def _device_for(user, device_id: int, what: str = "监测设备") -> Device:
    """The device, if the user may read its project's monitoring (404 otherwise, as for a device that does not
    exist)."""
    try:
        return device_services.get_device_for(user, device_id, what=what)
    except Device.DoesNotExist as exc:
        raise Http404("设备不存在或无权查看") from exc


def _managed_device(user, device_id: int) -> Device:
    device = _device_for(user, device_id)
    if not permissions.may_manage_device(user, device):
        raise PermissionDenied(device_services.MANAGE_REFUSED)
    return device


def _back_to_site(device: Device):
    return redirect(reverse("projects:detail", args=[device.project_id]) + "#site")


def _requested_message(request, device: Device) -> bool:
    """Tells the user which of their changes wait for the district bureau; False when none do."""
    asked = getattr(device, "requested", [])
    if asked:
        what = "、".join(change.get_action_display() for change in asked)
        messages.info(request, f"“{device.name}”的{what}申请已提交区县住建部门审批，批准后生效。")
    return bool(asked)


@login_required
def device_edit(request, device_id: int):
    """A device's details after registration, and taking it out of service or back."""
    from .forms import DeviceEditForm

    device = _managed_device(request.user, device_id)
    must_request = permissions.may_request_device_change(request.user, device)
    form = DeviceEditForm(request.POST or None, device=device, must_request=must_request)
    if request.method == "POST" and form.is_valid():
        try:
            device = device_services.update_device(request.user, device, form.cleaned_data)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            if not _requested_message(request, device) or device.applied:
                messages.success(request, f"设备“{device.name}”已更新。")
            return _back_to_site(device)
    return render(
        request,
        "sites/device_edit.html",
        {
            "form": form,
            "device": device,
            "project": device.project,
            "must_request": must_request,
            "pending": changes.pending_for(device.project).filter(device=device),
        },
    )


@login_required
@require_POST
def device_service(request, device_id: int, action: str):
    """停用 / 恢复启用 a device, or issue a new HTTP token (shown once); requests for them under change control."""

    device = _managed_device(request.user, device_id)
    reason = request.POST.get("reason", "")
    try:
        if action == "token":
            device = device_services.reissue_token(request.user, device, reason)
            return render(
                request, "sites/device_token.html", {"project": device.project, "device": device, "reissued": True}
            )
        if action not in ("retire", "restore"):
            raise Http404("未知操作")
        device = device_services.set_retired(request.user, device, action == "retire", reason)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("sites:device_edit", device_id=device.pk)
    if not _requested_message(request, device):
        messages.success(request, f"设备“{device.name}”已{'停用' if action == 'retire' else '恢复启用'}。")
    return _back_to_site(device)


# --- device change requests (the district bureau's approval queue) --------------------------------------


@login_required
def device_change_list(request):
    """设备变更审批: pending requests first, then the decided ones, of the projects the user reads."""
    state = request.GET.get("state", "pending")
    qs = permissions.visible_device_changes(request.user)
    if state in DeviceChangeRequest.State.values:
        qs = qs.filter(state=state)
    else:
        state = "all"
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    decidable = permissions.decidable_changes(request.user, page)
    return render(
        request,
        "sites/device_changes.html",
        {
            "page": page,
            "state": state,
            "states": [("pending", "待审批"), ("approved", "已批准"), ("rejected", "已驳回"), ("all", "全部")],
            "decidable": decidable,
            "can_view_limits": permissions.may_view_limits(request.user),
        },
    )


@login_required
@require_POST
def device_change_decide(request, pk: int, action: str):
    change = get_object_or_404(permissions.visible_device_changes(request.user), pk=pk)
    comment = request.POST.get("comment", "")
    try:
        if action == "approve":
            changes.approve(request.user, change, comment)
            messages.success(request, f"已批准：{change.device.name} {change.get_action_display()}，已生效。")
        elif action == "reject":
            changes.reject(request.user, change, comment)
            messages.success(request, f"已驳回：{change.device.name} {change.get_action_display()}。")
        else:
            raise Http404("未知操作")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        return redirect(next_url)
    return redirect("sites:device_changes")


@login_required
@require_POST
def actuator_command(request, device_id: int):
    """A regulator switches a sprinkler / fog cannon on or off (the device acknowledges over MQTT)."""
    device = _device_for(request.user, device_id)
    action = request.POST.get("action", "")
    if action not in ("on", "off"):
        raise Http404("未知操作")
    try:
        command = actuators.issue_manually(request.user, device, action)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        verb = "开启" if action == "on" else "关闭"
        messages.success(request, f"已向“{device.name}”发送{verb}指令（{command.command_id}），等待设备确认。")
    return redirect(reverse("projects:detail", args=[device.project_id]) + "#site")
