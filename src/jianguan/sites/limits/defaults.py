"""Default limits from ../shared/domain, each naming its source; unconfirmed ones are marked so (shown in the
UI and in alarm messages as "默认值待确认"). Used by the data migration and by tests that flush tables."""

DEFAULTS = [
    # name, parameter, unit, device_kind, period, warning, critical, source, confirmed
    (
        "PM2.5",
        "a34004",
        "µg/m³",
        "",
        "all",
        75,
        150,
        "GB 3095-2012 二级24小时浓度限值（参考值，山东施工扬尘地方限值待确认）",
        False,
    ),
    ("PM10", "a34002", "µg/m³", "", "all", 150, 300, "山东省施工扬尘PM10小时均值预警（默认值，待确认）", False),
    ("施工噪声（昼间）", "LA", "dB(A)", "", "day", 70, None, "GB 12523-2011 昼间70 dB(A)", True),
    ("施工噪声（夜间）", "LA", "dB(A)", "", "night", 55, 70, "GB 12523-2011 夜间55 dB(A)", True),
    (
        "风速（塔机停止吊装）",
        "a01007",
        "m/s",
        "crane",
        "all",
        10.8,
        None,
        "JGJ 33 / GB 5144：六级风及以上停止吊装",
        True,
    ),
    ("塔机力矩", "moment_pct", "%", "crane", "all", 90, 100, "GB 5144-2006：额定力矩90%预警，100%限制器动作", True),
    # ../shared/domain states the 90 % warning for the load moment only: for the load it is our default.
    (
        "塔机起重量",
        "load_pct",
        "%",
        "crane",
        "all",
        90,
        100,
        "GB 5144-2006：起重量限制器，超过额定起重量时停止吊钩上升（90%预警为平台默认值，待确认）",
        False,
    ),
    # Derived by the operator check (cranes.py): 1 when the reported operator fails it, 0 when qualified.
    (
        "塔机司机资格",
        "op_unqualified",
        "",
        "crane",
        "all",
        0.5,
        None,
        "GB 5144-2006 / 建筑施工特种作业人员管理规定：塔式起重机司机持证上岗",
        True,
    ),
]
# Safety limits act on the first reading; dust and noise wait for a sustained exceedance (3 readings).
IMMEDIATE = {"moment_pct", "load_pct", "a01007", "op_unqualified"}


# 设备离线 (alarms/offline.py): not a limit on a reading but the rule row its alarms point to, named for the
# alarm list, the notices and the evidence log. Its time limits are settings (DEVICE_OFFLINE_INTERVALS,
# DEVICE_OFFLINE_MIN_MINUTES); `warning` keeps the default floor in minutes for readers of the API. Switching
# the rule off (admin) switches the silence watch off. The limit pages do not list it.
OFFLINE_RULE = dict(
    name="设备离线",
    unit="分钟",
    warning=15,
    source="平台规则：监测设备超过规定时长未上报数据（默认为实时数据间隔的 3 倍，且不少于 15 分钟）",
    confirmed=True,
    sustain=1,
    clear_ratio=1.0,
    clear_count=1,
)


def ensure_offline_rule(limit_rule_model) -> None:
    from ..models import OFFLINE_PARAMETER

    limit_rule_model.objects.get_or_create(
        parameter=OFFLINE_PARAMETER, jurisdiction=None, device_kind="", period="all", defaults=OFFLINE_RULE
    )


def ensure_defaults(limit_rule_model) -> None:
    ensure_offline_rule(limit_rule_model)
    for name, parameter, unit, kind, period, warning, critical, source, confirmed in DEFAULTS:
        limit_rule_model.objects.get_or_create(
            parameter=parameter,
            jurisdiction=None,
            device_kind=kind,
            period=period,
            defaults=dict(
                name=name,
                unit=unit,
                warning=warning,
                critical=critical,
                source=source,
                confirmed=confirmed,
                sustain=1 if parameter in IMMEDIATE else 3,
                # Crane limits clear as soon as the value is back under the warning level.
                clear_ratio=1.0 if parameter in IMMEDIATE else 0.9,
                clear_count=1 if parameter in IMMEDIATE else 3,
            ),
        )
