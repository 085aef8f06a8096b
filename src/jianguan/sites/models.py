"""Site devices and their readings.

Readings are narrow rows keyed (device, parameter, series, time): the key makes redelivered packets
idempotent (INSERT … ON CONFLICT DO NOTHING) and serves the per-device time-range queries. On PostgreSQL
a BRIN index on the time column (migration 0002) keeps time scans cheap on an append-ordered table at a
fraction of a B-tree's size; monthly partitioning is the next step at city scale (docs/architecture.md).
"""

import datetime as dt
import ipaddress
import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """An allow-list of source networks as written ("112.224.0.0/11, 39.64.0.0/11"; a bare address is one host);
    raises ValueError naming the bad entry."""
    networks = []
    for item in re.split(r"[\s,，;；]+", text or ""):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"“{item[:50]}”不是有效的网段（如 112.224.0.0/11）") from exc
    return tuple(networks)


def validate_networks(text: str) -> None:
    try:
        networks = parse_networks(text)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    if len(networks) > 20:
        raise ValidationError("来源网段最多 20 个")


class Device(models.Model):
    class Kind(models.TextChoices):
        DUST_NOISE = "dust_noise", "扬尘噪声监测仪"
        CRANE = "crane", "塔机监测"
        GATE = "gate", "门禁闸机"
        CAMERA = "camera", "视频事件源"
        ACTUATOR = "actuator", "喷淋/雾炮"
        SENSOR = "sensor", "通用传感器"

    class Protocol(models.TextChoices):
        HJ212 = "hj212", "HJ 212（TCP）"
        MQTT = "mqtt", "MQTT"
        HTTP = "http", "HTTP"

    class Dialect(models.TextChoices):
        STANDARD = "standard", "标准（严格）"
        LENIENT = "lenient", "宽松（常见厂商偏差）"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="devices")
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    protocol = models.CharField("协议", max_length=10, choices=Protocol.choices)
    # HJ 212 identity: MN and access password (PW); the password is kept as a keyed hash.
    mn = models.CharField("设备编号（MN）", max_length=64, unique=True, null=True, blank=True)
    password_hash = models.CharField(max_length=64, blank=True)
    # MQTT identity (the broker authenticates the client; the platform maps its client id to the device)
    # and HTTP ingest token (kept as a hash).
    mqtt_client_id = models.CharField("MQTT 客户端ID", max_length=64, unique=True, null=True, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    dialect = models.CharField("报文方言", max_length=10, choices=Dialect.choices, default=Dialect.STANDARD)
    # HJ 212: where the district wants it, the gateway accepts the device only from these networks (its carrier's
    # APN pool, a site's fixed line); empty: from anywhere. Refused like a wrong password.
    allowed_networks = models.CharField("允许的来源网段", max_length=500, blank=True, validators=[validate_networks])
    edition = models.PositiveSmallIntegerField("协议版本", default=2017)
    rtd_interval_s = models.PositiveIntegerField("实时数据间隔（秒）", default=60)
    lat = models.FloatField("纬度", null=True, blank=True)
    lon = models.FloatField("经度", null=True, blank=True)
    installed_on = models.DateField("安装日期", null=True, blank=True)
    calibrated_on = models.DateField("校准日期", null=True, blank=True)
    last_seen_at = models.DateTimeField("最后上报", null=True, blank=True)
    # A retired device (removed from the site, replaced, stolen) is refused by every ingest path; it keeps
    # its readings and alarms, and may be put back into service.
    retired_at = models.DateTimeField("停用时间", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "name"]
        verbose_name = verbose_name_plural = "现场设备"

    def __str__(self) -> str:
        return f"{self.name}（{self.mn or self.get_kind_display()}）"

    def clean(self) -> None:
        super().clean()
        if self.allowed_networks.strip() and self.protocol != self.Protocol.HJ212:
            raise ValidationError({"allowed_networks": "只有 HJ 212 设备可以限定来源网段"})

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    @property
    def online(self) -> bool:
        if self.last_seen_at is None or self.retired_at is not None:
            return False
        allowed = dt.timedelta(seconds=max(3 * self.rtd_interval_s, 300))
        return timezone.now() - self.last_seen_at <= allowed


class DeviceChangeRequest(models.Model):
    """A change to a monitoring device of a permitted project asked by the monitored party (its general
    contractor): applied only when the district bureau approves it (sites/devices/changes.py). Who must ask
    and who acts directly is decided in sites/permissions.py."""

    class Action(models.TextChoices):
        RETIRE = "retire", "停用"
        RESTORE = "restore", "恢复启用"
        PASSWORD = "password", "更换访问密码"
        TOKEN = "token", "重置接入令牌"
        MOVE = "move", "变更安装位置"
        INTERVAL = "interval", "变更数据间隔"
        NETWORKS = "networks", "变更来源网段"
        DIALECT = "dialect", "变更报文方言"

    class State(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "已驳回"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="device_changes")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="change_requests")
    action = models.CharField("变更事项", max_length=10, choices=Action.choices)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    reason = models.CharField("申请原因", max_length=200)
    summary = models.CharField("变更内容", max_length=200, blank=True)  # what changes, readable (no secrets)
    # What approval applies: new values; for a new password or token only its keyed hash.
    payload = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="申请人"
    )
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="审批人"
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_comment = models.CharField("审批意见", max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "action"],
                condition=models.Q(state="pending"),
                name="sites_device_change_one_pending_per_action",
            )
        ]
        verbose_name = verbose_name_plural = "设备变更申请"

    def __str__(self) -> str:
        return f"{self.device.name} {self.get_action_display()}（{self.get_state_display()}）"


