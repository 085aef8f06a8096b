import datetime as dt

from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.security import APIKeyHeader

from jianguan.core.middleware import client_ip
from jianguan.core.pagination import BoundedPageNumberPagination
from jianguan.core.schemas import ApiError as ErrorOut
from jianguan.core.schemas import DbDatetime, Id, IsoDate, integer, number
from jianguan.projects import services as project_services

from . import permissions
from .actuators import commands as actuators
from .alarms import handling
from .alarms import search as alarm_search
from .devices import changes, guarding, identity
from .devices import services as device_services
from .ingest import store
from .models import Device, DeviceChangeRequest, GateEvent, Reading
from .permissions import Part
from .protocols import telemetry
from .readings import trends
from .workforce import cranes, gates, roster

router = Router(tags=["智慧工地"])


class DeviceOut(Schema):
    id: int
    project_id: int
    name: str
    kind: str
    protocol: str
    mn: str | None
    dialect: str
    rtd_interval_s: int
    lat: float | None
    lon: float | None
    installed_on: dt.date | None
    calibrated_on: dt.date | None
    last_seen_at: dt.datetime | None
    online: bool
    retired_at: dt.datetime | None = Field(None, description="set while the device is out of service")
    mqtt_client_id: str | None
    allowed_networks: str = Field(description="HJ 212: accepted only from these networks (comma-separated); empty: any")
    token: str | None = Field(None, description="HTTP devices: the ingest token, returned once at registration")

    @staticmethod
    def resolve_token(obj):
        return getattr(obj, "issued_token", None)


class DeviceIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    kind: Device.Kind
    protocol: Device.Protocol
    mn: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_\-]+$")
    password: str | None = Field(None, min_length=1, max_length=64)
    mqtt_client_id: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    dialect: Device.Dialect = Device.Dialect.STANDARD
    rtd_interval_s: integer(ge=30, le=3600) = 60  # HJ 212: 30 to 3600 s
    lat: number(ge=-90, le=90) | None = None
    lon: number(ge=-180, le=180) | None = None
    installed_on: IsoDate | None = None
    calibrated_on: IsoDate | None = None
    allowed_networks: str = Field(
        "", max_length=500, description="HJ 212: accept the device only from these networks, e.g. 112.224.0.0/11"
    )


class DevicePatch(Schema):
    """What may change after registration; a field left out stays as it is."""

    name: str | None = Field(None, min_length=1, max_length=100)
    dialect: Device.Dialect | None = None
    rtd_interval_s: integer(ge=30, le=3600) | None = None
    lat: number(ge=-90, le=90) | None = None
    lon: number(ge=-180, le=180) | None = None
    installed_on: IsoDate | None = None
    calibrated_on: IsoDate | None = None
    password: str | None = Field(None, min_length=1, max_length=64, description="HJ 212: a new access password")
    allowed_networks: str | None = Field(None, max_length=500, description='HJ 212: source networks; "": any')
    reason: str | None = Field(
        None, max_length=200, description="why: required for a move, interval, password or networks needing approval"
    )


class RetireIn(Schema):
    reason: str = Field(min_length=1, max_length=200)


class TokenOut(Schema):
    token: str


class ReadingOut(Schema):
    parameter: str
    series: int
    ts: dt.datetime
    value: float | None
    min_value: float | None
    max_value: float | None
    flag: str


class ReadingFilter(Schema):
    parameter: str = Field("", max_length=16)
    series: integer(ge=0, le=3) | None = None
    since: DbDatetime | None = None
    until: DbDatetime | None = None


def _device_for(request, device_id: int, what: str = "监测设备") -> Device:
    """The device, if the user may read its project's monitoring (404 otherwise, as for a device that does not
    exist)."""
    return device_services.get_device_for(request.user, device_id, what=what)


@router.get("/projects/{project_id}/devices", response={200: list[DeviceOut], 403: ErrorOut, 404: ErrorOut})
def list_devices(request, project_id: Id):
    project = project_services.get_project_for(request.user, project_id, Part.SITE_MONITORING, what="监测设备")
    return project.devices.all()


