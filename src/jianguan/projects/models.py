"""Projects, their participants and key people, the lifecycle record, documents and progress reports."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinLengthValidator, MinValueValidator
from django.db import models

from jianguan.core.models import TimeStamped
from jianguan.core.validators import date_in_range


class ProjectType(models.TextChoices):
    HOUSING = "housing", "房屋建筑"
    MUNICIPAL_ROAD = "municipal_road", "市政道路"
    WATER = "water", "水利水务"
    TRANSPORT = "transport", "交通工程"
    INDUSTRIAL_PARK = "industrial_park", "工业园区"
    PUBLIC_BUILDING = "public_building", "公共建筑"
    LANDSCAPE = "landscape", "园林绿化"


class State(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交"
    PREREVIEW_FAILED = "prereview_failed", "预审待补正"
    UNDER_REVIEW = "under_review", "审查中"
    RETURNED = "returned", "退回修改"
    REJECTED = "rejected", "不予许可"
    PERMITTED = "permitted", "已发施工许可"
    UNDER_CONSTRUCTION = "under_construction", "施工中"
    SUSPENDED = "suspended", "停工"
    ACCEPTANCE = "acceptance", "竣工验收"
    ARCHIVED = "archived", "已归档"


class ParticipantRole(models.TextChoices):
    OWNER = "owner", "建设单位"
    GENERAL_CONTRACTOR = "general_contractor", "施工总承包"
    SUBCONTRACTOR = "subcontractor", "专业分包"
    SUPERVISOR = "supervisor", "监理单位"
    SURVEYOR = "surveyor", "勘察单位"
    DESIGNER = "designer", "设计单位"


class KeyPostRole(models.TextChoices):
    PROJECT_MANAGER = "project_manager", "项目经理"
    CHIEF_SUPERVISOR = "chief_supervisor", "总监理工程师"
    SAFETY_OFFICER = "safety_officer", "专职安全员"


class Project(TimeStamped):
    """A construction project. Its input rules are declared here once: field limits as validators, cross-field
    rules in clean(); the filing page (ModelForm), the API's input schemas (core.modelschema, built from
    FILING_FIELDS) and the services (full_clean) all follow them."""

    name = models.CharField("项目名称", max_length=200, validators=[MinLengthValidator(2)])
    code = models.CharField("项目编号", max_length=40, unique=True)
    project_type = models.CharField("项目类型", max_length=30, choices=ProjectType.choices)
    jurisdiction = models.ForeignKey(
        "core.Jurisdiction", on_delete=models.PROTECT, related_name="projects", verbose_name="所属区县"
    )
    address = models.CharField("建设地址", max_length=200, validators=[MinLengthValidator(2)])
    lat = models.FloatField("纬度（WGS-84）", validators=[MinValueValidator(-90), MaxValueValidator(90)])
    lon = models.FloatField("经度（WGS-84）", validators=[MinValueValidator(-180), MaxValueValidator(180)])
    floor_area_m2 = models.FloatField(
        "建筑面积（m²）", null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10_000_000)]
    )
    investment_wan = models.FloatField(
        "总投资（万元）", null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(100_000_000)]
    )
    floors_above = models.PositiveIntegerField("地上层数", null=True, blank=True, validators=[MaxValueValidator(300)])
    floors_below = models.PositiveIntegerField("地下层数", null=True, blank=True, validators=[MaxValueValidator(30)])
    height_m = models.FloatField(
        "建筑高度（m）", null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1000)]
    )
    # 危大工程-relevant scale parameters, keyed as in jianguan.projects.dangerous_works.PARAMETERS.
    parameters = models.JSONField("规模参数", default=dict, blank=True)
    planned_start = models.DateField("计划开工日期", null=True, blank=True, validators=[date_in_range])
    planned_end = models.DateField("计划竣工日期", null=True, blank=True, validators=[date_in_range])
    state = models.CharField("状态", max_length=30, choices=State.choices, default=State.DRAFT, db_index=True)
    applicant = models.ForeignKey(
        "registry.Enterprise",
        on_delete=models.PROTECT,
        related_name="filed_projects",
        verbose_name="申报单位",
    )
    permit_number = models.CharField("施工许可证号", max_length=40, blank=True)
    permitted_at = models.DateTimeField("许可时间", null=True, blank=True)
    is_demo = models.BooleanField("演示数据", default=False)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["jurisdiction", "state"]),
            models.Index(fields=["project_type"]),
            # The lists' order: a page of 50 is read off this index instead of sorting every project.
            models.Index(fields=["updated_at", "id"], name="projects_updated_id_idx"),
            # Scopes as "project_id IN (projects in these states)" (a regulator's alarms) read ids off this
            # index instead of the table: 10 ms → 2 ms for the alarm count over 10,000 projects.
            models.Index(fields=["state", "id"], name="projects_state_id_idx"),
        ]
        verbose_name = verbose_name_plural = "工程项目"

    # What the applicant files and may change while the filing is its own: the one list the form, the API's
    # input schemas, the services and the audit snapshot use.
    FILING_FIELDS = (
        "name",
        "project_type",
        "jurisdiction",
        "address",
        "lat",
        "lon",
        "floor_area_m2",
        "investment_wan",
        "floors_above",
        "floors_below",
        "height_m",
        "parameters",
        "planned_start",
        "planned_end",
    )

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        from . import dangerous_works

        errors: dict[str, list[str]] = {}
        if self.planned_start and self.planned_end and self.planned_end < self.planned_start:
            errors["planned_end"] = ["计划竣工日期不能早于计划开工日期"]
        clean, problems = dangerous_works.validate_params(self.parameters or {})
        for key, message in problems.items():
            errors.setdefault(f"parameters.{key}", []).append(message)
        if not problems:
            self.parameters = clean
        if errors:
            raise ValidationError(errors)


class Participant(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="participants")
    enterprise = models.ForeignKey(
        "registry.Enterprise", on_delete=models.PROTECT, related_name="participations", verbose_name="企业"
    )
    role = models.CharField("参建角色", max_length=30, choices=ParticipantRole.choices)

    class Meta:
        unique_together = [("project", "enterprise", "role")]
        ordering = ["project", "role"]
        verbose_name = verbose_name_plural = "参建单位"

    def __str__(self) -> str:
        return f"{self.get_role_display()}：{self.enterprise}"


class KeyPerson(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="key_people")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="key_posts")
    role = models.CharField("岗位", max_length=30, choices=KeyPostRole.choices)

    # A key post is held by an employee of the participant that answers for it: the general contractor's
    # 项目经理 and 专职安全员, the supervisor's 总监理工程师.
    POST_EMPLOYERS = {
        KeyPostRole.PROJECT_MANAGER: (ParticipantRole.GENERAL_CONTRACTOR,),
        KeyPostRole.SAFETY_OFFICER: (ParticipantRole.GENERAL_CONTRACTOR,),
        KeyPostRole.CHIEF_SUPERVISOR: (ParticipantRole.SUPERVISOR,),
    }
    NOT_ELIGIBLE = "该人员不是本项目相应参建单位（{employers}）的在册人员"

    class Meta:
        unique_together = [("project", "person", "role")]
        verbose_name = verbose_name_plural = "关键岗位人员"

    def __str__(self) -> str:
        return f"{self.get_role_display()}：{self.person.name}"

    @classmethod
    def eligible_people(cls, project: Project, role: str):
        """The registry's people who may hold the post in this project (what the page's picker lists)."""
        from jianguan.registry.models import Person

        employers = project.participants.filter(role__in=cls.POST_EMPLOYERS.get(role, ())).values("enterprise_id")
        return Person.objects.filter(employer_id__in=employers).select_related("employer")

    @classmethod
    def refusal(cls, role: str) -> str:
        """The one answer for a person who may not hold the post, whether or not the person exists."""
        labels = "、".join(ParticipantRole(r).label for r in cls.POST_EMPLOYERS.get(role, ())) or "—"
        return cls.NOT_ELIGIBLE.format(employers=labels)

    def clean(self):
        super().clean()
        if (
            self.role
            and self.person_id
            and not self.eligible_people(self.project, self.role).filter(pk=self.person_id).exists()
        ):
            raise ValidationError({"person": self.refusal(self.role)})


class Transition(models.Model):
    """One step of the lifecycle, as it happened."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="transitions")
    name = models.CharField("操作", max_length=40)
    from_state = models.CharField(max_length=30, choices=State.choices)
    to_state = models.CharField(max_length=30, choices=State.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    reason = models.TextField("理由", blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = verbose_name_plural = "状态变更记录"

    def __str__(self) -> str:
        return f"{self.project_id}: {self.from_state} → {self.to_state}"


class PreReview(models.Model):
    """The automatic pre-review's findings at one submission, and a regulator's override if any."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="prereviews")
    at = models.DateTimeField(auto_now_add=True)
    findings = models.JSONField(default=list)
    clean = models.BooleanField(default=False)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    override_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = verbose_name_plural = "自动预审"

    def __str__(self) -> str:
        return f"{self.project_id} 预审 {'通过' if self.clean else '有问题'}"


class DocumentKind(models.TextChoices):
    CONSTRUCTION_DRAWINGS = "construction_drawings", "施工图设计文件"
    DRAWING_REVIEW_CERT = "drawing_review_cert", "施工图审查合格书"
    PLANNING_PERMIT = "planning_permit", "建设工程规划许可证"
    ENVIRONMENTAL_REPORT = "environmental_report", "环境影响评价文件"
    CONTRACT = "contract", "施工合同"
    SAFETY_MEASURES = "safety_measures", "安全施工措施资料"
    WAGE_ACCOUNT = "wage_account", "农民工工资专用账户证明"
    SPECIAL_PLAN = "special_plan", "危大工程专项施工方案"
    EXPERT_REVIEW = "expert_review", "专项方案专家论证意见"
    TEST_REPORT = "test_report", "检测报告"
    MATERIAL_CERTIFICATE = "material_certificate", "材料合格证明"
    PROGRESS_PHOTO = "progress_photo", "进度照片"
    ACCEPTANCE_REPORT = "acceptance_report", "竣工验收报告"
    OTHER = "other", "其他"


class Document(TimeStamped):
    """A typed document of a project. Its content lives in versions, which are never overwritten."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField("文件类型", max_length=40, choices=DocumentKind.choices)
    # For special plans / expert reviews: the 危大工程 category they cover (e.g. 基坑工程).
    category = models.CharField("危大工程类别", max_length=50, blank=True)
    title = models.CharField("标题", max_length=200)
    valid_until = models.DateField("有效期至", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # A document filed by mistake (the wrong kind, the wrong project) is withdrawn, never deleted: its versions
    # stay, as does their evidence-log entry, and it no longer counts towards the checklist (corrections.py).
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdraw_reason = models.CharField("撤回原因", max_length=200, blank=True)

    class Meta:
        ordering = ["project", "kind", "id"]
        verbose_name = verbose_name_plural = "项目文件"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.title}"

    @property
    def latest(self) -> DocumentVersion | None:
        return self.versions.order_by("-number").first()


def version_path(instance: DocumentVersion, filename: str) -> str:
    # Content-addressed and versioned: a new upload never replaces an old file.
    doc = instance.document
    return f"projects/{doc.project_id}/documents/{doc.pk}/v{instance.number}-{instance.sha256[:16]}{instance.extension}"


class DocumentVersion(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版本")
    file = models.FileField(upload_to=version_path, max_length=300)
    original_name = models.CharField("原文件名", max_length=200)
    extension = models.CharField(max_length=10)
    content_type = models.CharField("内容类型", max_length=100)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        unique_together = [("document", "number")]
        ordering = ["document", "number"]
        verbose_name = verbose_name_plural = "文件版本"

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"


class ProgressReport(TimeStamped):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="progress_reports")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="+")
    report_date = models.DateField("报告日期")
    percent_complete = models.PositiveSmallIntegerField("形象进度（%）")
    summary = models.TextField("进展说明")
    photos = models.ManyToManyField(Document, blank=True, related_name="progress_reports")

    class Meta:
        ordering = ["-report_date", "-id"]
        verbose_name = verbose_name_plural = "进度报告"


class Correction(models.Model):
    """更正记录: a registered participant, key person or document removed or replaced, kept for the record.

    Before submission the applicant corrects freely; after submission (until the permit) by replacing or
    removing with a reason; after the permit only through a 变更 request the district bureau approves
    (ProjectChangeRequest), which the correction then names. Written by projects/corrections.py only."""

    class Stage(models.TextChoices):
        DRAFT = "draft", "提交前更正"
        FILED = "filed", "提交后更正"
        CHANGE = "change", "许可后变更"

    class Subject(models.TextChoices):
        PARTICIPANT = "participant", "参建单位"
        KEY_PERSON = "key_person", "关键岗位人员"
        DOCUMENT = "document", "申报材料"

    class Action(models.TextChoices):
        REMOVE = "remove", "移除"
        REPLACE = "replace", "更换"
        WITHDRAW = "withdraw", "撤回"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="corrections")
    stage = models.CharField("阶段", max_length=10, choices=Stage.choices)
    subject = models.CharField("更正对象", max_length=20, choices=Subject.choices)
    action = models.CharField("更正方式", max_length=10, choices=Action.choices)
    role = models.CharField("角色/岗位/类型", max_length=40, blank=True)  # the participant role, post or kind
    old = models.CharField("原登记", max_length=200)
    new = models.CharField("更正为", max_length=200, blank=True)
    refs = models.JSONField("相关记录", default=dict, blank=True)  # ids of what was removed and added
    reason = models.CharField("原因", max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField("时间", auto_now_add=True)
    change_request = models.ForeignKey(
        "ProjectChangeRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        verbose_name="变更申请",
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = verbose_name_plural = "更正记录"

    def __str__(self) -> str:
        return f"{self.get_subject_display()}{self.get_action_display()}：{self.old}"

    @property
    def role_label(self) -> str:
        """The participant role, post or document kind by its name."""
        choices = {
            self.Subject.PARTICIPANT: ParticipantRole,
            self.Subject.KEY_PERSON: KeyPostRole,
            self.Subject.DOCUMENT: DocumentKind,
        }[self.subject]
        return dict(choices.choices).get(self.role, self.role)

    @property
    def summary(self) -> str:
        if self.action == self.Action.REPLACE:
            return f"{self.old} → {self.new}"
        return self.old


class ProjectChangeRequest(models.Model):
    """变更: after the permit, a change to what the permit was issued on (a key person, a participant, a filed
    document) asked by the applicant and applied only when the project's regulator approves it
    (projects/changes.py; who asks and who decides: permissions.may_request_change / may_decide_change)."""

    class Action(models.TextChoices):
        REPLACE_KEY_PERSON = "replace_key_person", "更换关键岗位人员"
        REPLACE_PARTICIPANT = "replace_participant", "更换参建单位"
        REMOVE_PARTICIPANT = "remove_participant", "减少参建单位"
        WITHDRAW_DOCUMENT = "withdraw_document", "撤回申报材料"

    class State(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "已驳回"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="change_requests")
    action = models.CharField("变更事项", max_length=30, choices=Action.choices)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    # What is changed: the registered record's id (`target`), and for a replacement the newcomer's (`enterprise`
    # or `person`); summary says it in words, as it stood when asked.
    target_id = models.PositiveBigIntegerField("变更对象")
    payload = models.JSONField(default=dict, blank=True)
    summary = models.CharField("变更内容", max_length=200)
    reason = models.CharField("申请原因", max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="申请人"
    )
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="审批人",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_comment = models.CharField("审批意见", max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "action", "target_id"],
                condition=models.Q(state="pending"),
                name="projects_change_one_pending_per_target",
            )
        ]
        verbose_name = verbose_name_plural = "项目变更申请"

    def __str__(self) -> str:
        return f"{self.project_id} {self.get_action_display()}（{self.get_state_display()}）"
