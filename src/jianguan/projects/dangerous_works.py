"""危大工程 requirement matching: which dangerous sub-projects a project's scale parameters trigger, and the
documents that follow (a special construction plan; an expert review of it for the larger scale).

The rules are DATA (RULES), each naming its source item: 建办质〔2018〕31号 附件一 (危大工程) and 附件二
(超过一定规模的危大工程), under 住建部令第37号, as summarised in /work/shared/domain/README.md. Items that
summary does not confirm are not encoded; UNCONFIRMED lists them. Pure Python: no Django import.

Condition form: a rule holds when ANY of its clauses holds; a clause holds when ALL of its comparisons hold.
A comparison is (parameter key, op, value) with op ">=" / ">" (numbers) or "is" (flags, value True).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

MAJOR = "major"  # 危大工程: special construction plan
SUPER = "super"  # 超过一定规模的危大工程: special construction plan and expert review
LEVEL_LABELS = {MAJOR: "危大工程", SUPER: "超过一定规模的危大工程"}

NUMBER = "number"
BOOL = "bool"

# Categories (also the `category` of uploaded documents: keep these strings stable).
PIT = "基坑工程"
FORMWORK = "模板工程及支撑体系"
LIFTING = "起重吊装及起重机械安装拆卸工程"
SCAFFOLD = "脚手架工程"
DEMOLITION = "拆除工程"
UNDERGROUND = "暗挖工程"
CURTAIN_WALL = "建筑幕墙安装工程"
STEEL = "钢结构安装工程"
SPACE_FRAME = "网架和索膜结构安装工程"
MANUAL_PILE = "人工挖孔桩工程"
UNDERWATER = "水下作业工程"
PRECAST = "装配式建筑混凝土预制构件安装工程"
INTEGRAL_LIFT = "整体提升、顶升、平移、转体施工"
NEW_TECHNIQUE = "新技术、新工艺、新材料、新设备"
CATEGORIES = (
    PIT,
    FORMWORK,
    LIFTING,
    SCAFFOLD,
    DEMOLITION,
    UNDERGROUND,
    CURTAIN_WALL,
    STEEL,
    SPACE_FRAME,
    MANUAL_PILE,
    UNDERWATER,
    PRECAST,
    INTEGRAL_LIFT,
    NEW_TECHNIQUE,
)


# --- Parameters -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParameterSpec:
    key: str
    label_zh: str
    label_en: str
    unit: str  # "" for flags
    kind: str  # NUMBER | BOOL
    # Consistency: another parameter that must be set (flag True / number > 0) when this one is.
    requires: str = ""
    # Numbers are non-negative, except where a negative value is real (an elevation below ±0.000).
    allow_negative: bool = False
    group: str = ""  # the category it feeds, for grouping form fields


def _number(
    key: str, zh: str, en: str, unit: str, group: str, requires: str = "", allow_negative: bool = False
) -> ParameterSpec:
    return ParameterSpec(key, zh, en, unit, NUMBER, requires, allow_negative, group)


def _flag(key: str, zh: str, en: str, group: str, requires: str = "") -> ParameterSpec:
    return ParameterSpec(key, zh, en, "", BOOL, requires, False, group)


_CRANE = "installs_lifting_machinery"

PARAMETERS: tuple[ParameterSpec, ...] = (
    _number("excavation_depth_m", "基坑开挖深度", "Excavation depth", "m", PIT),
    _flag(
        "complex_ground_or_surroundings",
        "基坑地质条件或周边环境复杂",
        "Complex ground or surroundings of the pit",
        PIT,
        requires="excavation_depth_m",
    ),
    _number("formwork_height_m", "混凝土模板支撑搭设高度", "Formwork support height", "m", FORMWORK),
    _number("formwork_span_m", "混凝土模板支撑搭设跨度", "Formwork support span", "m", FORMWORK),
    _number(
        "formwork_total_load_kn_m2",
        "模板支撑施工总荷载（设计值）",
        "Formwork total load (design value)",
        "kN/m²",
        FORMWORK,
    ),
    _number(
        "formwork_line_load_kn_m",
        "模板支撑集中线荷载（设计值）",
        "Formwork line load (design value)",
        "kN/m",
        FORMWORK,
    ),
    _flag(
        "tool_formwork",
        "工具式模板（滑模、爬模、飞模、隧道模等）",
        "Tool formwork (slip, climbing, flying, tunnel)",
        FORMWORK,
    ),
    _number(
        "steel_erection_full_support_point_load_kn",
        "钢结构安装等满堂支撑体系单点集中荷载",
        "Point load on full support for steel erection",
        "kN",
        FORMWORK,
    ),
    _number(
        "non_standard_lift_max_kn",
        "非常规起重设备、方法的单件最大起吊重量",
        "Heaviest single lift with non-standard equipment or methods",
        "kN",
        LIFTING,
    ),
    _flag("crane_erection", "采用起重机械进行安装", "Erection by cranes", LIFTING),
    _flag(_CRANE, "起重机械安装和拆卸", "Installing / dismantling lifting machinery", LIFTING),
    _number("crane_capacity_kn", "安拆起重机械的起重量", "Capacity of that machinery", "kN", LIFTING, _CRANE),
    _number("crane_total_height_m", "安拆起重机械的搭设总高度", "Its total height", "m", LIFTING, _CRANE),
    _number(
        "crane_foundation_elevation_m",
        "安拆起重机械的搭设基础标高",
        "Elevation of its foundation",
        "m",
        LIFTING,
        _CRANE,
        allow_negative=True,  # a crane standing in the pit
    ),
    _number(
        "floor_scaffold_height_m",
        "落地式钢管脚手架搭设高度",
        "Floor-standing steel-tube scaffold height",
        "m",
        SCAFFOLD,
    ),
    _flag(
        "attached_lifting_scaffold",
        "附着式升降脚手架（或附着式升降操作平台）",
        "Attached lifting scaffold (or platform)",
        SCAFFOLD,
    ),
    _number(
        "attached_scaffold_lift_height_m",
        "附着式升降脚手架（操作平台）提升高度",
        "Lifting height of the attached scaffold / platform",
        "m",
        SCAFFOLD,
        "attached_lifting_scaffold",
    ),
    _flag("cantilever_scaffold", "悬挑式脚手架", "Cantilever scaffold", SCAFFOLD),
    _number(
        "cantilever_section_height_m",
        "悬挑式脚手架分段架体搭设高度",
        "Section height of the cantilever scaffold",
        "m",
        SCAFFOLD,
        "cantilever_scaffold",
    ),
    _flag("suspended_platform", "高处作业吊篮", "Suspended platform (gondola)", SCAFFOLD),
    _flag("unloading_platform", "卸料平台、操作平台", "Unloading / operating platform", SCAFFOLD),
    _flag("special_shaped_scaffold", "异型脚手架", "Special-shaped scaffold", SCAFFOLD),
    _flag(
        "demolition",
        "可能影响行人、交通、电力设施、通讯设施或其他建（构）筑物安全的拆除",
        "Demolition that may affect pedestrians, traffic, power, communications or other structures",
        DEMOLITION,
    ),
    _flag(
        "demolition_high_risk",
        "拆除码头、桥梁、高架、烟囱、水塔，有毒有害、易燃易爆或粉尘扩散的特殊建（构）筑物，"
        "或文物保护建筑、优秀历史建筑、历史文化风貌区影响范围内的拆除",
        "High-risk demolition (docks, bridges, elevated roads, chimneys, water towers, "
        "toxic / flammable / dust-spreading structures, near protected heritage)",
        DEMOLITION,
    ),
    _flag(
        "underground_excavation",
        "暗挖工程（矿山法、盾构法、顶管法施工的隧道、洞室）",
        "Underground excavation (mining method, shield, pipe jacking)",
        UNDERGROUND,
    ),
    _flag("curtain_wall", "建筑幕墙安装", "Curtain wall installation", CURTAIN_WALL),
    _number(
        "curtain_wall_height_m",
        "建筑幕墙施工高度",
        "Curtain wall height",
        "m",
        CURTAIN_WALL,
        "curtain_wall",
    ),
    _flag("steel_structure", "钢结构安装", "Steel structure erection", STEEL),
    _number("steel_structure_span_m", "钢结构跨度", "Steel structure span", "m", STEEL, "steel_structure"),
    _flag("space_frame_or_membrane", "网架或索膜结构安装", "Space frame or membrane structure", SPACE_FRAME),
    _number(
        "space_frame_span_m",
        "网架或索膜结构跨度",
        "Space frame / membrane span",
        "m",
        SPACE_FRAME,
        "space_frame_or_membrane",
    ),
    _flag("manual_bored_piles", "人工挖孔桩", "Manual bored piles", MANUAL_PILE),
    _number(
        "manual_pile_depth_m",
        "人工挖孔桩开挖深度",
        "Manual bored pile depth",
        "m",
        MANUAL_PILE,
        "manual_bored_piles",
    ),
    _flag("underwater_work", "水下作业", "Underwater work", UNDERWATER),
    _flag("precast_assembly", "装配式建筑混凝土预制构件安装", "Precast concrete assembly", PRECAST),
    _number(
        "integral_lift_slide_rotate_kn",
        "大型结构整体顶升、平移、转体等施工的结构重量",
        "Weight of a structure lifted, slid or rotated as a whole",
        "kN",
        INTEGRAL_LIFT,
    ),
    _flag(
        "new_technique_without_standard",
        "采用可能影响施工安全、尚无国家、行业及地方技术标准的新技术、新工艺、新材料、新设备",
        "New technique, process, material or equipment without a standard",
        NEW_TECHNIQUE,
    ),
)
SPECS: dict[str, ParameterSpec] = {spec.key: spec for spec in PARAMETERS}


# --- Rules ----------------------------------------------------------------------------------------------
class Cmp(NamedTuple):
    """One comparison: params[key] <op> value."""

    key: str
    op: str  # ">=" | ">" (numbers) | "is" (flags)
    value: float | bool


Clause = tuple[Cmp, ...]  # all_of


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    level: str  # MAJOR | SUPER
    any_of: tuple[Clause, ...]
    description: str
    source: str


def at_least(key: str, value: float) -> Cmp:
    return Cmp(key, ">=", value)


def positive(key: str) -> Cmp:
    return Cmp(key, ">", 0)


def flag(key: str) -> Cmp:
    return Cmp(key, "is", True)


def all_of(*comparisons: Cmp) -> Clause:
    return tuple(comparisons)


def _rule(
    rule_id: str,
    category: str,
    level: str,
    source: str,
    description: str,
    *any_of: Cmp | Clause,
) -> Rule:
    # A bare comparison is a one-comparison clause (Cmp is itself a tuple, so test for it first).
    clauses = tuple((c,) if isinstance(c, Cmp) else tuple(c) for c in any_of)
    return Rule(rule_id, category, level, clauses, description, source)


A1 = "建办质〔2018〕31号 附件一"  # 危险性较大的分部分项工程范围
A2 = "建办质〔2018〕31号 附件二"  # 超过一定规模的危险性较大的分部分项工程范围

RULES: tuple[Rule, ...] = (
    # 一、基坑工程
    _rule(
        "excavation.deep.major",
        PIT,
        MAJOR,
        f"{A1} 一（一）",
        "开挖深度3 m及以上的基坑（槽）的土方开挖、支护、降水工程",
        at_least("excavation_depth_m", 3),
    ),
    _rule(
        # Stated as "depth > 0 and complex": with depth ≥ 3 the item above applies anyway, so the union
        # is exactly the table's "≥ 3 m, or under 3 m with complex ground or surroundings".
        "excavation.complex.major",
        PIT,
        MAJOR,
        f"{A1} 一（二）",
        "地质条件或周边环境复杂的基坑（槽）的土方开挖、支护、降水工程（开挖深度不足3 m的亦属之）",
        all_of(positive("excavation_depth_m"), flag("complex_ground_or_surroundings")),
    ),
    _rule(
        "excavation.deep.super",
        PIT,
        SUPER,
        f"{A2} 一",
        "开挖深度5 m及以上的深基坑土方开挖、支护、降水工程",
        at_least("excavation_depth_m", 5),
    ),
    # 二、模板工程及支撑体系
    _rule(
        "formwork.tool.major",
        FORMWORK,
        MAJOR,
        f"{A1} 二（一）",
        "各类工具式模板工程（滑模、爬模、飞模、隧道模等）",
        flag("tool_formwork"),
    ),
    _rule(
        "formwork.support.major",
        FORMWORK,
        MAJOR,
        f"{A1} 二（二）",
        "混凝土模板支撑工程：搭设高度5 m及以上，或搭设跨度10 m及以上，"
        "或施工总荷载（设计值）10 kN/m²及以上，或集中线荷载（设计值）15 kN/m及以上",
        at_least("formwork_height_m", 5),
        at_least("formwork_span_m", 10),
        at_least("formwork_total_load_kn_m2", 10),
        at_least("formwork_line_load_kn_m", 15),
    ),
    _rule(
        "formwork.tool.super",
        FORMWORK,
        SUPER,
        f"{A2} 二（一）",
        "工具式模板工程（滑模、爬模、飞模、隧道模等）",
        flag("tool_formwork"),
    ),
    _rule(
        "formwork.support.super",
        FORMWORK,
        SUPER,
        f"{A2} 二（二）",
        "混凝土模板支撑工程：搭设高度8 m及以上，或搭设跨度18 m及以上，"
        "或施工总荷载（设计值）15 kN/m²及以上，或集中线荷载（设计值）20 kN/m及以上",
        at_least("formwork_height_m", 8),
        at_least("formwork_span_m", 18),
        at_least("formwork_total_load_kn_m2", 15),
        at_least("formwork_line_load_kn_m", 20),
    ),
    _rule(
        "formwork.steel_erection_support.super",
        FORMWORK,
        SUPER,
        f"{A2} 二（三）",
        "承重支撑体系：用于钢结构安装等的满堂支撑体系，承受单点集中荷载7 kN及以上",
        at_least("steel_erection_full_support_point_load_kn", 7),
    ),
    # 三、起重吊装及起重机械安装拆卸工程
    _rule(
        "lifting.non_standard.major",
        LIFTING,
        MAJOR,
        f"{A1} 三（一）",
        "采用非常规起重设备、方法，且单件起吊重量在10 kN及以上的起重吊装工程",
        at_least("non_standard_lift_max_kn", 10),
    ),
    _rule(
        "lifting.crane_erection.major",
        LIFTING,
        MAJOR,
        f"{A1} 三（二）",
        "采用起重机械进行安装的工程",
        flag("crane_erection"),
    ),
    _rule(
        "lifting.machinery.major",
        LIFTING,
        MAJOR,
        f"{A1} 三（三）",
        "起重机械安装和拆卸工程",
        flag(_CRANE),
    ),
    _rule(
        "lifting.non_standard.super",
        LIFTING,
        SUPER,
        f"{A2} 三（一）",
        "采用非常规起重设备、方法，且单件起吊重量在100 kN及以上的起重吊装工程",
        at_least("non_standard_lift_max_kn", 100),
    ),
    _rule(
        "lifting.machinery.super",
        LIFTING,
        SUPER,
        f"{A2} 三（二）",
        "起重量300 kN及以上，或搭设总高度200 m及以上，或搭设基础标高在200 m及以上的起重机械安装和拆卸工程",
        all_of(flag(_CRANE), at_least("crane_capacity_kn", 300)),
        all_of(flag(_CRANE), at_least("crane_total_height_m", 200)),
        all_of(flag(_CRANE), at_least("crane_foundation_elevation_m", 200)),
    ),
    # 四、脚手架工程
    _rule(
        "scaffold.floor.major",
        SCAFFOLD,
        MAJOR,
        f"{A1} 四（一）",
        "搭设高度24 m及以上的落地式钢管脚手架工程",
        at_least("floor_scaffold_height_m", 24),
    ),
    _rule(
        "scaffold.attached.major",
        SCAFFOLD,
        MAJOR,
        f"{A1} 四（二）",
        "附着式升降脚手架工程",
        flag("attached_lifting_scaffold"),
    ),
    _rule(
        "scaffold.cantilever.major",
        SCAFFOLD,
        MAJOR,
        f"{A1} 四（三）",
        "悬挑式脚手架工程",
        flag("cantilever_scaffold"),
    ),
    _rule(
        "scaffold.suspended_platform.major",
        SCAFFOLD,
        MAJOR,
        f"{A1} 四（四）",
        "高处作业吊篮",
        flag("suspended_platform"),
    ),
    _rule(
        "scaffold.unloading_platform.major",
        SCAFFOLD,
        MAJOR,
        f"{A1} 四（五）",
        "卸料平台、操作平台工程",
        flag("unloading_platform"),
    ),
    _rule(
        "scaffold.special_shaped.major",
        SCAFFOLD,
        MAJOR,
        f"{A1} 四（六）",
        "异型脚手架工程",
        flag("special_shaped_scaffold"),
    ),
    _rule(
        "scaffold.floor.super",
        SCAFFOLD,
        SUPER,
        f"{A2} 四（一）",
        "搭设高度50 m及以上的落地式钢管脚手架工程",
        at_least("floor_scaffold_height_m", 50),
    ),
    _rule(
        "scaffold.attached.super",
        SCAFFOLD,
        SUPER,
        f"{A2} 四（二）",
        "提升高度在150 m及以上的附着式升降脚手架工程或附着式升降操作平台工程",
        all_of(flag("attached_lifting_scaffold"), at_least("attached_scaffold_lift_height_m", 150)),
    ),
    _rule(
        "scaffold.cantilever.super",
        SCAFFOLD,
        SUPER,
        f"{A2} 四（三）",
        "分段架体搭设高度20 m及以上的悬挑式脚手架工程",
        all_of(flag("cantilever_scaffold"), at_least("cantilever_section_height_m", 20)),
    ),
    # 五、拆除工程
    _rule(
        "demolition.major",
        DEMOLITION,
        MAJOR,
        f"{A1} 五",
        "可能影响行人、交通、电力设施、通讯设施或其他建（构）筑物安全的拆除工程",
        flag("demolition"),
    ),
    _rule(
        "demolition.high_risk.super",
        DEMOLITION,
        SUPER,
        f"{A2} 五",
        "码头、桥梁、高架、烟囱、水塔，或拆除中易引起有毒有害气（液）体、粉尘扩散"
        "或易燃易爆事故的特殊建（构）筑物的"
        "拆除工程；文物保护建筑、优秀历史建筑或历史文化风貌区影响范围内的拆除工程",
        flag("demolition_high_risk"),
    ),
    # 六、暗挖工程
    _rule(
        "underground.major",
        UNDERGROUND,
        MAJOR,
        f"{A1} 六",
        "采用矿山法、盾构法、顶管法施工的隧道、洞室工程",
        flag("underground_excavation"),
    ),
    _rule(
        "underground.super",
        UNDERGROUND,
        SUPER,
        f"{A2} 六",
        "采用矿山法、盾构法、顶管法施工的隧道、洞室工程",
        flag("underground_excavation"),
    ),
    # 七、其它
    _rule(
        "curtain_wall.major",
        CURTAIN_WALL,
        MAJOR,
        f"{A1} 七（一）",
        "建筑幕墙安装工程",
        flag("curtain_wall"),
    ),
    _rule(
        "curtain_wall.super",
        CURTAIN_WALL,
        SUPER,
        f"{A2} 七（一）",
        "施工高度50 m及以上的建筑幕墙安装工程",
        all_of(flag("curtain_wall"), at_least("curtain_wall_height_m", 50)),
    ),
    _rule(
        "steel_structure.major",
        STEEL,
        MAJOR,
        f"{A1} 七（二）",
        "钢结构安装工程",
        flag("steel_structure"),
    ),
    _rule(
        "steel_structure.super",
        STEEL,
        SUPER,
        f"{A2} 七（二）",
        "跨度36 m及以上的钢结构安装工程",
        all_of(flag("steel_structure"), at_least("steel_structure_span_m", 36)),
    ),
    _rule(
        "space_frame.major",
        SPACE_FRAME,
        MAJOR,
        f"{A1} 七（二）",
        "网架和索膜结构安装工程",
        flag("space_frame_or_membrane"),
    ),
    _rule(
        "space_frame.super",
        SPACE_FRAME,
        SUPER,
        f"{A2} 七（二）",
        "跨度60 m及以上的网架和索膜结构安装工程",
        all_of(flag("space_frame_or_membrane"), at_least("space_frame_span_m", 60)),
    ),
    _rule(
        "manual_pile.major",
        MANUAL_PILE,
        MAJOR,
        f"{A1} 七（三）",
        "人工挖孔桩工程",
        flag("manual_bored_piles"),
    ),
    _rule(
        "manual_pile.super",
        MANUAL_PILE,
        SUPER,
        f"{A2} 七（三）",
        "开挖深度16 m及以上的人工挖孔桩工程",
        all_of(flag("manual_bored_piles"), at_least("manual_pile_depth_m", 16)),
    ),
    _rule(
        "underwater.major",
        UNDERWATER,
        MAJOR,
        f"{A1} 七（四）",
        "水下作业工程",
        flag("underwater_work"),
    ),
    _rule(
        "underwater.super",
        UNDERWATER,
        SUPER,
        f"{A2} 七（四）",
        "水下作业工程",
        flag("underwater_work"),
    ),
    _rule(
        "precast.major",
        PRECAST,
        MAJOR,
        f"{A1} 七（五）",
        "装配式建筑混凝土预制构件安装工程",
        flag("precast_assembly"),
    ),
    _rule(
        "integral_lift.super",
        INTEGRAL_LIFT,
        SUPER,
        f"{A2} 七（五）",
        "重量1000 kN及以上的大型结构整体顶升、平移、转体等施工工艺",
        at_least("integral_lift_slide_rotate_kn", 1000),
    ),
    _rule(
        "new_technique.major",
        NEW_TECHNIQUE,
        MAJOR,
        f"{A1} 七（六）",
        "采用新技术、新工艺、新材料、新设备可能影响工程施工安全，尚无国家、行业及地方技术标准的分部分项工程",
        flag("new_technique_without_standard"),
    ),
    _rule(
        "new_technique.super",
        NEW_TECHNIQUE,
        SUPER,
        f"{A2} 七（六）",
        "采用新技术、新工艺、新材料、新设备可能影响工程施工安全，尚无国家、行业及地方技术标准的分部分项工程",
        flag("new_technique_without_standard"),
    ),
)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}

# Items of 建办质〔2018〕31号 that the domain summary does not confirm, hence not encoded. Shown so the UI and
# docs can say what the platform does NOT check.
UNCONFIRMED: tuple[str, ...] = (
    "附件一 二（二）：高度大于支撑水平投影宽度且相对独立无联系构件的混凝土模板支撑工程（危大工程）",
    "附件一 二（三）：用于钢结构安装等的满堂支撑体系，单点集中荷载不足7 kN时（危大工程）",
    "大型结构整体顶升、平移、转体，重量不足1000 kN时（危大工程门槛未列明）",
    "装配式建筑混凝土预制构件安装工程的超过一定规模标准（未列明）",
)

# 住建部令第37号: 第十条 (compile the plan), 第十一条 (approval by the contractor's technical head and the
# chief supervising engineer), 第十二条 (expert review for 超过一定规模的危大工程).
SPECIAL_PLAN = "special_plan"
EXPERT_REVIEW = "expert_review"
SPECIAL_PLAN_SOURCE = "住建部令第37号 第十条、第十一条"
EXPERT_REVIEW_SOURCE = "住建部令第37号 第十二条"
SPECIAL_PLAN_TEXT = (
    "{category}属于危大工程：施工前须由施工单位组织编制专项施工方案，"
    "经施工单位技术负责人审核签字、总监理工程师审查签字后方可实施"
)
EXPERT_REVIEW_TEXT = "{category}属于超过一定规模的危大工程：专项施工方案须由施工单位组织召开专家论证会论证"
IMPLIED_SOURCE = "住建部令第37号（超过一定规模的危大工程属于危大工程）"


# --- Matching -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Match:
    rule_id: str
    category: str
    level: str
    description: str
    source: str
    triggered_by: list[str] = field(default_factory=list)  # human-readable reasons, one per clause that held


@dataclass(frozen=True)
class Obligation:
    document_kind: str  # SPECIAL_PLAN | EXPERT_REVIEW
    category: str
    rule_ids: tuple[str, ...]
    source: str
    description_zh: str


def _as_number(value: object) -> float | None:
    """A finite number, or None (bool is not a number here, though Python says it is an int)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        number = float(value)
    except (OverflowError, ValueError):  # an int too large for a float; a signalling Decimal NaN
        return None
    return number if math.isfinite(number) else None


