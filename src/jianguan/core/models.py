"""Shared kernel: jurisdictions (GB/T 2260 divisions and supervision zones) and the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TimeStamped(models.Model):
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True


class Jurisdiction(models.Model):
    class Kind(models.TextChoices):
        CITY = "city", "市"
        DISTRICT = "district", "区"
        COUNTY = "county", "县"
        ZONE = "zone", "功能区"

    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=50)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    center_lat = models.FloatField("中心纬度")
    center_lon = models.FloatField("中心经度")
    # GeoJSON geometry (WGS-84). Demo boundaries are rough shapes around the centre; real ones are imported.
    boundary = models.JSONField("边界", null=True, blank=True)
    boundary_approximate = models.BooleanField("边界为近似", default=True)
    code_confirmed = models.BooleanField("代码已确认", default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "行政区划/监管区域"

    def __str__(self) -> str:
        return self.name


class AuditEvent(models.Model):
    """Who did what to which record, when. Written by services, shown on the project's timeline."""

    class Action(models.TextChoices):
        CREATE = "create", "创建"
        UPDATE = "update", "修改"
        TRANSITION = "transition", "状态变更"
        UPLOAD = "upload", "上传"
        DOWNLOAD = "download", "下载"
        READ = "read", "跨部门查阅"
        LOGIN_FAILED = "login_failed", "登录失败"

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField("操作人", max_length=150, blank=True)
    action = models.CharField("操作", max_length=20, choices=Action.choices)
    object_type = models.CharField("对象类型", max_length=50)
    object_id = models.CharField("对象ID", max_length=50)
    object_label = models.CharField("对象", max_length=200, blank=True)
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="audit_events"
    )
    changes = models.JSONField("变更内容", default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = verbose_name_plural = "审计记录"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.get_action_display()} {self.object_label}"