class Reading(models.Model):
    class Series(models.IntegerChoices):
        REALTIME = 0, "实时"
        MINUTE = 1, "分钟"
        HOUR = 2, "小时"
        DAY = 3, "日"

    pk = models.CompositePrimaryKey("device", "parameter", "series", "ts")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    parameter = models.CharField(max_length=16)  # HJ 212 code, e.g. a34004 (PM2.5), LA (noise)
    series = models.PositiveSmallIntegerField(choices=Series.choices)
    ts = models.DateTimeField()
    value = models.FloatField(null=True)  # Rtd, or Avg for interval data
    min_value = models.FloatField(null=True)
    max_value = models.FloatField(null=True)
    flag = models.CharField(max_length=1, blank=True)  # N normal, F off, M maintenance, D fault, ...

    class Meta:
        verbose_name = verbose_name_plural = "监测数据"

    def __str__(self) -> str:
        return f"{self.device_id} {self.parameter} {self.ts:%Y-%m-%d %H:%M:%S} {self.value}"


class LimitRule(models.Model):
    """A limit as data: per parameter, optionally per jurisdiction (else city-wide), device kind and time of day."""

    class Period(models.TextChoices):
        ALL = "all", "全天"
        DAY = "day", "昼间（06:00–22:00）"
        NIGHT = "night", "夜间（22:00–06:00）"

    name = models.CharField("名称", max_length=100)
    parameter = models.CharField("监测因子", max_length=16)
    unit = models.CharField("单位", max_length=20, blank=True)
    jurisdiction = models.ForeignKey(
        "core.Jurisdiction", null=True, blank=True, on_delete=models.CASCADE, verbose_name="适用区县（空=全市）"
    )
    device_kind = models.CharField("设备类型（空=全部）", max_length=20, blank=True, choices=Device.Kind.choices)
    period = models.CharField("时段", max_length=10, choices=Period.choices, default=Period.ALL)
    warning = models.FloatField("超标限值")
    critical = models.FloatField("严重限值", null=True, blank=True)
    sustain = models.PositiveSmallIntegerField("连续超标次数", default=3)
    clear_ratio = models.FloatField("解除比例", default=0.9)
    clear_count = models.PositiveSmallIntegerField("连续达标次数", default=3)
    source = models.CharField("依据", max_length=200)
    confirmed = models.BooleanField("依据已确认", default=False)
    active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["parameter", "jurisdiction__code", "period"]
        verbose_name = verbose_name_plural = "限值规则"

    def __str__(self) -> str:
        return f"{self.name} > {self.warning:g}{self.unit}"


# The parameter of 设备离线 alarms: raised by the silence watch (alarms/offline.py), never by a reading.
OFFLINE_PARAMETER = "offline"


