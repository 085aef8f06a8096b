"""Finding alarms: the filters of the alarm list, of `GET /api/alarms` and of the CSV export, in one place.

Every search starts from `permissions.visible_alarms(user)`, so a filter can only narrow what the user may read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields

from django.db.models import Q, QuerySet
from django.utils import timezone

from jianguan.accounts import sharing
from jianguan.core.models import Jurisdiction

from .. import permissions
from ..models import OFFLINE_PARAMETER, Alarm, LimitRule

OPEN_STATES = Alarm.OPEN_STATES
# What the parameters are called on the filter; a parameter missing here is named after its rule.
PARAMETER_LABELS = {
    "a34004": "PM2.5",
    "a34002": "PM10",
    "a34001": "TSP",
    "LA": "施工噪声",
    "a01007": "风速",
    "moment_pct": "塔机力矩",
    "load_pct": "塔机起重量",
    "op_unqualified": "塔机司机资格",
    OFFLINE_PARAMETER: "设备离线",
}


@dataclass(frozen=True)
class AlarmQuery:
    state: str = "open"  # "open" (告警中 or 已确认), "all", or one Alarm.State
    jurisdiction: str = ""  # a district's or zone's code (GB/T 2260)
    q: str = ""  # the project's name or code contains this
    parameter: str = ""  # HJ 212 code (a34004) or a crane parameter (moment_pct)
    since: dt.date | None = None  # raised on or after this local day
    until: dt.date | None = None  # raised on or before this local day

    @property
    def narrowed(self) -> bool:
        """Filters beyond the state: the live feed cannot tell whether a new alarm matches them."""
        return any(getattr(self, f.name) for f in fields(self) if f.name != "state")

    def as_params(self) -> dict[str, str]:
        """The query as the page's GET parameters (for links: pages, the export)."""
        params = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in params.items() if v}


def _local_midnight(day: dt.date, days_later: int = 0) -> dt.datetime | None:
    """The start of the local day, days_later on; None at the ends of the calendar (year 1, 9999), where
    the bound cannot be a time and limits nothing anyway."""
    try:
        local = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=days_later), dt.time()))
        return local.astimezone(dt.UTC)  # as the database is asked: 0001-01-01 local is before year 1 in UTC
    except OverflowError:
        return None


def search(user, query: AlarmQuery, *, what: str = "告警列表") -> QuerySet[Alarm]:
    """The alarms the user may read that match the query. A department officer's search is logged (`what`: the
    list, the API, the CSV export) with the data-sharing rule that allowed it."""
    sharing.note_read(user, permissions.MONITORING, what=what, query=asdict(query))
    qs = permissions.visible_alarms(user)
    if query.state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif query.state in Alarm.State.values:
        qs = qs.filter(state=query.state)
    elif query.state != "all":
        return qs.none()
    if query.jurisdiction:
        qs = qs.filter(project__jurisdiction__code=query.jurisdiction)
    if query.q:
        qs = qs.filter(Q(project__name__icontains=query.q) | Q(project__code__icontains=query.q))
    if query.parameter:
        qs = qs.filter(parameter=query.parameter)
    if query.since and (start := _local_midnight(query.since)):
        qs = qs.filter(raised_at__gte=start)
    if query.until and (end := _local_midnight(query.until, days_later=1)):
        qs = qs.filter(raised_at__lt=end)
    return qs


def districts(user) -> QuerySet[Jurisdiction]:
    """The districts and zones of the projects the user may see: the choices of the district filter."""
    visible = permissions.monitored_projects(user)
    return Jurisdiction.objects.filter(pk__in=visible.values("jurisdiction_id")).order_by("code")


def parameters() -> list[tuple[str, str]]:
    """The parameters that have limit rules (so may have alarms), labelled."""
    names: dict[str, str] = {}
    for code, name in LimitRule.objects.order_by("parameter", "id").values_list("parameter", "name"):
        names.setdefault(code, PARAMETER_LABELS.get(code, name))
    known = [code for code in PARAMETER_LABELS if code in names]
    return [(code, names[code]) for code in known + sorted(set(names) - set(known))]


CSV_HEADER = [
    "告警编号",
    "发生时间",
    "区县",
    "项目编号",
    "项目名称",
    "设备",
    "告警规则",
    "级别",
    "首次值",
    "峰值",
    "当前值",
    "超标限值",
    "单位",
    "状态",
    "恢复时间",
    "确认时间",
    "处理意见",
    "关闭时间",
]


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _cell(value) -> str:
    """A spreadsheet cell: text that a spreadsheet would run as a formula (=, +, -, @ first) is quoted."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value)
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _level(alarm: Alarm) -> str:
    if alarm.parameter == OFFLINE_PARAMETER:
        return "离线"
    return "严重" if alarm.severity == "critical" else "超标"


def csv_rows(qs: QuerySet[Alarm]) -> Iterator[list[str]]:
    """The header, then one row per alarm, read in chunks (an export may hold a year of a city's alarms)."""
    yield CSV_HEADER
    for a in qs.select_related("project__jurisdiction").iterator(chunk_size=2000):
        yield [
            _cell(v)
            for v in (
                a.pk,
                _when(a.raised_at),
                a.project.jurisdiction.name,
                a.project.code,
                a.project.name,
                a.device.name,
                a.rule.name,
                _level(a),
                a.first_value,
                a.peak_value,
                a.last_value,
                "" if a.parameter == OFFLINE_PARAMETER else a.rule.warning,  # minutes without data: no limit
                a.rule.unit,
                a.get_state_display(),
                _when(a.cleared_at),
                _when(a.acknowledged_at),
                a.comment,
                _when(a.resolved_at),
            )
        ]
