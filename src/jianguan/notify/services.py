from collections.abc import Iterable

from .models import Notification


def notify(recipients: Iterable, *, topic: str, title: str, body: str = "", url: str = "") -> int:
    """One in-app notification per distinct recipient; returns how many were written."""
    users = {u.pk: u for u in recipients if u is not None and getattr(u, "is_active", False)}
    Notification.objects.bulk_create(
        [Notification(recipient_id=pk, topic=topic, title=title[:200], body=body, url=url[:300]) for pk in users]
    )
    return len(users)


def unread_for(user):
    return Notification.objects.filter(recipient=user, read_at__isnull=True)
