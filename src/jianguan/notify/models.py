"""Notifications and their outbox.

In-app: one `Notification` row per recipient user (the inbox). Everything that leaves the platform — email to a
user, a message to a DingTalk/WeCom group robot — is a `Delivery` row of the outbox, written in the same
transaction as the notification and sent afterwards by a background job, retried until it goes through or the
attempts run out (services.py, tasks.py).
"""

from django.conf import settings
from django.db import models

from . import webhooks


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


class WebhookEndpoint(models.Model):
    """A group robot (钉钉 / 企业微信) that hears of a jurisdiction's projects, or of the whole city."""

    class Kind(models.TextChoices):
        DINGTALK = webhooks.DINGTALK, "钉钉群机器人"
        WECOM = webhooks.WECOM, "企业微信群机器人"

    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    url = models.URLField(
        "Webhook 地址",
        max_length=500,
        help_text="机器人的 Webhook 地址（含 access_token / key），视同密码。",
    )
    secret = models.CharField(
        "加签密钥", max_length=200, blank=True, help_text="钉钉机器人安全设置“加签”的密钥（SEC 开头）；企业微信不用。"
    )
    jurisdiction = models.ForeignKey(
        "core.Jurisdiction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="webhook_endpoints",
        verbose_name="辖区",
        help_text="留空：全市（所有项目）。",
    )
    topics = models.CharField(
        "类别筛选",
        max_length=200,
        blank=True,
        help_text="类别前缀，逗号分隔，如 “alarm.” 或 “alarm.raise, actuator.failed”；留空：全部类别。",
    )
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = "群机器人"

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"

    def wants(self, topic: str) -> bool:
        return webhooks.topic_matches(self.topics, topic)


class Message(models.Model):
    """What one notify() call said, kept for the deliveries that leave the platform."""

    topic = models.CharField("类别", max_length=40, db_index=True)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    url = models.CharField("链接", max_length=300, blank=True)
    project = models.ForeignKey(
        "projects.Project",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="项目",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "外发消息"

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """One message to one target over one channel: the outbox row."""

    class Channel(models.TextChoices):
        EMAIL = "email", "邮件"
        WEBHOOK = "webhook", "群机器人"

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        FAILED = "failed", "失败，待重试"
        GAVE_UP = "gave_up", "已放弃"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries", verbose_name="消息")
    channel = models.CharField("渠道", max_length=20, choices=Channel.choices)
    # Email: the user's notification (and so the recipient); webhook: the endpoint.
    notification = models.ForeignKey(
        Notification,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name="通知",
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        verbose_name="群机器人",
    )
    target = models.CharField("发送对象", max_length=254)  # the email address, or the endpoint's name
    status = models.CharField("状态", max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", null=True, blank=True)
    last_error = models.TextField("最近错误", blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "投递记录"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notify_delivery_due")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.target}：{self.get_status_display()}"
