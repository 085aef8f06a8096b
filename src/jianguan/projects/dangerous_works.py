"""危大工程 requirement matching: which dangerous sub-projects a project's scale parameters trigger, and the
obligations that follow (special construction plan; expert review for the larger scale).

Rules are DATA, each naming its source: 住建部令第37号 and 建办质〔2018〕31号 附件一 (危大工程) / 附件二
(超过一定规模的危大工程), as summarised in ../shared/domain/README.md. Thresholds not in that summary are
left out (see UNCONFIRMED). Pure Python: no Django import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

MAJOR = "major"  # 危大工程
SUPER = "super"  # 超过一定规模的危大工程
LEVEL_LABELS = {MAJOR: "危大工程", SUPER: "超过一定规模的危大工程"}


@dataclass(frozen=True)
class ParameterSpec:
    key: str
    label_zh: str
    label_en: str
    unit: str
    kind: str  # "number" | "bool"


def _n(key, zh, en, unit):
    return ParameterSpec(key, zh, en, unit, "number")


def _b(key, zh, en):
    return ParameterSpec(key, zh, en, "", "bool")


PARAMETERS: tuple[ParameterSpec, ...] = (
    _n("excavation_depth_m", "基坑开挖深度", "Excavation depth", "m"),
    _b("complex_ground_or_surroundings", "地质条件或周边环境复杂", "Complex ground or surroundings"),
    _n("formwork_height_m", "模板支撑搭设高度", "Formwork support height", "m"),
    _n("formwork_span_m", "模板支撑搭设跨度", "Formwork support span", "m"),
    _n("formwork_total_load_kn_m2", "模板施工总荷载", "Formwork total load", "kN/m²"),
    _n("formwork_line_load_kn_m", "模板集中线荷载", "Formwork line load", "kN/m"),
    _b("tool_formwork", "工具式模板（滑模、爬模、飞模、隧道模）", "Tool formwork (slip, climbing, flying, tunnel)"),
    _n(
        "steel_erection_full_support_point_load_kn",
        "钢结构安装满堂支撑单点集中荷载",
        "Steel-erection support point load",
        "kN",
    ),
    _n("non_standard_lift_max_kn", "非常规起重吊装单件最大起吊重量", "Heaviest non-standard single lift", "kN"),
    _b("crane_erection", "采用起重机械进行安装", "Erection by cranes"),
    _b("installs_lifting_machinery", "起重机械安装和拆卸", "Installs / dismantles lifting machinery"),
    _n("crane_capacity_kn", "起重机械起重量", "Crane lifting capacity", "kN"),
    _n("crane_total_height_m", "起重机械搭设总高度", "Crane total height", "m"),
    _n("crane_foundation_elevation_m", "起重机械基础标高", "Crane foundation elevation", "m"),
    _n("floor_scaffold_height_m", "落地式钢管脚手架搭设高度", "Floor-standing scaffold height", "m"),
    _b("attached_lifting_scaffold", "附着式升降脚手架", "Attached lifting scaffold"),
    _n("attached_scaffold_lift_height_m", "附着式升降脚手架提升高度", "Attached scaffold lifting height", "m"),
    _b("cantilever_scaffold", "悬挑式脚手架", "Cantilever scaffold"),
    _n("cantilever_section_height_m", "分段架体搭设高度（悬挑）", "Cantilever section height", "m"),
    _b("suspended_platform", "高处作业吊篮", "Suspended platform (吊篮)"),
    _b("unloading_platform", "卸料平台、操作平台", "Unloading / operating platform"),
    _b("special_shaped_scaffold", "异型脚手架", "Special-shaped scaffold"),
    _b("demolition", "拆除工程（可能影响行人、交通、电力、通信或其他建构筑物）", "Demolition affecting surroundings"),
    _b(
        "demolition_high_risk",
        "拆除码头、桥梁、高架、烟囱、水塔或有毒有害易燃易爆建筑，或临近文物",
        "High-risk demolition (docks, bridges, chimneys, toxic structures, heritage)",
    ),
    _b(
        "underground_excavation",
        "暗挖工程（矿山法、盾构法、顶管法）",
        "Underground excavation (mining, shield, pipe jacking)",
    ),
    _b("curtain_wall", "建筑幕墙安装", "Curtain wall installation"),
    _n("curtain_wall_height_m", "建筑幕墙高度", "Curtain wall height", "m"),
    _b("steel_structure", "钢结构安装", "Steel structure installation"),
    _n("steel_structure_span_m", "钢结构跨度", "Steel structure span", "m"),
    _b("space_frame_or_membrane", "网架或索膜结构安装", "Space frame or membrane structure"),
    _n("space_frame_span_m", "网架或索膜结构跨度", "Space frame / membrane span", "m"),
    _b("manual_bored_piles", "人工挖孔桩", "Manual bored piles"),
    _n("manual_pile_depth_m", "人工挖孔桩开挖深度", "Manual bored pile depth", "m"),
    _b("underwater_work", "水下作业", "Underwater work"),
    _b("precast_assembly", "装配式建筑混凝土预制构件安装", "Precast concrete assembly"),
    _n(
        "integral_lift_slide_rotate_kn",
        "整体提升、顶升、平移、转体等施工荷载",
        "Integral lift / slide / rotation load",
        "kN",
    ),
    _b(
        "new_technique_without_standard",
        "采用无国家、行业及地方技术标准的新技术、新工艺、新材料、新设备",
        "New technique without standard",
    ),
)
SPECS = {spec.key: spec for spec in PARAMETERS}

# A number parameter that only makes sense when its flag is set (consistency check).
REQUIRES_FLAG = {
    "attached_scaffold_lift_height_m": "attached_lifting_scaffold",
    "cantilever_section_height_m": "cantilever_scaffold",
    "curtain_wall_height_m": "curtain_wall",
    "steel_structure_span_m": "steel_structure",
    "space_frame_span_m": "space_frame_or_membrane",
    "manual_pile_depth_m": "manual_bored_piles",
    "crane_capacity_kn": "installs_lifting_machinery",
    "crane_total_height_m": "installs_lifting_machinery",
    "crane_foundation_elevation_m": "installs_lifting_machinery",
}

# A condition is any_of clauses; a clause is all_of comparisons (key, op, value); op in >=, >, is.
Comparison = tuple[str, str, object]


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    level: str
    any_of: tuple[tuple[Comparison, ...], ...]
    description: str
    source: str


A1 = "建办质〔2018〕31号 附件一"
A2 = "建办质〔2018〕31号 附件二"


def _rule(rule_id, category, level, description, source, *clauses):
    return Rule(rule_id, category, level, tuple(tuple(c) for c in clauses), description, source)


def _c(key, op, value):
    return ((key, op, value),)


RULES: tuple[Rule, ...] = (
    # 一、基坑工程
    _rule("pit.major", "基坑工程", MAJOR, "开挖深度3 m及以上，或不足3 m但地质条件、周边环境复杂的基坑土方开挖、支护、降水工程",
          f"{A1} 一", _c("excavation_depth_m", ">=", 3),
          (("excavation_depth_m", ">", 0), ("complex_ground_or_surroundings", "is", True))),
    _rule("pit.super", "基坑工程", SUPER, "开挖深度5 m及以上的基坑土方开挖、支护、降水工程", f"{A2} 一",
          _c("excavation_depth_m", ">=", 5)),
    # 二、模板工程及支撑体系
    _rule("formwork.major", "模板工程及支撑体系", MAJOR,
          "搭设高度5 m及以上，或跨度10 m及以上，或施工总荷载10 kN/m²及以上，或集中线荷载15 kN/m及以上的混凝土模板支撑工程；各类工具式模板工程",
          f"{A1} 二", _c("formwork_height_m", ">=", 5), _c("formwork_span_m", ">=", 10),
          _c("formwork_total_load_kn_m2", ">=", 10), _c("formwork_line_load_kn_m", ">=", 15),
          _c("tool_formwork", "is", True)),
    _rule("formwork.super", "模板工程及支撑体系", SUPER,
          "搭设高度8 m及以上，或跨度18 m及以上，或施工总荷载15 kN/m²及以上，或集中线荷载20 kN/m及以上的混凝土模板支撑工程；工具式模板工程；承受单点集中荷载7 kN及以上的满堂支撑体系",
          f"{A2} 二", _c("formwork_height_m", ">=", 8), _c("formwork_span_m", ">=", 18),
          _c("formwork_total_load_kn_m2", ">=", 15), _c("formwork_line_load_kn_m", ">=", 20),
          _c("tool_formwork", "is", True), _c("steel_erection_full_support_point_load_kn", ">=", 7)),
    # 三、起重吊装及起重机械安装拆卸工程
    _rule("lifting.major", "起重吊装及起重机械安装拆卸工程", MAJOR,
          "采用非常规起重设备、方法，且单件起吊重量在10 kN及以上的起重吊装工程；采用起重机械进行安装的工程；起重机械安装和拆卸工程",
          f"{A1} 三", _c("non_standard_lift_max_kn", ">=", 10), _c("crane_erection", "is", True),
          _c("installs_lifting_machinery", "is", True)),
    _rule("lifting.super", "起重吊装及起重机械安装拆卸工程", SUPER,
          "采用非常规起重设备、方法，且单件起吊重量在100 kN及以上的起重吊装工程；起重量300 kN及以上，或搭设总高度200 m及以上，或搭设基础标高在200 m及以上的起重机械安装和拆卸工程",
          f"{A2} 三", _c("non_standard_lift_max_kn", ">=", 100),
          (("installs_lifting_machinery", "is", True), ("crane_capacity_kn", ">=", 300)),
          (("installs_lifting_machinery", "is", True), ("crane_total_height_m", ">=", 200)),
          (("installs_lifting_machinery", "is", True), ("crane_foundation_elevation_m", ">=", 200))),
    # 四、脚手架工程
    _rule("scaffold.major", "脚手架工程", MAJOR,
          "搭设高度24 m及以上的落地式钢管脚手架；附着式升降脚手架；悬挑式脚手架；高处作业吊篮；卸料平台、操作平台；异型脚手架",
          f"{A1} 四", _c("floor_scaffold_height_m", ">=", 24), _c("attached_lifting_scaffold", "is", True),
          _c("cantilever_scaffold", "is", True), _c("suspended_platform", "is", True),
          _c("unloading_platform", "is", True), _c("special_shaped_scaffold", "is", True)),
    _rule("scaffold.super", "脚手架工程", SUPER,
          "搭设高度50 m及以上的落地式钢管脚手架；提升高度150 m及以上的附着式升降脚手架或附着式升降操作平台；分段架体搭设高度20 m及以上的悬挑式脚手架",
          f"{A2} 四", _c("floor_scaffold_height_m", ">=", 50),
          (("attached_lifting_scaffold", "is", True), ("attached_scaffold_lift_height_m", ">=", 150)),
          (("cantilever_scaffold", "is", True), ("cantilever_section_height_m", ">=", 20))),
    # 五、拆除工程
    _rule("demolition.major", "拆除工程", MAJOR, "可能影响行人、交通、电力设施、通讯设施或其他建构筑物安全的拆除工程",
          f"{A1} 五", _c("demolition", "is", True), _c("demolition_high_risk", "is", True)),
    _rule("demolition.super", "拆除工程", SUPER,
          "码头、桥梁、高架、烟囱、水塔或拆除中容易引起有毒有害气（液）体或粉尘扩散、易燃易爆事故发生的特殊建构筑物的拆除工程；文物保护建筑等周边的拆除工程",
          f"{A2} 五", _c("demolition_high_risk", "is", True)),
    # 六、暗挖工程
    _rule("tunnel.major", "暗挖工程", MAJOR, "采用矿山法、盾构法、顶管法施工的隧道、洞室工程", f"{A1} 六",
          _c("underground_excavation", "is", True)),
    _rule("tunnel.super", "暗挖工程", SUPER, "采用矿山法、盾构法、顶管法施工的隧道、洞室工程", f"{A2} 六",
          _c("underground_excavation", "is", True)),
    # 七、其他
    _rule("curtain_wall.major", "建筑幕墙安装工程", MAJOR, "建筑幕墙安装工程", f"{A1} 七",
          _c("curtain_wall", "is", True)),
    _rule("curtain_wall.super", "建筑幕墙安装工程", SUPER, "施工高度50 m及以上的建筑幕墙安装工程", f"{A2} 七",
          (("curtain_wall", "is", True), ("curtain_wall_height_m", ">=", 50))),
    _rule("steel.major", "钢结构安装工程", MAJOR, "钢结构安装工程", f"{A1} 七", _c("steel_structure", "is", True)),
    _rule("steel.super", "钢结构安装工程", SUPER, "跨度36 m及以上的钢结构安装工程", f"{A2} 七",
          (("steel_structure", "is", True), ("steel_structure_span_m", ">=", 36))),
    _rule("space_frame.major", "网架和索膜结构安装工程", MAJOR, "网架和索膜结构安装工程", f"{A1} 七",
          _c("space_frame_or_membrane", "is", True)),
    _rule("space_frame.super", "网架和索膜结构安装工程", SUPER, "跨度60 m及以上的网架和索膜结构安装工程", f"{A2} 七",
          (("space_frame_or_membrane", "is", True), ("space_frame_span_m", ">=", 60))),
    _rule("manual_pile.major", "人工挖孔桩工程", MAJOR, "人工挖孔桩工程", f"{A1} 七", _c("manual_bored_piles", "is", True)),
    _rule("manual_pile.super", "人工挖孔桩工程", SUPER, "开挖深度16 m及以上的人工挖孔桩工程", f"{A2} 七",
          (("manual_bored_piles", "is", True), ("manual_pile_depth_m", ">=", 16))),
    _rule("underwater.major", "水下作业工程", MAJOR, "水下作业工程", f"{A1} 七", _c("underwater_work", "is", True)),
    _rule("underwater.super", "水下作业工程", SUPER, "水下作业工程", f"{A2} 七", _c("underwater_work", "is", True)),
    _rule("precast.major", "装配式建筑混凝土预制构件安装工程", MAJOR, "装配式建筑混凝土预制构件安装工程", f"{A1} 七",
          _c("precast_assembly", "is", True)),
    _rule("integral_lift.super", "整体提升、顶升、平移、转体施工", SUPER,
          "重量1000 kN及以上的大型结构整体顶升、平移、转体等施工工艺", f"{A2} 七",
          _c("integral_lift_slide_rotate_kn", ">=", 1000)),
    _rule("new_technique.major", "新技术、新工艺、新材料、新设备", MAJOR,
          "采用新技术、新工艺、新材料、新设备可能影响工程施工安全，尚无国家、行业及地方技术标准的分部分项工程", f"{A1} 七",
          _c("new_technique_without_standard", "is", True)),
    _rule("new_technique.super", "新技术、新工艺、新材料、新设备", SUPER,
          "采用新技术、新工艺、新材料、新设备可能影响工程施工安全，尚无国家、行业及地方技术标准的分部分项工程", f"{A2} 七",
          _c("new_technique_without_standard", "is", True)),
)  # fmt: skip

# Rows of 31号 not in ../shared/domain's summary, hence not encoded (listed so the UI/docs can say so).
UNCONFIRMED = (
    "附件一 二：用于钢结构安装等满堂支撑体系（无荷载门槛）",
    "附件一 七：其他（整体顶升、平移、转体的危大工程门槛）",
)


@dataclass(frozen=True)
class Match:
    rule_id: str
    category: str
    level: str
    description: str
    source: str
    triggered_by: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Obligation:
    document_kind: str  # "special_plan" | "expert_review"
    category: str
    rule_ids: tuple[str, ...]
    source: str
    description_zh: str


def _fmt(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _holds(params: Mapping[str, object], comparison: Comparison) -> str | None:
    """A human-readable reason when the comparison holds, else None."""
    key, op, threshold = comparison
    value = params.get(key)
    spec = SPECS[key]
    if op == "is":
        return spec.label_zh if value is threshold else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    unit = f" {spec.unit}" if spec.unit else ""
    if op == ">=" and value >= threshold:
        return f"{spec.label_zh} {_fmt(value)}{unit} ≥ {_fmt(threshold)}{unit}"
    if op == ">" and value > threshold:
        return f"{spec.label_zh} {_fmt(value)}{unit}"
    return None


def match(params: Mapping[str, object]) -> list[Match]:
    """Every rule the parameters trigger. A super-scale item of a category without its own major match
    gets an implied major match (超过一定规模的危大工程 is a 危大工程 too)."""
    found: list[Match] = []
    for rule in RULES:
        reasons: list[str] = []
        for clause in rule.any_of:
            held = [_holds(params, c) for c in clause]
            if all(held):
                reasons.append("且".join(h for h in held if h))
        if reasons:
            found.append(Match(rule.id, rule.category, rule.level, rule.description, rule.source, reasons))
    majors = {m.category for m in found if m.level == MAJOR}
    for m in [m for m in found if m.level == SUPER and m.category not in majors]:
        found.append(
            Match(f"{m.rule_id}.implied", m.category, MAJOR, f"{m.category}（超过一定规模，当然属于危大工程）",
                  "住建部令第37号", list(m.triggered_by))
        )  # fmt: skip
        majors.add(m.category)
    order = {r.id: i for i, r in enumerate(RULES)}
    return sorted(found, key=lambda m: (order.get(m.rule_id.removesuffix(".implied"), 0), m.level != MAJOR))


def obligations(matches: list[Match]) -> list[Obligation]:
    """Per category: a special construction plan for any 危大工程; an expert review for the larger scale."""
    result: list[Obligation] = []
    categories: dict[str, list[Match]] = {}
    for m in matches:
        categories.setdefault(m.category, []).append(m)
    for category, items in categories.items():
        ids = tuple(m.rule_id for m in items)
        result.append(
            Obligation("special_plan", category, ids, "住建部令第37号 第十条",
                       f"{category}属于危大工程，须编制专项施工方案并经施工单位技术负责人、总监理工程师审核签字")
        )  # fmt: skip
        supers = [m for m in items if m.level == SUPER]
        if supers:
            result.append(
                Obligation("expert_review", category, tuple(m.rule_id for m in supers), "住建部令第37号 第十二条",
                           f"{category}超过一定规模，专项施工方案须组织专家论证")
            )  # fmt: skip
    return result


def validate_params(params: Mapping[str, object]) -> tuple[dict[str, object], dict[str, str]]:
    """Types, ranges and consistency. Returns (clean parameters, errors by key, in Chinese)."""
    clean: dict[str, object] = {}
    errors: dict[str, str] = {}
    if not isinstance(params, Mapping):
        return {}, {"__all__": "规模参数须为键值对象"}
    for key, value in params.items():
        spec = SPECS.get(key)
        if spec is None:
            errors[str(key)] = f"未知参数：{key}"
            continue
        if value is None:
            continue
        if spec.kind == "bool":
            if not isinstance(value, bool):
                errors[key] = f"{spec.label_zh}须为是/否"
            elif value:
                clean[key] = True
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            errors[key] = f"{spec.label_zh}须为数字"
        elif value < 0:
            errors[key] = f"{spec.label_zh}不能为负数"
        elif value > 100_000:
            errors[key] = f"{spec.label_zh}数值过大，请核对单位（{spec.unit}）"
        else:
            clean[key] = float(value)
    for number_key, flag in REQUIRES_FLAG.items():
        if clean.get(number_key) and not clean.get(flag):
            errors[number_key] = f"填写了{SPECS[number_key].label_zh}，但未勾选“{SPECS[flag].label_zh}”"
    return clean, errors
