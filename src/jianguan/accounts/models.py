"""Users, departments, roles, API tokens and the cross-department data-sharing rules."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class Department(models.Model):
    class Kind(models.TextChoices):
        HOUSING = "housing", "住房和城乡建设"
        HR = "hr", "人力资源和社会保障"
        ENVIRONMENT = "environment", "生态环境"
        POLICE = "police", "公安"
        URBAN = "urban", "城市管理"
        EMERGENCY = "emergency", "应急管理"

    name = models.CharField("名称", max_length=100, unique=True)
    kind = models.CharField("部门类别", max_length=20, choices=Kind.choices)
    jurisdiction = models.ForeignKey("core.Jurisdiction", on_delete=models.PROTECT, verbose_name="辖区")

    class Meta:
        ordering = ["jurisdiction__code", "kind"]
        verbose_name = verbose_name_plural = "部门"

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    class Role(models.TextChoices):
        BUREAU_ADMIN = "bureau_admin", "市住建局管理员"
        DISTRICT_REGULATOR = "district_regulator", "区县监管人员"
        INSPECTOR = "inspector", "监督检查员"
        DEPT_OFFICER = "dept_officer", "其他部门工作人员"
        ENTERPRISE_USER = "enterprise_user", "企业用户"

    role = models.CharField("角色", max_length=30, choices=Role.choices, default=Role.ENTERPRISE_USER)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="users", verbose_name="部门"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name="所属企业",
    )
    display_name = models.CharField("姓名", max_length=50, blank=True)
    # The registered person (人员库) this account belongs to, e.g. a project manager: key posts held by that
    # person reach this user (site alarms to the project manager and safety officer).
    person = models.OneToOneField(
        "registry.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="user",
        verbose_name="对应人员",
    )

    class Meta:
        verbose_name = verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(
                name="enterprise_user_has_enterprise",
                condition=~models.Q(role="enterprise_user") | models.Q(enterprise__isnull=False),
            ),
        ]

    def clean(self):
        super().clean()
        if self.person_id and self.enterprise_id and self.person.employer_id not in (None, self.enterprise_id):
            raise ValidationError({"person": "该人员不属于此用户的所属企业"})

    def get_full_name(self) -> str:
        return self.display_name or super().get_full_name() or self.username

    def save(self, *args, **kwargs):
        """A new password (set_password, so the admin's and any form's too) or deactivation revokes the user's API
        tokens: a token must not outlive the credentials or the account it was issued for. A hash upgraded by
        Django on login is not a new password (check_password saves without set_password's marker)."""
        update_fields = kwargs.get("update_fields")
        relevant = update_fields is None or bool({"password", "is_active"} & set(update_fields))
        new_password = relevant and not self._state.adding and self._password is not None
        super().save(*args, **kwargs)
        if relevant and not self.is_active:
            self.api_tokens.revoke("账号已停用")
        elif new_password:
            self.api_tokens.revoke("密码已修改")

    @property
    def jurisdiction(self):
        return self.department.jurisdiction if self.department_id else None

    @property
    def is_regulator(self) -> bool:
        """Housing-bureau staff who act on projects (bureau, district, inspectors)."""
        return self.role in {self.Role.BUREAU_ADMIN, self.Role.DISTRICT_REGULATOR, self.Role.INSPECTOR}


def default_token_expiry() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=settings.API_TOKEN_DAYS)


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked=False, expires_at__gt=timezone.now())

    def revoke(self, reason: str) -> int:
        return self.filter(revoked=False).update(revoked=True, revoked_at=timezone.now(), revoked_reason=reason)


class ApiToken(models.Model):
    """A bearer token for machine clients. Only a hash is stored; the key is shown once. Every token expires
    (API_TOKEN_DAYS after issue unless given a date) and is revoked when its user's password changes or the
    user is deactivated (User.save)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name="用户")
    name = models.CharField("用途", max_length=100)
    prefix = models.CharField("前缀", max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    expires_at = models.DateTimeField("有效期至", default=default_token_expiry)
    revoked = models.BooleanField("已撤销", default=False)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoked_reason = models.CharField("撤销原因", max_length=100, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "API令牌"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str, expires_at: dt.datetime | None = None) -> tuple[ApiToken, str]:
        key = "jg_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            prefix=key[3:11],
            key_hash=cls.hash_key(key),
            expires_at=expires_at or default_token_expiry(),
        )
        return token, key

    @property
    def is_active(self) -> bool:
        return not self.revoked and self.expires_at > timezone.now()

    @property
    def state_label(self) -> str:
        if self.revoked:
            return f"已撤销（{self.revoked_reason}）" if self.revoked_reason else "已撤销"
        return "有效" if self.is_active else "已过期"


class DataSharingRule(models.Model):
    """What another department may read, and on which legal basis. No rule, no access.

    A rule grants one part of the projects in the department's jurisdiction (`Resource`; what each part holds is
    `GRANTS`, shown beside the rule). Every page, API route, export and live stream that shows a part asks
    `projects.permissions` / `sites.permissions`, which ask `accounts.sharing`; every read is logged with the
    rule that allowed it. The basic part is the way in: without it a department sees no project at all."""

    class Resource(models.TextChoices):
        PROJECT_BASIC = "project_basic", "项目基本信息"
        PROJECT_PARTICIPANTS = "project_participants", "参建单位及关键岗位人员"
        PROJECT_DOCUMENTS = "project_documents", "项目文件"
        PROJECT_RECORDS = "project_records", "审批与监管记录"
        PROJECT_PROGRESS = "project_progress", "施工进度报告"
        SITE_MONITORING = "site_monitoring", "现场监测数据与告警"
        SITE_WORKFORCE = "site_workforce", "实名制用工与考勤"

    # What each part shows, in the words the rule's page and the operator's guide use.
    GRANTS = {
        Resource.PROJECT_BASIC: (
            "项目名称、编号、类型、地址与位置、规模参数、危大工程识别结果、状态与计划日期、建设单位；项目列表与搜索"
        ),
        Resource.PROJECT_PARTICIPANTS: "参建单位及其角色，关键岗位人员（姓名、脱敏身份证号、所属单位、证书）",
        Resource.PROJECT_DOCUMENTS: "申报材料清单、文件目录与各版本，文件下载",
        Resource.PROJECT_RECORDS: (
            "审批流转记录（含经办人）、预审结论与问题、项目操作日志与时间线（其中可能出现关键岗位人员姓名）"
        ),
        Resource.PROJECT_PROGRESS: "施工进度报告及现场照片",
        Resource.SITE_MONITORING: (
            "监测设备、监测数据与趋势、汇总统计与导出、告警及其处置、喷淋雾炮指令、监测总览、实时告警推送"
        ),
        Resource.SITE_WORKFORCE: "实名制人员名册、闸机进出场与考勤、塔吊司机资格核验",
    }

    department_kind = models.CharField("部门类别", max_length=20, choices=Department.Kind.choices)
    resource = models.CharField("数据项", max_length=40, choices=Resource.choices)
    purpose = models.CharField("用途", max_length=200)
    legal_basis = models.CharField("依据", max_length=200)
    active = models.BooleanField("生效", default=True)

    class Meta:
        unique_together = [("department_kind", "resource")]
        verbose_name = verbose_name_plural = "数据共享规则"

    def __str__(self) -> str:
        return f"{self.get_department_kind_display()} → {self.get_resource_display()}"

    @property
    def grants(self) -> str:
        return self.GRANTS.get(self.resource, "")
