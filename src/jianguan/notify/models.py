"""Notifications. In-app now; email and DingTalk/WeCom webhooks will deliver from the same rows (outbox)."""

from django.conf import settings
from django.db import models


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    url = models.CharField("链接", max_length=300, blank=True)
    topic = models.CharField("类别", max_length=40, db_index=True)  # e.g. alarm.raise
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "通知"

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.title}"
