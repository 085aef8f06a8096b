"""The review of a permit application and the permit it ends in: the reviewer's case (assignment, the opinion's
draft), verdicts and comments per document, the enterprise's replies, the reviewer's checklist marks, the two
sign-offs (审核, 审批), the permit with its certificate facts, and the start of works reported by the enterprise."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .checklist import Mark

User = settings.AUTH_USER_MODEL


class ReviewCase(models.Model):
    """The bureau's file on one application: who handles it and the review opinion as it is being written."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, primary_key=True, related_name="review_case"
    )
    assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="承办人"
    )
    assigned_at = models.DateTimeField("分配时间", null=True, blank=True)
    assigned_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    opinion = models.TextField("审查意见（草稿）", blank=True, max_length=4000)
    opinion_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    opinion_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "审查案卷"

    def __str__(self) -> str:
        return f"审查案卷 {self.project_id}"


class Verdict(models.TextChoices):
    OK = "ok", "合格"
    NEEDS_FIX = "needs_fix", "需补正"


class DocumentVerdict(models.Model):
    """A reviewer's verdict on one version of a document. The latest row is the document's verdict; a verdict on
    an older version than the document's latest is stale (the new version waits for review)."""

    document = models.ForeignKey("projects.Document", on_delete=models.CASCADE, related_name="verdicts")
    version = models.ForeignKey("projects.DocumentVersion", on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField("结论", max_length=20, choices=Verdict.choices)
    reviewer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="审查人")
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        ordering = ["document", "-at", "-id"]
        verbose_name = verbose_name_plural = "文件审查结论"

    def __str__(self) -> str:
        return f"{self.document_id} v{self.version_id}: {self.get_verdict_display()}"


class ReviewComment(models.Model):
    """A reviewer's comment on a document (or on the filing as a whole). It stays open across new versions of the
    document until a reviewer closes it."""

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        CLOSED = "closed", "已关闭"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="review_comments")
    document = models.ForeignKey(
        "projects.Document", null=True, blank=True, on_delete=models.CASCADE, related_name="review_comments"
    )
    version = models.ForeignKey(
        "projects.DocumentVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="提出时的版本",
    )  # fmt: skip
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="提出人")
    body = models.TextField("意见", max_length=2000)
    created_at = models.DateTimeField("提出时间", auto_now_add=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    close_note = models.CharField("关闭说明", max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["project", "status"])]
        verbose_name = verbose_name_plural = "审查意见"

    def __str__(self) -> str:
        return self.body[:50]


class CommentReply(models.Model):
    """The enterprise's answer to a comment (or a reviewer's follow-up), with the document's version it points to."""

    comment = models.ForeignKey(ReviewComment, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    body = models.TextField("回复", max_length=2000)
    version = models.ForeignKey(
        "projects.DocumentVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = verbose_name_plural = "意见回复"

    def __str__(self) -> str:
        return self.body[:50]


class ChecklistMark(models.Model):
    """The reviewer's mark on one point of the checklist (checklist.POINTS); changes are audited."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="checklist_marks")
    point = models.CharField("审查要点", max_length=40)
    result = models.CharField("结论", max_length=10, choices=Mark.CHOICES)
    note = models.CharField("说明", max_length=500, blank=True)
    marked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "point"], name="review_one_mark_per_point")]
        verbose_name = verbose_name_plural = "审查要点结论"

    def __str__(self) -> str:
        return f"{self.point}: {self.result}"


class SignOff(models.Model):
    """One signature on the way to a permit: 审核 (the reviewer's written opinion) or 审批 (the approval, by a
    different person where the bureau requires it). Valid for the submission (`round`) it was given in."""

    class Stage(models.TextChoices):
        REVIEW = "review", "审核"
        APPROVE = "approve", "审批"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="signoffs")
    stage = models.CharField("环节", max_length=10, choices=Stage.choices)
    signer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="签署人")
    opinion = models.TextField("意见", max_length=4000)
    round = models.PositiveIntegerField("申报轮次")
    at = models.DateTimeField("签署时间", auto_now_add=True)
    ledger_index = models.BigIntegerField("存证序号", null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "round", "stage"], name="review_one_signoff_per_stage")
        ]
        verbose_name = verbose_name_plural = "签署记录"

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.project_id}"


class Permit(models.Model):
    """A construction permit as issued: the facts printed on its certificate (kept as they were at issue), the
    code its QR code carries to the public verification page, and its evidence-log entry."""

    project = models.OneToOneField("projects.Project", on_delete=models.PROTECT, related_name="permit")
    number = models.CharField("施工许可证号", max_length=40, unique=True)
    issued_at = models.DateTimeField("发证时间")
    issuer = models.CharField("发证机关", max_length=100)
    facts = models.JSONField("证书内容", default=dict)
    verification_code = models.CharField("验证码", max_length=32, unique=True)
    review_signoff = models.ForeignKey(SignOff, null=True, on_delete=models.PROTECT, related_name="+")
    approve_signoff = models.ForeignKey(SignOff, null=True, on_delete=models.PROTECT, related_name="+")
    ledger_index = models.BigIntegerField("存证序号", null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = verbose_name_plural = "施工许可证"

    def __str__(self) -> str:
        return self.number


class StartReport(models.Model):
    """The start of works (开工) as the applicant or the general contractor reports it; the regulator confirms it
    (the project then moves to 施工中) or declines it with a reason."""

    class Decision(models.TextChoices):
        PENDING = "pending", "待确认"
        CONFIRMED = "confirmed", "已确认"
        DECLINED = "declined", "未予确认"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="start_reports")
    reported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="报告人")
    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="+")
    started_on = models.DateField("实际开工日期")
    note = models.CharField("说明", max_length=500, blank=True)
    at = models.DateTimeField("报告时间", auto_now_add=True)
    decision = models.CharField("确认", max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField("确认意见", max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["project", "decision"])]
        verbose_name = verbose_name_plural = "开工报告"

    def __str__(self) -> str:
        return f"开工报告 {self.project_id} {self.started_on}"
