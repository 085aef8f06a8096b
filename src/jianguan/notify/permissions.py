"""Who reads which notifications: each user their own (in-app notices are personal; the outbox and the group
robots are managed in the admin by the bureau's staff)."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Notification


def visible_notifications(user) -> QuerySet[Notification]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)
