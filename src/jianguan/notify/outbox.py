"""The outbox's sending side: due deliveries claimed and sent (email, group robots), retried with backoff,
given up after NOTIFY_MAX_ATTEMPTS, requeued by hand, and finished rows purged. Rows are written by
services.notify(); the jobs in tasks.py call here."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.utils import timezone

from . import webhooks
from .models import Delivery, Message, WebhookEndpoint

log = logging.getLogger(__name__)

# A claimed row is not picked up by another worker for this long (longer than any one send can take);
# a worker that dies mid-send leaves the row to be retried after it.
LEASE = dt.timedelta(minutes=5)
BATCH = 500
# The last line of every robot message: a DingTalk robot secured by keyword can use “监管平台”.
ROBOT_FOOTER = "监管平台自动推送"


class GiveUp(Exception):
    """A delivery that cannot succeed however often it is retried (e.g. its robot was deleted)."""


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failure: base · 2^(attempts-1), at most the cap."""
    base = settings.NOTIFY_RETRY_BASE_SECONDS
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), settings.NOTIFY_RETRY_MAX_SECONDS))


def absolute(url: str) -> str:
    """The platform link for mail and robots: SITE_URL + path; none when SITE_URL is not set."""
    if not url or "://" in url:
        return url
    site = getattr(settings, "SITE_URL", "")
    return f"{site}{url}" if site else ""


def deliver_due(*, message_id: int | None = None, now: dt.datetime | None = None, limit: int = BATCH) -> dict:
    """Sends the outbox rows that are due (pending, or failed and past their backoff); returns counts.
    When a target fails (the SMTP server, one robot), its other due rows are not tried in the same run: they
    wait, without using up an attempt, until the failed row's next try."""
    now = now or timezone.now()
    open_states = [Delivery.Status.PENDING, Delivery.Status.FAILED]
    due = Delivery.objects.filter(status__in=open_states, next_attempt_at__lte=now).select_related(
        "message", "endpoint"
    )
    if message_id is not None:
        due = due.filter(message_id=message_id)
    counts = {"sent": 0, "failed": 0, "gave_up": 0, "deferred": 0}
    down: dict[tuple, dt.datetime] = {}  # target → when it is tried again
    deferred: dict[tuple, list[int]] = {}
    for row in due.order_by("next_attempt_at", "pk")[:limit]:
        key = (row.channel, row.endpoint_id)
        if key in down:
            deferred.setdefault(key, []).append(row.pk)
            continue
        if not _claim(row, now):
            continue  # another worker has it
        status = attempt(row, now)
        counts[status] += 1
        if status == Delivery.Status.FAILED:
            down[key] = row.next_attempt_at
        elif status == Delivery.Status.GAVE_UP and row.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            down[key] = now + backoff(1)
    for key, ids in deferred.items():
        counts["deferred"] += Delivery.objects.filter(
            pk__in=ids, status__in=open_states, next_attempt_at__lte=now
        ).update(next_attempt_at=down[key])
    return counts


def _claim(row: Delivery, now: dt.datetime) -> bool:
    claimed = Delivery.objects.filter(
        pk=row.pk, status=row.status, attempts=row.attempts, next_attempt_at=row.next_attempt_at
    ).update(next_attempt_at=now + LEASE)
    return claimed == 1


def attempt(row: Delivery, now: dt.datetime | None = None) -> str:
    """One try at sending `row`; records the outcome on the row and returns its new status."""
    now = now or timezone.now()
    row.attempts += 1
    try:
        _send(row)
    except Exception as exc:  # every failure is recorded on the row; none may stop the other deliveries
        permanent = isinstance(exc, GiveUp)
        if not isinstance(exc, GiveUp | webhooks.WebhookError | OSError):
            log.exception("notify: delivery %s failed unexpectedly", row.pk)
        row.last_error = (str(exc) or exc.__class__.__name__)[:1000]
        if permanent or row.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            row.status, row.next_attempt_at = Delivery.Status.GAVE_UP, None
            log.warning("notify: gave up delivery %s to %s: %s", row.pk, row.target, row.last_error)
        else:
            row.status, row.next_attempt_at = Delivery.Status.FAILED, now + backoff(row.attempts)
    else:
        row.status, row.sent_at, row.next_attempt_at, row.last_error = Delivery.Status.SENT, now, None, ""
    row.save(update_fields=["attempts", "status", "next_attempt_at", "last_error", "sent_at"])
    return row.status