class Alarm(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", "告警中"
        ACKNOWLEDGED = "acknowledged", "已确认"
        CLEARED = "cleared", "已恢复"
        RESOLVED = "resolved", "已关闭"

    OPEN_STATES = (State.ACTIVE, State.ACKNOWLEDGED)  # 未关闭: still needs someone's attention

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="alarms")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="alarms")
    rule = models.ForeignKey(LimitRule, on_delete=models.PROTECT, related_name="alarms")
    parameter = models.CharField(max_length=16)
    severity = models.CharField("级别", max_length=10)  # warning | critical
    state = models.CharField("状态", max_length=15, choices=State.choices, default=State.ACTIVE, db_index=True)
    raised_at = models.DateTimeField("发生时间")
    first_value = models.FloatField()
    last_value = models.FloatField()
    peak_value = models.FloatField()
    cleared_at = models.DateTimeField("恢复时间", null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField("处理意见", blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        # The alarm list's order: a page is read off this index instead of sorting every alarm.
        indexes = [models.Index(fields=["raised_at", "id"], name="sites_alarm_raised_id_idx")]
        constraints = [
            # One silence episode of a device at a time, even if two watch jobs ran at once.
            models.UniqueConstraint(
                fields=["device"],
                condition=models.Q(parameter=OFFLINE_PARAMETER, cleared_at__isnull=True),
                name="sites_alarm_one_open_offline_episode",
            )
        ]
        verbose_name = verbose_name_plural = "告警"

    def __str__(self) -> str:
        return f"{self.device} {self.parameter} {self.get_state_display()}"

    @property
    def is_offline(self) -> bool:
        """A 设备离线 alarm: its values are minutes without data."""
        return self.parameter == OFFLINE_PARAMETER

    def evidence(self) -> dict:
        """The content of its evidence-log entries (raised, escalated, cleared), so that an exceedance cannot be
        edited away later: the alarm as it is at the event (take it then: later readings move it)."""
        return {
            "project": self.project.code,
            "device": self.device.mn or str(self.device_id),
            "parameter": self.parameter,
            "rule": self.rule.name,
            "limit": self.rule.warning,
            "severity": self.severity,
            "value": self.last_value,
            "peak": self.peak_value,
            "raised_at": self.raised_at.isoformat(),
        }


class RuleState(models.Model):
    """The alarm engine's counters for one device and rule, kept between packets."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(LimitRule, on_delete=models.CASCADE, related_name="+")
    over = models.PositiveIntegerField(default=0)
    under = models.PositiveIntegerField(default=0)
    active = models.CharField(max_length=10, blank=True)
    peak = models.FloatField(null=True)
    alarm = models.ForeignKey(Alarm, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "rule"], name="sites_rulestate_device_rule")]

    def __str__(self) -> str:
        return f"{self.device_id}/{self.rule_id}: over {self.over}"


class SiteWorker(models.Model):
    """The project's real-name worker register (实名制): who may work here, for which employer, in which trade."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="workers")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="site_posts")
    employer = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="+")
    trade = models.CharField("工种", max_length=50, blank=True)
    # A special-operation trade needs the matching 特种作业操作证 (e.g. 塔式起重机司机).
    required_operation = models.CharField("须持特种作业证", max_length=50, blank=True)
    active = models.BooleanField("在册", default=True)
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "person"], name="sites_worker_project_person")]
        verbose_name = verbose_name_plural = "实名制人员"

    def __str__(self) -> str:
        return f"{self.person.name}（{self.trade or '—'}）"

    # One answer for a refused person, whether or not the id exists (the register is not a registry lookup).
    NOT_ELIGIBLE = "人员不存在，或不是所填用工单位的在册人员"

    @classmethod
    def eligible_people(cls, project, employer_id: int):
        """The registry's people who may be registered for `employer`: its employees, when it takes part in
        the project (an employer that is no participant would hide the 挂靠 signal at the gate)."""
        from jianguan.registry.models import Person

        if not project.participants.filter(enterprise_id=employer_id).exists():
            return Person.objects.none()
        return Person.objects.filter(employer_id=employer_id)

    def clean(self):
        super().clean()
        if self.employer_id and not self.project.participants.filter(enterprise_id=self.employer_id).exists():
            raise ValidationError({"employer": "用工单位须为本项目的参建单位"})
        if self.person_id and self.person.employer_id != self.employer_id:
            raise ValidationError({"person": self.NOT_ELIGIBLE})


class GateEvent(models.Model):
    class Direction(models.TextChoices):
        IN = "in", "进"
        OUT = "out", "出"

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="gate_events")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    ts = models.DateTimeField(db_index=True)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    id_number_masked = models.CharField(max_length=18, blank=True)  # what the gate read, masked
    worker = models.ForeignKey(SiteWorker, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    flags = models.JSONField(default=list)  # codes: unregistered, unknown_person, employer_not_participant, …
    messages = models.JSONField(default=list)

    class Meta:
        ordering = ["-ts", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["device", "ts", "id_number_masked"], name="sites_gate_event_once")
        ]
        verbose_name = verbose_name_plural = "门禁记录"

    def __str__(self) -> str:
        return f"{self.ts:%Y-%m-%d %H:%M} {self.get_direction_display()} {self.id_number_masked}"