def _fmt(number: float) -> str:
    return format(number, ".12g")  # 6.0 -> "6", 2.99 -> "2.99"


def _reason(params: Mapping[str, object], cmp: Cmp) -> str | None:
    """A human-readable reason when the comparison holds, else None."""
    spec = SPECS[cmp.key]
    value = params.get(cmp.key)
    if cmp.op == "is":
        return spec.label_zh if value is cmp.value else None
    number = _as_number(value)
    if number is None:
        return None
    unit = f" {spec.unit}" if spec.unit else ""
    threshold = float(cmp.value)
    if cmp.op == ">=" and number >= threshold:
        return f"{spec.label_zh} {_fmt(number)}{unit} ≥ {_fmt(threshold)}{unit}"
    if cmp.op == ">" and number > threshold:
        return f"{spec.label_zh} {_fmt(number)}{unit}"
    return None


def _rule_reasons(params: Mapping[str, object], rule: Rule) -> list[str]:
    reasons = []
    for clause in rule.any_of:
        held = [_reason(params, cmp) for cmp in clause]
        if all(held):
            reasons.append("，且".join(r for r in held if r))
    return reasons


def match(params: Mapping[str, object]) -> list[Match]:
    """Every rule the parameters trigger, grouped by category (in CATEGORIES order), majors first.

    A 超过一定规模的危大工程 is a 危大工程 too: a category with a super match but no major one gets an
    implied major match (rule_id "<category prefix>.implied.major"), so both levels are always reported.
    Tolerates unvalidated input: values of the wrong type simply do not trigger anything.
    """
    if not isinstance(params, Mapping):
        return []
    by_category: dict[str, list[Match]] = {}
    for rule in RULES:
        reasons = _rule_reasons(params, rule)
        if reasons:
            m = Match(rule.id, rule.category, rule.level, rule.description, rule.source, reasons)
            by_category.setdefault(rule.category, []).append(m)
    result: list[Match] = []
    for category in CATEGORIES:
        found = by_category.get(category, [])
        majors = [m for m in found if m.level == MAJOR]
        supers = [m for m in found if m.level == SUPER]
        if supers and not majors:
            majors = [
                Match(
                    f"{supers[0].rule_id.split('.')[0]}.implied.major",
                    category,
                    MAJOR,
                    f"{category}达到超过一定规模的危大工程标准，当然属于危大工程",
                    IMPLIED_SOURCE,
                    [reason for m in supers for reason in m.triggered_by],
                )
            ]
        result += majors + supers
    return result


