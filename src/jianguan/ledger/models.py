"""The evidence log's storage: entries (leaves), perfect-subtree node hashes, signed checkpoints.

Append-only by convention and by check: the application never updates or deletes these rows, and the
self-audit recomputes the tree from the entries to catch a row altered behind its back.
"""

from django.db import models


class LedgerHead(models.Model):
    """One row: the current tree size. Appends lock it, so leaf indexes are dense and ordered."""

    size = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "存证日志状态"

    def __str__(self) -> str:
        return f"tree size {self.size}"


class LedgerEntry(models.Model):
    index = models.BigIntegerField("序号", unique=True)
    kind = models.CharField("类别", max_length=40, db_index=True)
    record_type = models.CharField("对象类型", max_length=60)
    record_id = models.CharField("对象ID", max_length=60)
    # Who may read the leaf data: "project:<id>" follows the project's read permission; "" = staff only.
    scope = models.CharField("可见范围", max_length=60, blank=True, db_index=True)
    # The exact bytes that were hashed (canonical JSON, UTF-8): the leaf is reproducible from this alone.
    leaf_data = models.TextField("存证内容")
    leaf_hash = models.CharField("叶哈希", max_length=64)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        ordering = ["index"]
        indexes = [models.Index(fields=["record_type", "record_id"])]
        verbose_name = verbose_name_plural = "存证条目"

    def __str__(self) -> str:
        return f"#{self.index} {self.kind} {self.record_type}:{self.record_id}"


class LedgerNode(models.Model):
    """Hash of the perfect subtree at (level, index): it covers leaves [index·2^level, (index+1)·2^level)."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "index"], name="ledger_node_level_index")]
        verbose_name = verbose_name_plural = "存证树节点"

    def __str__(self) -> str:
        return f"node({self.level}, {self.index})"


class LedgerCheckpoint(models.Model):
    tree_size = models.BigIntegerField("树大小", db_index=True)
    root_hash = models.CharField("根哈希", max_length=64)
    note = models.TextField("签名检查点")
    key_id = models.CharField("密钥ID", max_length=8)
    created_at = models.DateTimeField("签名时间", auto_now_add=True)

    class Meta:
        ordering = ["-tree_size", "-id"]
        verbose_name = verbose_name_plural = "签名检查点"

    def __str__(self) -> str:
        return f"checkpoint {self.tree_size}"


class LedgerAuditRun(models.Model):
    """One run of the self-audit: what it checked and what it found."""

    at = models.DateTimeField(auto_now_add=True)
    tree_size = models.BigIntegerField()
    checkpoint_size = models.BigIntegerField(null=True)
    ok = models.BooleanField()
    problems = models.JSONField(default=list)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = verbose_name_plural = "存证自检"

    def __str__(self) -> str:
        return f"audit {self.at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"
