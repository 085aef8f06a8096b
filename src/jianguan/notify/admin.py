from django import forms
from django.contrib import admin, messages
from django.db import models
from django.utils.html import format_html

from . import outbox, webhooks
from .models import Delivery, Message, Notification, WebhookEndpoint


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "topic", "title", "read_at"]
    list_filter = ["topic"]
    list_select_related = ["recipient"]
    search_fields = ["title", "recipient__username", "recipient__display_name"]


def mask_url(url: str) -> str:
    """The robot URL with its token (access_token=…, key=…) hidden: host and path stay readable."""
    base, _, query = url.partition("?")
    if not query:
        return base
    parts = []
    for pair in query.split("&"):
        name, eq, value = pair.partition("=")
        parts.append(f"{name}={value[:4]}…" if eq and len(value) > 4 else pair)
    return f"{base}?{'&'.join(parts)}"


def _formfield(field, **kwargs):
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class WebhookEndpointForm(forms.ModelForm):
    """The secret is write-only: never shown again; left empty it stays as it was."""

    secret = forms.CharField(
        label="加签密钥",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="钉钉机器人“加签”的密钥（SEC 开头）；企业微信不用。已设置的密钥不再显示，留空则保持不变。",
    )
    clear_secret = forms.BooleanField(label="清除加签密钥", required=False)

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "kind", "url", "secret", "clear_secret", "jurisdiction", "topics", "active"]
        formfield_callback = _formfield

    def clean_secret(self):
        value = self.cleaned_data.get("secret", "").strip()
        return value or (self.instance.secret if self.instance.pk else "")

    def clean(self):
        data = super().clean()
        if data.get("clear_secret"):
            data["secret"] = ""
        return data


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "kind", "masked_url", "secret_set", "jurisdiction", "topics", "active"]
    list_filter = ["kind", "active", "jurisdiction"]
    search_fields = ["name"]
    actions = ["send_test_message"]

    @admin.display(description="Webhook 地址")
    def masked_url(self, obj):
        return mask_url(obj.url)

    @admin.display(description="加签", boolean=True)
    def secret_set(self, obj):
        return bool(obj.secret)

    @admin.action(description="发送测试消息")
    def send_test_message(self, request, queryset):
        for endpoint in queryset:
            try:
                outbox.send_test(endpoint)
            except webhooks.WebhookError as exc:
                self.message_user(request, f"{endpoint.name}：发送失败（{exc}）", messages.ERROR)
            else:
                self.message_user(request, f"{endpoint.name}：测试消息已送达", messages.SUCCESS)


STATUS_BADGE = {
    Delivery.Status.PENDING: "#123a73",
    Delivery.Status.SENT: "#1e7b45",
    Delivery.Status.FAILED: "#b26a00",
    Delivery.Status.GAVE_UP: "#b3261e",
}


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The outbox: what went out, what waits for a retry, what was given up (and why)."""

    list_display = [
        "created_at",
        "channel",
        "target",
        "title",
        "status_label",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "error",
    ]
    list_filter = ["status", "channel", "endpoint", "message__topic"]
    search_fields = ["target", "message__title"]
    list_select_related = ["message", "endpoint"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "message",
        "channel",
        "notification",
        "endpoint",
        "target",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
        "created_at",
    ]
    actions = ["requeue"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="标题", ordering="message__title")
    def title(self, obj):
        return obj.message.title

    @admin.display(description="状态", ordering="status")
    def status_label(self, obj):
        return format_html('<b style="color:{}">{}</b>', STATUS_BADGE.get(obj.status, "#333"), obj.get_status_display())

    @admin.display(description="最近错误")
    def error(self, obj):
        return obj.last_error[:80]

    @admin.action(description="重新投递（重置尝试次数）")
    def requeue(self, request, queryset):
        count = outbox.requeue(queryset)
        self.message_user(request, f"{count} 条投递已重新排队，一分钟内发送。", messages.SUCCESS)


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["channel", "target", "status", "attempts", "next_attempt_at", "sent_at", "last_error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "topic", "title", "project"]
    list_filter = ["topic"]
    search_fields = ["title"]
    list_select_related = ["project"]
    readonly_fields = ["topic", "title", "body", "url", "project", "created_at"]
    inlines = [DeliveryInline]

    def has_add_permission(self, request):
        return False