@router.post("/projects/{project_id}/devices", response={201: DeviceOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def register_device(request, project_id: Id, payload: DeviceIn):
    """Register a site device. HJ 212 devices need their MN and access password (PW)."""
    project = project_services.get_project_for(request.user, project_id)
    data = payload.dict()
    for key in ("kind", "protocol", "dialect"):
        data[key] = str(getattr(data[key], "value", data[key]))
    return 201, device_services.register_device(request.user, project, data)


class DeviceChangeOut(Schema):
    id: int
    project_id: Id
    device_id: Id
    device_name: str
    action: DeviceChangeRequest.Action = Field(
        description="retire 停用, restore 恢复启用, password 更换访问密码, token 重置接入令牌, move 变更安装位置, "
        "interval 变更数据间隔"
    )
    action_label: str
    state: DeviceChangeRequest.State = Field(description="pending 待审批, approved 已批准, rejected 已驳回")
    state_label: str
    summary: str
    reason: str
    requested_by: str | None
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_comment: str

    @staticmethod
    def resolve_device_name(obj):
        return obj.device.name

    @staticmethod
    def resolve_action_label(obj):
        return obj.get_action_display()

    @staticmethod
    def resolve_state_label(obj):
        return obj.get_state_display()

    @staticmethod
    def resolve_requested_by(obj):
        return obj.requested_by.get_full_name() if obj.requested_by_id else None

    @staticmethod
    def resolve_decided_by(obj):
        return obj.decided_by.get_full_name() if obj.decided_by_id else None


class DevicePendingOut(Schema):
    device: DeviceOut = Field(description="the device as it is now (changes not needing approval applied)")
    requests: list[DeviceChangeOut] = Field(description="the changes waiting for the district bureau")


class ReasonIn(Schema):
    reason: str = Field("", max_length=200, description="why: required when the change needs approval")


class TokenPendingOut(Schema):
    token: str = Field(description="the new token, returned once; it works from the approval on")
    request: DeviceChangeOut


PENDING_NOTE = (
    " A monitor of a permitted project is under change control: when its general contractor asks, the answer is "
    "202 with the pending request(s), and the change applies only when the district bureau approves it "
    "(`/api/device-changes`); the bureau's own changes apply at once."
)


@router.patch(
    "/devices/{device_id}",
    response={200: DeviceOut, 202: DevicePendingOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    description="Change a device's name, dialect, interval, location, installation or calibration date, or (HJ 212) "
    "its access password. Its kind, protocol and identity stay: a new identity is a new device. A move (of a "
    "recorded position), a new interval, password, dialect or allowed networks need `reason` when they need "
    "approval." + PENDING_NOTE,
)
def update_device(request, device_id: Id, payload: DevicePatch):
    data = payload.dict(exclude_unset=True)
    if "allowed_networks" in data and data["allowed_networks"] is None:
        data["allowed_networks"] = ""  # null: no restriction
    if "dialect" in data and data["dialect"] is not None:
        data["dialect"] = str(getattr(data["dialect"], "value", data["dialect"]))
    device = device_services.update_device(request.user, _device_for(request, device_id), data)
    if device.requested:
        return 202, {"device": device, "requests": device.requested}
    return 200, device


def _retired_answer(device: Device):
    return (202, device.requested[0]) if device.requested else (200, device)


@router.post(
    "/devices/{device_id}/retire",
    response={200: DeviceOut, 202: DeviceChangeOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    description="Take a device out of service: HJ 212, MQTT and HTTP ingest refuse it from now on; its data stays."
    + PENDING_NOTE,
)
def retire_device(request, device_id: Id, payload: RetireIn):
    return _retired_answer(
        device_services.set_retired(request.user, _device_for(request, device_id), True, payload.reason)
    )


@router.post(
    "/devices/{device_id}/restore",
    response={200: DeviceOut, 202: DeviceChangeOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    description="Put a retired device back into service (body optional; `reason` required when it needs approval)."
    + PENDING_NOTE,
)
def restore_device(request, device_id: Id, payload: ReasonIn | None = None):
    reason = payload.reason if payload is not None else ""
    return _retired_answer(device_services.set_retired(request.user, _device_for(request, device_id), False, reason))


@router.post(
    "/devices/{device_id}/token",
    response={201: TokenOut, 202: TokenPendingOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    description="A new ingest token for an HTTP device, returned once; the old one stops working at once (body "
    "optional; `reason` required when it needs approval: then the old token works until the approval)." + PENDING_NOTE,
)
def reissue_device_token(request, device_id: Id, payload: ReasonIn | None = None):
    reason = payload.reason if payload is not None else ""
    device = device_services.reissue_token(request.user, _device_for(request, device_id), reason)
    if device.requested:
        return 202, {"token": device.issued_token, "request": device.requested[0]}
    return 201, {"token": device.issued_token}


class DeviceChangeFilter(Schema):
    state: str = Field("", pattern="^(|pending|approved|rejected)$", description="empty: all")
    project_id: Id | None = Field(None, ge=1, le=2**63 - 1)


class DecisionIn(Schema):
    comment: str = Field("", max_length=200, description="the decision's reason: required to reject")


@router.get("/device-changes", response={200: list[DeviceChangeOut]})
@paginate(BoundedPageNumberPagination, page_size=50)
def list_device_changes(request, filters: Query[DeviceChangeFilter]):
    """Device change requests of the projects this user may read (regulators, participants), newest first."""
    qs = permissions.visible_device_changes(request.user)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.project_id:
        qs = qs.filter(project_id=filters.project_id)
    return qs


@router.get("/device-changes/{change_id}", response={200: DeviceChangeOut, 404: ErrorOut})
def get_device_change(request, change_id: Id):
    return permissions.visible_device_changes(request.user).get(pk=change_id)


@router.post(
    "/device-changes/{change_id}/approve", response={200: DeviceChangeOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
)
def approve_device_change(request, change_id: Id, payload: DecisionIn):
    """The district bureau approves: the change applies to the device now; the requester is notified.
    403: not a regulator of the project; 422: the request was already decided."""
    change = permissions.visible_device_changes(request.user).get(pk=change_id)
    return changes.approve(request.user, change, payload.comment)


@router.post(
    "/device-changes/{change_id}/reject", response={200: DeviceChangeOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
)
def reject_device_change(request, change_id: Id, payload: DecisionIn):
    """The district bureau rejects, with its reason (`comment`, required); the device stays as it is.
    403: not a regulator of the project; 422: no reason, or the request was already decided."""
    change = permissions.visible_device_changes(request.user).get(pk=change_id)
    return changes.reject(request.user, change, payload.comment)


@router.get("/devices/{device_id}/readings", response={200: list[ReadingOut], 404: ErrorOut})
@paginate(BoundedPageNumberPagination, page_size=100)
def device_readings(request, device_id: Id, filters: Query[ReadingFilter]):
    """Readings of a device, newest first; filter by parameter code, series and time range."""
    device = _device_for(request, device_id, "监测数据")
    qs = Reading.objects.filter(device=device)
    if filters.parameter:
        qs = qs.filter(parameter=filters.parameter)
    if filters.series is not None:
        qs = qs.filter(series=filters.series)
    if filters.since:
        qs = qs.filter(ts__gte=filters.since)
    if filters.until:
        qs = qs.filter(ts__lt=filters.until)
    return qs.order_by("-ts", "parameter")


class AlarmOut(Schema):
    id: int
    project_id: int
    project_name: str
    device_id: int
    device_name: str
    rule: str
    parameter: str
    severity: str
    state: str
    state_label: str
    raised_at: dt.datetime
    first_value: float
    last_value: float
    peak_value: float
    limit: float
    unit: str
    limit_source: str
    limit_confirmed: bool
    cleared_at: dt.datetime | None
    comment: str

    @staticmethod
    def resolve_project_name(obj):
        return obj.project.name

    @staticmethod
    def resolve_device_name(obj):
        return obj.device.name

    @staticmethod
    def resolve_rule(obj):
        return obj.rule.name

    @staticmethod
    def resolve_state_label(obj):
        return obj.get_state_display()

    @staticmethod
    def resolve_limit(obj):
        return obj.rule.warning

    @staticmethod
    def resolve_unit(obj):
        return obj.rule.unit

    @staticmethod
    def resolve_limit_source(obj):
        return obj.rule.source

    @staticmethod
    def resolve_limit_confirmed(obj):
        return obj.rule.confirmed


class AlarmFilter(Schema):
    state: str = Field(
        "",
        pattern="^(|open|all|active|acknowledged|cleared|resolved)$",
        description="open (告警中 or 已确认), all, or one state; empty: all",
    )
    project_id: Id | None = None
    jurisdiction: str = Field("", max_length=12, description="the project's district or zone code (GB/T 2260)")
    q: str = Field("", max_length=100, description="the project's name or code contains this")
    parameter: str = Field("", max_length=16, description="e.g. a34004 (PM2.5), LA (noise), moment_pct")
    since: IsoDate | None = Field(None, description="raised on or after this day (Beijing time)")
    until: IsoDate | None = Field(None, description="raised on or before this day (Beijing time)")


class CommentIn(Schema):
    comment: str = Field(max_length=2000)


@router.get("/alarms", response=list[AlarmOut])
@paginate(BoundedPageNumberPagination, page_size=50)
def list_alarms(request, filters: Query[AlarmFilter]):
    """Alarms of the projects this user may see, newest first, with the alarm list's filters."""
    query = alarm_search.AlarmQuery(
        state=filters.state or "all",
        jurisdiction=filters.jurisdiction,
        q=filters.q.strip(),
        parameter=filters.parameter,
        since=filters.since,
        until=filters.until,
    )
    qs = alarm_search.search(request.user, query)
    if filters.project_id:
        qs = qs.filter(project_id=filters.project_id)
    return qs


@router.post("/alarms/{alarm_id}/acknowledge", response={200: AlarmOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def acknowledge_alarm(request, alarm_id: Id, payload: CommentIn):
    return handling.acknowledge(
        request.user, permissions.visible_alarms(request.user).get(pk=alarm_id), payload.comment
    )


@router.post("/alarms/{alarm_id}/resolve", response={200: AlarmOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def resolve_alarm(request, alarm_id: Id, payload: CommentIn):
    return handling.resolve(request.user, permissions.visible_alarms(request.user).get(pk=alarm_id), payload.comment)


class DeviceTokenAuth(APIKeyHeader):
    """`X-Device-Token`; an address that presents DEVICE_TOKEN_MAX_FAILURES wrong tokens within the window is
    answered 429 without its tokens being looked up (guarding.py)."""

    param_name = "X-Device-Token"

    def authenticate(self, request, key):
        ip = client_ip(request)
        guarding.check_token_allowed(ip)
        device = identity.device_for_token(key)
        if device is None and key:
            guarding.token_failed(ip)
        return device


class IngestOut(Schema):
    stored: int


# The body is read by the protocol's own parser (shared with MQTT), not by a schema; this documents it.
TELEMETRY_BODY = {
    "type": "object",
    "required": ["values"],
    "properties": {
        "ts": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "采样时间，ISO 8601，须带时区；null 或缺省为收到的时间",
        },
        "values": {
            "type": "object",
            "maxProperties": telemetry.MAX_VALUES,
            "propertyNames": {"pattern": telemetry.NAME_RE.pattern},
            "additionalProperties": {"type": "number"},
            "description": "参数名 → 数值（有限的数）",
        },
        "operator": {
            "type": "string",
            "minLength": 1,
            "maxLength": telemetry.OPERATOR_MAX,
            "description": "塔吊驾驶室读卡器读到的身份证号",
        },
    },
}


@router.post(
    "/ingest/telemetry",
    auth=DeviceTokenAuth(),
    response={202: IngestOut, 400: ErrorOut, 401: ErrorOut, 429: ErrorOut},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": TELEMETRY_BODY}}}},
)
def ingest_telemetry(request):
    """HTTP devices post JSON telemetry with their token in `X-Device-Token`; body as for MQTT:
    `{"ts": "2026-11-20T10:00:00+08:00", "values": {"wind_ms": 6.2, "moment_pct": 71.5}}`. A crane may add
    `"operator": "<ID number>"` (its cab's reader): the operator is checked and the result stored as the
    reading `op_unqualified` (counted in `stored`)."""
    try:
        data = telemetry.parse_payload(request.body, timezone.now())
    except telemetry.TelemetryError as exc:
        return 400, {"code": "bad_payload", "detail": str(exc)}
    return 202, {"stored": store.store_telemetry(request.auth.pk, data)}


class GateIn(Schema):
    id_number: str = Field(min_length=1, max_length=32, description="the ID number the gate read (card or face match)")
    direction: GateEvent.Direction
    ts: DbDatetime | None = None


class GateEventOut(Schema):
    id: int
    ts: dt.datetime
    direction: str
    person_name: str | None
    id_number_masked: str
    flags: list[str]
    messages: list[str]

    @staticmethod
    def resolve_person_name(obj):
        # Only a person on this site's register is named: the gate is no registry lookup for any ID number.
        return obj.person.name if obj.person_id and obj.worker_id else None


@router.post(
    "/ingest/gate",
    auth=DeviceTokenAuth(),
    response={201: GateEventOut, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
)
def ingest_gate(request, payload: GateIn):
    """A gate reports a passage; the answer says at once whether the person may be on this site."""
    device = request.auth
    if device.kind != Device.Kind.GATE:
        return 400, {"code": "not_a_gate", "detail": "该设备不是门禁闸机"}
    if payload.ts is not None and payload.ts.tzinfo is None:
        return 400, {"code": "bad_ts", "detail": "ts 须带时区"}
    return 201, gates.record_entry(device, payload.id_number, payload.direction.value, payload.ts)


class WorkerIn(Schema):
    person_id: Id
    employer_id: Id
    trade: str = Field("", max_length=50)
    required_operation: str = Field("", max_length=50)


class WorkerOut(Schema):
    id: int
    person_name: str
    id_number_masked: str
    employer: str
    trade: str
    required_operation: str
    active: bool

    @staticmethod
    def resolve_person_name(obj):
        return obj.person.name

    @staticmethod
    def resolve_id_number_masked(obj):
        return obj.person.id_number_masked

    @staticmethod
    def resolve_employer(obj):
        return obj.employer.name


@router.post("/projects/{project_id}/workers", response={201: WorkerOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def register_worker(request, project_id: Id, payload: WorkerIn):
    """Add a person to the project's real-name register (the general contractor or the regulator). The employer
    must be a participant and the person its employee; any other person id, existing or not, gets the same 422."""
    project = project_services.get_project_for(request.user, project_id)
    return 201, roster.register_worker(request.user, project, **payload.dict())


class GateSummaryOut(Schema):
    day: dt.date
    people_in: int
    flagged_entries: int
    flags: dict[str, dict]
    subcontracting_signal: int
    attendance_by_employer: list[dict]


@router.get("/projects/{project_id}/gate-summary", response={200: GateSummaryOut, 403: ErrorOut, 404: ErrorOut})
def gate_summary(request, project_id: Id, day: IsoDate | None = None):
    """The day's attendance per employer and the flagged entries (挂靠/转包 signals)."""
    project = project_services.get_project_for(request.user, project_id, Part.SITE_WORKFORCE, what="实名制考勤")
    return gates.project_summary(project, day or timezone.localdate())


class CraneOperatorCheckOut(Schema):
    device_id: int
    device_name: str
    ts: dt.datetime
    ok: bool
    person_name: str | None
    id_number_masked: str
    reasons: list[str]
    messages: list[str]

    @staticmethod
    def resolve_device_name(obj):
        return obj.device.name

    @staticmethod
    def resolve_person_name(obj):
        return obj.person.name if obj.person_id else None


@router.get(
    "/projects/{project_id}/crane-operators",
    response={200: list[CraneOperatorCheckOut], 403: ErrorOut, 404: ErrorOut},
)
def crane_operators(request, project_id: Id):
    """The latest operator check of each of the project's tower cranes: who the cab's reader reported and
    why they may not operate it (未登记 / 非本项目 / 无有效证书 / 当日未经闸机进场)."""
    project = project_services.get_project_for(request.user, project_id, Part.SITE_WORKFORCE, what="塔吊司机资格核验")
    return cranes.project_checks(project)


class CommandIn(Schema):
    action: str = Field(pattern="^(on|off)$")
    duration_s: integer(ge=10, le=7200) = 600


class CommandOut(Schema):
    command_id: str
    device_id: int
    alarm_id: int | None
    action: str
    duration_s: int
    state: str
    attempts: int
    sent_at: dt.datetime | None
    acked_at: dt.datetime | None
    result: str


@router.post("/devices/{device_id}/commands", response={201: CommandOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def command_device(request, device_id: Id, payload: CommandIn):
    """A regulator switches a sprinkler / fog cannon on or off by hand (MQTT, acknowledged by the device)."""
    device = _device_for(request, device_id)
    return 201, actuators.issue_manually(request.user, device, payload.action, payload.duration_s)


@router.get("/alarms/{alarm_id}/commands", response={200: list[CommandOut], 404: ErrorOut})
def alarm_commands(request, alarm_id: Id):
    """The sprinkler commands an alarm triggered, with their acknowledgement state."""
    return permissions.visible_alarms(request.user).get(pk=alarm_id).commands.all()


class AggregateOut(Schema):
    parameter: str
    series: int
    bucket: str
    start: dt.datetime = Field(description="the bucket's first instant (hour: UTC-aligned; day: local midnight)")
    count: int = Field(description="valid values (flag N or none)")
    mean: float | None
    min_value: float | None
    max_value: float | None
    last_value: float | None
    last_ts: dt.datetime | None
    flagged: int = Field(description="rows with another flag or no value")
    over: int = Field(description="valid values above the warning level of the limit that applied (超标次数)")


class AggregateFilter(Schema):
    bucket: str = Field("hour", pattern="^(hour|day)$")
    parameter: str = Field("", max_length=16)
    series: integer(ge=0, le=3) | None = None
    since: DbDatetime | None = None
    until: DbDatetime | None = None


@router.get("/devices/{device_id}/aggregates", response={200: list[AggregateOut], 404: ErrorOut})
@paginate(BoundedPageNumberPagination, page_size=100)
def device_aggregates(request, device_id: Id, filters: Query[AggregateFilter]):
    """Hourly or daily figures of a device (count, mean, min, max, last), newest first; `since`/`until`
    select bucket starts. Kept after the raw readings are deleted (daily: forever)."""
    from .models import ReadingAggregate

    device = _device_for(request, device_id, "监测汇总")
    qs = ReadingAggregate.objects.filter(device=device, bucket=filters.bucket)
    if filters.parameter:
        qs = qs.filter(parameter=filters.parameter)
    if filters.series is not None:
        qs = qs.filter(series=filters.series)
    if filters.since:
        qs = qs.filter(start__gte=filters.since)
    if filters.until:
        qs = qs.filter(start__lt=filters.until)
    return qs.order_by("-start", "parameter", "series")


class TrendLimitOut(Schema):
    label: str
    warning: float
    critical: float | None


class TrendSeriesOut(Schema):
    parameter: str
    label: str
    unit: str
    limits: list[TrendLimitOut]
    points: list[tuple[dt.datetime, float, float]] = Field(description="[bucket start, mean, maximum] of valid values")
    latest_value: float | None
    latest_ts: dt.datetime | None


class TrendOut(Schema):
    device_id: int
    device_name: str
    since: dt.datetime
    until: dt.datetime
    bucket_minutes: int
    series: list[TrendSeriesOut]


@router.get("/devices/{device_id}/trend", response={200: TrendOut, 404: ErrorOut})
def device_trend(request, device_id: Id, hours: integer(ge=1, le=trends.MAX_HOURS) = 24):
    """A dust/noise monitor's or a crane's main parameters over the last `hours` (1–168) in about 144 buckets
    (mean and maximum of the valid values), with the limits that apply and each parameter's latest value."""
    device = _device_for(request, device_id, "监测趋势")
    trend = trends.device_trend(device, hours=hours)
    return {
        "device_id": device.pk,
        "device_name": device.name,
        "since": trend.since,
        "until": trend.until,
        "bucket_minutes": int(trend.bucket.total_seconds() // 60),
        "series": trend.series,
    }
