"""Notifications through an outbox.

`notify()` writes, in the caller's transaction, one in-app `Notification` per recipient and one `Delivery` row
per outgoing copy: an email to each recipient with an address (when email is configured) and a message to each
active group robot of the project's jurisdiction (or city-wide) whose topic filter matches. After the commit a
background job (tasks.py) sends them through outbox.py; a job every minute retries what failed, with exponential
backoff, and gives up after NOTIFY_MAX_ATTEMPTS. Nothing is lost while the SMTP server or a robot is down: the
rows wait.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import tasks
from .models import Delivery, Message, Notification, WebhookEndpoint

CHANNELS = ("email", "webhook")  # beyond in-app, which every recipient always gets


def notify(
    recipients: Iterable,
    *,
    topic: str,
    title: str,
    body: str = "",
    url: str = "",
    project=None,
    channels: Iterable[str] | None = None,
) -> int:
    """One in-app notification per distinct active recipient, plus the outbox rows for email (recipients with
    an address) and the group robots (of `project`'s jurisdiction and city-wide ones; without a project only
    city-wide ones). `channels` limits the outgoing channels ("email", "webhook"; default both).
    Returns how many in-app notifications were written."""
    wanted = set(CHANNELS if channels is None else channels)
    users = {u.pk: u for u in recipients if u is not None and getattr(u, "is_active", False)}
    title, url = title[:200], url[:300]
    with transaction.atomic():
        notes = Notification.objects.bulk_create(
            [Notification(recipient_id=pk, topic=topic, title=title, body=body, url=url) for pk in users]
        )
        rows: list[Delivery] = []
        if "email" in wanted and email_enabled():
            rows += [
                Delivery(channel=Delivery.Channel.EMAIL, notification=n, target=users[n.recipient_id].email.strip())
                for n in notes
                if users[n.recipient_id].email.strip()
            ]
        if "webhook" in wanted:
            rows += [
                Delivery(channel=Delivery.Channel.WEBHOOK, endpoint=ep, target=ep.name[:254])
                for ep in endpoints_for(topic, project)
            ]
        if rows:
            message = Message.objects.create(topic=topic, title=title, body=body, url=url, project=project)
            now = timezone.now()
            for row in rows:
                row.message, row.next_attempt_at = message, now
            Delivery.objects.bulk_create(rows)
            transaction.on_commit(lambda: _enqueue(message.pk), robust=True)
    return len(users)


def unread_for(user):
    return Notification.objects.filter(recipient=user, read_at__isnull=True)


def email_enabled() -> bool:
    return bool(getattr(settings, "NOTIFY_EMAIL", False))


def endpoints_for(topic: str, project=None) -> list[WebhookEndpoint]:
    """Active robots for the project's jurisdiction (or one above it) and city-wide ones, filtered by topic."""
    scope = Q(jurisdiction__isnull=True)
    jurisdiction = getattr(project, "jurisdiction", None)
    ids = []
    while jurisdiction is not None and len(ids) < 10:
        ids.append(jurisdiction.pk)
        jurisdiction = jurisdiction.parent
    if ids:
        scope |= Q(jurisdiction_id__in=ids)
    return [ep for ep in WebhookEndpoint.objects.filter(scope, active=True).order_by("pk") if ep.wants(topic)]


def _enqueue(message_id: int) -> None:
    tasks.deliver_message(message_id)