def _send(row: Delivery) -> None:
    message = row.message
    link = absolute(message.url)
    if row.channel == Delivery.Channel.EMAIL:
        text = message.body
        if link:
            text += f"\n\n详情：{link}"
        text += "\n\n—— 本邮件由监管平台自动发送，请勿回复。"
        send_mail(message.title, text, settings.DEFAULT_FROM_EMAIL, [row.target], fail_silently=False)
    elif row.channel == Delivery.Channel.WEBHOOK:
        endpoint = row.endpoint
        if endpoint is None:
            raise GiveUp("群机器人已删除")
        if not endpoint.active:
            raise GiveUp("群机器人已停用")
        send_webhook(endpoint, message.title, message.body, link)
    else:
        raise GiveUp(f"未知渠道 {row.channel}")


def send_webhook(endpoint: WebhookEndpoint, title: str, body: str, link: str = "") -> dict:
    return webhooks.send(
        endpoint.kind,
        endpoint.url,
        title,
        body,
        link=link,
        footer=ROBOT_FOOTER,
        secret=endpoint.secret,
        timeout=settings.NOTIFY_WEBHOOK_TIMEOUT_SECONDS,
    )


def send_test(endpoint: WebhookEndpoint) -> None:
    """A test message straight to the robot (not through the outbox); raises WebhookError on failure."""
    send_webhook(
        endpoint,
        "【测试】监管平台通知",
        f"这是一条测试消息：群机器人“{endpoint.name}”已接入监管平台。",
        absolute("/notifications/"),
    )


def requeue(deliveries) -> int:
    """Failed or given-up rows back into the outbox with a fresh set of attempts (after the cause is fixed)."""
    return deliveries.exclude(status=Delivery.Status.SENT).update(
        status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )


PURGE_BATCH = 5000


def purge_outbox(*, now: dt.datetime | None = None, dry_run: bool = False) -> dict:
    """Deletes finished outbox rows older than NOTIFY_OUTBOX_RETENTION_DAYS (0: keep forever): sent ones by
    their sending time, given-up ones by their creation; then the messages left without a delivery. Rows still
    to be sent (pending, failed) are never purged; in-app notifications are the users' history and stay.
    Deletes in batches, so a large backlog does not hold one long transaction. Returns the counts."""
    days = settings.NOTIFY_OUTBOX_RETENTION_DAYS
    counts = {"deliveries": 0, "messages": 0}
    if days <= 0:
        return counts
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    finished = Delivery.objects.filter(
        Q(status=Delivery.Status.SENT, sent_at__lt=cutoff) | Q(status=Delivery.Status.GAVE_UP, created_at__lt=cutoff)
    )
    orphans = Message.objects.filter(created_at__lt=cutoff, deliveries__isnull=True)
    if dry_run:  # the messages that would be left without a delivery
        staying = Delivery.objects.exclude(pk__in=finished.values("pk")).values("message_id")
        counts["deliveries"] = finished.count()
        counts["messages"] = Message.objects.filter(created_at__lt=cutoff).exclude(pk__in=staying).count()
        return counts
    for model, queryset, key in ((Delivery, finished, "deliveries"), (Message, orphans, "messages")):
        while ids := list(queryset.values_list("pk", flat=True)[:PURGE_BATCH]):
            counts[key] += model.objects.filter(pk__in=ids).delete()[1].get(model._meta.label, 0)
    return counts
