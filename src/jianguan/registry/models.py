"""Enterprises with their qualifications (主体库) and people with their certificates (人员库)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from jianguan.core import codes, masking
from jianguan.core.models import TimeStamped

from . import protect


def validate_uscc(value: str) -> None:
    try:
        codes.validate_uscc(value)
    except codes.CodeError as exc:
        raise ValidationError(str(exc)) from exc


class Enterprise(TimeStamped):
    class Kind(models.TextChoices):
        CONSTRUCTION = "construction", "施工企业"
        SUPERVISION = "supervision", "监理企业"
        SURVEY = "survey", "勘察单位"
        DESIGN = "design", "设计单位"
        DEVELOPER = "developer", "建设单位/开发企业"

    name = models.CharField("企业名称", max_length=200)
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[validate_uscc])
    kind = models.CharField("企业类型", max_length=20, choices=Kind.choices)
    jurisdiction = models.ForeignKey(
        "core.Jurisdiction", null=True, blank=True, on_delete=models.PROTECT, verbose_name="注册地"
    )
    legal_representative = models.CharField("法定代表人", max_length=50, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    is_demo = models.BooleanField("演示数据", default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = "企业"

    def __str__(self) -> str:
        return self.name


class Qualification(models.Model):
    """资质. `kind` says which participant role it allows (施工/监理/勘察/设计)."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="qualifications")
    kind = models.CharField("资质类别", max_length=20, choices=Enterprise.Kind.choices)
    category = models.CharField("资质名称", max_length=100)  # e.g. 建筑工程施工总承包
    grade = models.CharField("等级", max_length=20)  # 特级/一级/二级/甲级/乙级 ...
    number = models.CharField("证书编号", max_length=50)
    valid_from = models.DateField("有效期起")
    valid_until = models.DateField("有效期至")

    class Meta:
        ordering = ["enterprise", "kind"]
        verbose_name = verbose_name_plural = "企业资质"

    def __str__(self) -> str:
        return f"{self.category}{self.grade}"

    def is_valid_on(self, day: dt.date | None = None) -> bool:
        day = day or timezone.localdate()
        return self.valid_from <= day <= self.valid_until


class Person(TimeStamped):
    name = models.CharField("姓名", max_length=50)
    # The ID number is kept encrypted; a keyed hash finds duplicates; only the masked form is shown.
    id_number_encrypted = models.TextField(editable=False)
    id_number_hash = models.CharField(max_length=64, unique=True, editable=False)
    id_number_masked = models.CharField("身份证号", max_length=18, editable=False)
    gender = models.CharField("性别", max_length=1, blank=True)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    phone = models.CharField("手机号", max_length=20, blank=True)
    employer = models.ForeignKey(
        Enterprise,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="employees",
        verbose_name="单位",
    )
    is_demo = models.BooleanField("演示数据", default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = "人员"

    def __str__(self) -> str:
        return f"{self.name}（{self.id_number_masked}）"

    def set_id_number(self, raw: str) -> None:
        try:
            number = codes.validate_id_number(raw)
        except codes.CodeError as exc:
            raise ValidationError({"id_number": str(exc)}) from exc
        self.id_number_encrypted = protect.encrypt(number)
        self.id_number_hash = protect.lookup_hash(number)
        self.id_number_masked = masking.mask_id_number(number)
        self.birth_date = codes.id_birth_date(number)
        self.gender = codes.id_gender(number)

    def reveal_id_number(self) -> str:
        return protect.decrypt(self.id_number_encrypted)

    @property
    def phone_masked(self) -> str:
        return masking.mask_phone(self.phone) if self.phone else ""


class Certificate(models.Model):
    class Kind(models.TextChoices):
        SAFETY_A = "safety_a", "安全生产考核合格证书（A类，企业主要负责人）"
        SAFETY_B = "safety_b", "安全生产考核合格证书（B类，项目负责人）"
        SAFETY_C = "safety_c", "安全生产考核合格证书（C类，专职安全生产管理人员）"
        SPECIAL_OPERATION = "special_operation", "建筑施工特种作业操作资格证书"
        CONSTRUCTOR = "constructor", "注册建造师"
        SUPERVISOR = "supervisor", "注册监理工程师"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="certificates")
    kind = models.CharField("证书类型", max_length=30, choices=Kind.choices)
    operation_type = models.CharField("作业类别/专业", max_length=50, blank=True)  # e.g. 塔式起重机司机
    number = models.CharField("证书编号", max_length=50)
    issuer = models.CharField("发证机关", max_length=100, blank=True)
    valid_from = models.DateField("有效期起")
    valid_until = models.DateField("有效期至")

    class Meta:
        ordering = ["person", "kind"]
        verbose_name = verbose_name_plural = "人员证书"

    def __str__(self) -> str:
        suffix = f"（{self.operation_type}）" if self.operation_type else ""
        return f"{self.get_kind_display()}{suffix} {self.number}"

    def is_valid_on(self, day: dt.date | None = None) -> bool:
        day = day or timezone.localdate()
        return self.valid_from <= day <= self.valid_until
