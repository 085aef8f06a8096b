from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from . import permissions
from .models import Notification


@login_required
def inbox(request):
    qs = permissions.visible_notifications(request.user).prefetch_related("deliveries")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    response = render(request, "notify/inbox.html", {"page": page, "query": ""})
    # Seen now: mark what this page showed as read.
    Notification.objects.filter(pk__in=[n.pk for n in page.object_list], read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return response