def highest_per_category(matches: Iterable[Match]) -> list[Match]:
    """One match per category, the highest level (超过一定规模 over 危大工程), its reasons those of every rule
    of that level in the category; in the order of `matches` (CATEGORIES order from match())."""
    by_category: dict[str, list[Match]] = {}
    for m in matches:
        by_category.setdefault(m.category, []).append(m)
    result: list[Match] = []
    for category, found in by_category.items():
        level = SUPER if any(m.level == SUPER for m in found) else MAJOR
        top = [m for m in found if m.level == level]
        result.append(
            Match(
                top[0].rule_id,
                category,
                level,
                "；".join(dict.fromkeys(m.description for m in top)),
                "；".join(dict.fromkeys(m.source for m in top)),
                list(dict.fromkeys(reason for m in top for reason in m.triggered_by)),
            )
        )
    return result


def obligations(matches: Iterable[Match]) -> list[Obligation]:
    """Per category: a special construction plan for any 危大工程; an expert review for the larger scale.

    Ordered as the matches are; the special plan first within a category.
    """
    by_category: dict[str, list[Match]] = {}
    for m in matches:
        by_category.setdefault(m.category, []).append(m)
    result: list[Obligation] = []
    for category, found in by_category.items():
        ids = tuple(m.rule_id for m in found)
        text = SPECIAL_PLAN_TEXT.format(category=category)
        result.append(Obligation(SPECIAL_PLAN, category, ids, SPECIAL_PLAN_SOURCE, text))
        supers = tuple(m.rule_id for m in found if m.level == SUPER)
        if supers:
            text = EXPERT_REVIEW_TEXT.format(category=category)
            result.append(Obligation(EXPERT_REVIEW, category, supers, EXPERT_REVIEW_SOURCE, text))
    return result