class CraneOperatorCheck(models.Model):
    """The latest check of who operates a tower crane (cranes.py): the person its cab's reader reported, and
    why they may not operate it (unknown, not on this project's register, no valid 塔式起重机司机 certificate,
    no gate entry today). One row per crane; the history is the crane's op_unqualified readings and alarms."""

    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="operator_check")
    person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    id_number_masked = models.CharField("证件号（脱敏）", max_length=18, blank=True)  # what the reader read
    ts = models.DateTimeField("核验时间")  # the telemetry message's time
    ok = models.BooleanField("合格")
    reasons = models.JSONField(default=list)  # codes: unknown_person, unregistered, certificate_expired, …
    messages = models.JSONField(default=list)

    class Meta:
        verbose_name = verbose_name_plural = "塔机司机资格核验"

    def __str__(self) -> str:
        return f"{self.device_id} {self.ts:%Y-%m-%d %H:%M} {'合格' if self.ok else '不合格'}"


class ActuatorCommand(models.Model):
    """A command to a sprinkler / fog cannon, tracked until the device acknowledges it (or we give up)."""

    class State(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        ACKED = "acked", "已执行"
        FAILED = "failed", "失败"

    command_id = models.CharField(max_length=36, unique=True)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="commands")
    alarm = models.ForeignKey(Alarm, null=True, blank=True, on_delete=models.SET_NULL, related_name="commands")
    action = models.CharField("动作", max_length=10)  # on | off
    duration_s = models.PositiveIntegerField("持续（秒）", default=600)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    issued_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    acked_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField("结果", max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "喷淋/雾炮指令"

    def __str__(self) -> str:
        return f"{self.device} {self.action} {self.get_state_display()}"


class ReadingAggregate(models.Model):
    """Hourly and daily figures per device, parameter and series, rolled up from the raw readings (aggregates.py).

    Hour buckets are UTC-aligned (the same as Beijing hours); day buckets start at local midnight (TIME_ZONE,
    the bureau's day). `start` is the bucket's first instant. Only values with a normal flag (N or none) count
    towards count/total/min/max/last/over; the other rows are counted in `flagged`. The mean is total / count,
    so buckets combine exactly (a day is the sum of its hours).
    """

    class Bucket(models.TextChoices):
        HOUR = "hour", "小时"
        DAY = "day", "日"

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    parameter = models.CharField(max_length=16)
    series = models.PositiveSmallIntegerField(choices=Reading.Series.choices)
    bucket = models.CharField(max_length=4, choices=Bucket.choices)
    start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)  # valid values
    total = models.FloatField(default=0.0)  # their sum
    min_value = models.FloatField(null=True)
    max_value = models.FloatField(null=True)
    last_value = models.FloatField(null=True)  # the latest valid value in the bucket
    last_ts = models.DateTimeField(null=True)
    flagged = models.PositiveIntegerField(default=0)  # rows with a non-normal flag or no value
    # Valid values above the warning level of the limit that applied in the bucket (0 without a limit).
    over = models.PositiveIntegerField("超标次数", default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["device", "parameter", "series", "bucket", "start"], name="sites_aggregate_bucket_once"
            )
        ]
        # Roll-ups of a day, retention and digests read one bucket size over a time range across all devices.
        indexes = [models.Index(fields=["bucket", "start"], name="sites_aggregate_bucket_start")]
        verbose_name = verbose_name_plural = "监测数据汇总"

    def __str__(self) -> str:
        return f"{self.device_id} {self.parameter} {self.bucket} {self.start:%Y-%m-%d %H:%M}"

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


class ReadingDigest(models.Model):
    """Marks that a project's day of readings went into the evidence log (one `sites.daily_digest` entry)."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    ledger_index = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "day"], name="sites_digest_project_day_once")]
        verbose_name = verbose_name_plural = "监测日摘要存证"

    def __str__(self) -> str:
        return f"{self.project_id} {self.day}"


class ReadingPurge(models.Model):
    """A local day whose raw readings the retention job deleted: its aggregates are final and never re-rolled."""

    day = models.DateField(unique=True)
    rows = models.BigIntegerField(default=0)
    purged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day"]
        verbose_name = verbose_name_plural = "原始数据清理记录"

    def __str__(self) -> str:
        return f"{self.day}: {self.rows}"
