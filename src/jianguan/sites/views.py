from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import alarms
from .models import Alarm


@login_required
def alarm_list(request):
    state = request.GET.get("state", "open")
    qs = alarms.visible_alarms(request.user)
    if state == "open":
        qs = qs.filter(state__in=[Alarm.State.ACTIVE, Alarm.State.ACKNOWLEDGED])
    elif state in Alarm.State.values:
        qs = qs.filter(state=state)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "sites/alarms.html",
        {"page": page, "state": state, "states": Alarm.State.choices, "query": f"state={state}"},
    )


@login_required
@require_POST
def alarm_action(request, pk: int, action: str):
    alarm = get_object_or_404(alarms.visible_alarms(request.user), pk=pk)
    comment = request.POST.get("comment", "")
    try:
        if action == "acknowledge":
            alarms.acknowledge(request.user, alarm, comment)
        elif action == "resolve":
            alarms.resolve(request.user, alarm, comment)
        messages.success(request, "告警已更新。")
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
    return redirect(request.POST.get("next") or "sites:alarms")