# --- Validation -----------------------------------------------------------------------------------------
def _is_set(spec: ParameterSpec, clean: Mapping[str, object]) -> bool:
    value = clean.get(spec.key)
    if spec.kind == BOOL:
        return value is True
    return isinstance(value, float) and value != 0


def validate_params(params: Mapping[str, object]) -> tuple[dict[str, object], dict[str, str]]:
    """Check types, ranges and consistency. Returns (clean parameters, error messages in Chinese by key).

    Clean: numbers as float, flags only when True (False and None mean "not given" and are dropped).
    A key with an error is left out of clean.
    """
    if not isinstance(params, Mapping):
        return {}, {"__all__": "规模参数须为键值对象"}
    clean: dict[str, object] = {}
    errors: dict[str, str] = {}
    for key, value in params.items():
        spec = SPECS.get(key) if isinstance(key, str) else None
        if spec is None:
            errors[str(key)] = f"未知参数：{key}"
        elif value is None:
            continue
        elif spec.kind == BOOL:
            if not isinstance(value, bool):
                errors[key] = f"{spec.label_zh}须为是/否"
            elif value:
                clean[key] = True
        elif (number := _as_number(value)) is None:
            errors[key] = f"{spec.label_zh}须为数字"
        elif number < 0 and not spec.allow_negative:
            errors[key] = f"{spec.label_zh}不能为负数"
        else:
            clean[key] = number
    for spec in PARAMETERS:
        if not spec.requires or not _is_set(spec, clean) or spec.requires in errors:
            continue
        other = SPECS[spec.requires]
        if _is_set(other, clean):
            continue
        if other.kind == BOOL:
            errors[spec.key] = f"填写了{spec.label_zh}，但未勾选“{other.label_zh}”"
        else:
            errors[spec.key] = f"勾选了“{spec.label_zh}”，但未填写{other.label_zh}"
        del clean[spec.key]
    return clean, errors
