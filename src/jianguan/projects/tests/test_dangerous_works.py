"""危大工程 rules: every threshold at and just below, flags, super ⇒ major, obligations, validation.

The expected numbers below are written out from /work/shared/domain/README.md, independently of RULES,
so a wrong number in the rule data fails here.
"""

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jianguan.projects import dangerous_works as dw
from jianguan.projects.dangerous_works import (
    CURTAIN_WALL,
    DEMOLITION,
    FORMWORK,
    INTEGRAL_LIFT,
    LIFTING,
    MAJOR,
    MANUAL_PILE,
    NEW_TECHNIQUE,
    PIT,
    PRECAST,
    SCAFFOLD,
    SPACE_FRAME,
    STEEL,
    SUPER,
    UNDERGROUND,
    UNDERWATER,
)


def levels(params):
    return {(m.category, m.level) for m in dw.match(params)}


def rule_ids(params):
    return {m.rule_id for m in dw.match(params)}


def below(threshold):
    """The largest float under the threshold: "just below" in the strictest sense."""
    return math.nextafter(threshold, 0)


CRANE = {"installs_lifting_machinery": True}

# (rule id, parameter, threshold, other parameters the clause needs, category, level): every "≥" in the table.
THRESHOLDS = [
    ("excavation.deep.major", "excavation_depth_m", 3, {}, PIT, MAJOR),
    ("excavation.deep.super", "excavation_depth_m", 5, {}, PIT, SUPER),
    ("formwork.support.major", "formwork_height_m", 5, {}, FORMWORK, MAJOR),
    ("formwork.support.major", "formwork_span_m", 10, {}, FORMWORK, MAJOR),
    ("formwork.support.major", "formwork_total_load_kn_m2", 10, {}, FORMWORK, MAJOR),
    ("formwork.support.major", "formwork_line_load_kn_m", 15, {}, FORMWORK, MAJOR),
    ("formwork.support.super", "formwork_height_m", 8, {}, FORMWORK, SUPER),
    ("formwork.support.super", "formwork_span_m", 18, {}, FORMWORK, SUPER),
    ("formwork.support.super", "formwork_total_load_kn_m2", 15, {}, FORMWORK, SUPER),
    ("formwork.support.super", "formwork_line_load_kn_m", 20, {}, FORMWORK, SUPER),
    (
        "formwork.steel_erection_support.super",
        "steel_erection_full_support_point_load_kn",
        7,
        {},
        FORMWORK,
        SUPER,
    ),
    ("lifting.non_standard.major", "non_standard_lift_max_kn", 10, {}, LIFTING, MAJOR),
    ("lifting.non_standard.super", "non_standard_lift_max_kn", 100, {}, LIFTING, SUPER),
    ("lifting.machinery.super", "crane_capacity_kn", 300, CRANE, LIFTING, SUPER),
    ("lifting.machinery.super", "crane_total_height_m", 200, CRANE, LIFTING, SUPER),
    ("lifting.machinery.super", "crane_foundation_elevation_m", 200, CRANE, LIFTING, SUPER),
    ("scaffold.floor.major", "floor_scaffold_height_m", 24, {}, SCAFFOLD, MAJOR),
    ("scaffold.floor.super", "floor_scaffold_height_m", 50, {}, SCAFFOLD, SUPER),
    (
        "scaffold.attached.super",
        "attached_scaffold_lift_height_m",
        150,
        {"attached_lifting_scaffold": True},
        SCAFFOLD,
        SUPER,
    ),
    (
        "scaffold.cantilever.super",
        "cantilever_section_height_m",
        20,
        {"cantilever_scaffold": True},
        SCAFFOLD,
        SUPER,
    ),
    ("curtain_wall.super", "curtain_wall_height_m", 50, {"curtain_wall": True}, CURTAIN_WALL, SUPER),
    ("steel_structure.super", "steel_structure_span_m", 36, {"steel_structure": True}, STEEL, SUPER),
    ("space_frame.super", "space_frame_span_m", 60, {"space_frame_or_membrane": True}, SPACE_FRAME, SUPER),
    ("manual_pile.super", "manual_pile_depth_m", 16, {"manual_bored_piles": True}, MANUAL_PILE, SUPER),
    ("integral_lift.super", "integral_lift_slide_rotate_kn", 1000, {}, INTEGRAL_LIFT, SUPER),
]
THRESHOLD_IDS = [f"{rule}:{key}" for rule, key, *_ in THRESHOLDS]


@pytest.mark.parametrize("rule_id,key,threshold,extra,category,level", THRESHOLDS, ids=THRESHOLD_IDS)
def test_threshold_at_and_just_below(rule_id, key, threshold, extra, category, level):
    at = dw.match({**extra, key: threshold})
    hit = next(m for m in at if m.rule_id == rule_id)
    assert (hit.category, hit.level) == (category, level)
    assert any(f"≥ {threshold}" in reason for reason in hit.triggered_by)
    for value in (below(threshold), threshold - 0.01):
        assert rule_id not in rule_ids({**extra, key: value})


@pytest.mark.parametrize("rule_id,key,threshold,extra,category,level", THRESHOLDS, ids=THRESHOLD_IDS)
def test_category_level_just_below(rule_id, key, threshold, extra, category, level):
    # At the category level too: just below a super threshold the category is at most a 危大工程.
    assert (category, level) in levels({**extra, key: threshold})
    assert (category, level) not in levels({**extra, key: below(threshold)})


def test_every_threshold_in_the_rules_is_in_the_table():
    comparisons = [(rule.id, cmp) for rule in dw.RULES for clause in rule.any_of for cmp in clause]
    in_rules = {(rule_id, cmp.key, cmp.value) for rule_id, cmp in comparisons if cmp.op == ">="}
    assert in_rules == {(rule, key, threshold) for rule, key, threshold, *_ in THRESHOLDS}


@pytest.mark.parametrize(
    "flag,expected",
    [
        ("tool_formwork", {(FORMWORK, MAJOR), (FORMWORK, SUPER)}),  # tool formwork is in both columns
        ("crane_erection", {(LIFTING, MAJOR)}),
        ("installs_lifting_machinery", {(LIFTING, MAJOR)}),
        ("attached_lifting_scaffold", {(SCAFFOLD, MAJOR)}),
        ("cantilever_scaffold", {(SCAFFOLD, MAJOR)}),
        ("suspended_platform", {(SCAFFOLD, MAJOR)}),
        ("unloading_platform", {(SCAFFOLD, MAJOR)}),
        ("special_shaped_scaffold", {(SCAFFOLD, MAJOR)}),
        ("demolition", {(DEMOLITION, MAJOR)}),
        ("demolition_high_risk", {(DEMOLITION, MAJOR), (DEMOLITION, SUPER)}),
        ("underground_excavation", {(UNDERGROUND, MAJOR), (UNDERGROUND, SUPER)}),  # "all of these"
        ("curtain_wall", {(CURTAIN_WALL, MAJOR)}),
        ("steel_structure", {(STEEL, MAJOR)}),
        ("space_frame_or_membrane", {(SPACE_FRAME, MAJOR)}),
        ("manual_bored_piles", {(MANUAL_PILE, MAJOR)}),
        ("underwater_work", {(UNDERWATER, MAJOR), (UNDERWATER, SUPER)}),
        ("precast_assembly", {(PRECAST, MAJOR)}),  # no super-scale item in the table
        ("new_technique_without_standard", {(NEW_TECHNIQUE, MAJOR), (NEW_TECHNIQUE, SUPER)}),
        ("complex_ground_or_surroundings", set()),  # needs a pit: see below
    ],
)
def test_each_flag_alone(flag, expected):
    assert levels({flag: True}) == expected
    assert levels({flag: False}) == set()


def test_pit_under_3m_with_complex_ground_is_major_only():
    complex_ground = {"complex_ground_or_surroundings": True}
    assert levels({**complex_ground, "excavation_depth_m": 2.5}) == {("基坑工程", MAJOR)}
    assert levels({"excavation_depth_m": 2.5}) == set()
    assert levels({**complex_ground, "excavation_depth_m": 0}) == set()  # no pit
    assert rule_ids({**complex_ground, "excavation_depth_m": 1}) == {"excavation.complex.major"}


def test_super_clauses_with_a_flag_need_the_flag():
    # The height alone does not say the curtain wall, scaffold, crane… exists; validate_params flags this.
    for _, key, threshold, extra, *_ in THRESHOLDS:
        if extra:
            assert levels({key: threshold * 10}) == set(), key


def test_crane_thresholds_are_alternatives():
    below_both = {**CRANE, "crane_capacity_kn": 299, "crane_total_height_m": 199}
    assert rule_ids(below_both) == {"lifting.machinery.major"}
    found = dw.match({**CRANE, "crane_capacity_kn": 400, "crane_total_height_m": 250})
    (hit,) = [m for m in found if m.rule_id == "lifting.machinery.super"]
    assert hit.triggered_by == [
        "起重机械安装和拆卸，且安拆起重机械的起重量 400 kN ≥ 300 kN",
        "起重机械安装和拆卸，且安拆起重机械的搭设总高度 250 m ≥ 200 m",
    ]


# --- Reasons, order, implied majors -------------------------------------------------------------------
def test_reasons_name_value_and_threshold():
    found = {m.rule_id: m for m in dw.match({"excavation_depth_m": 6})}
    assert found["excavation.deep.major"].triggered_by == ["基坑开挖深度 6 m ≥ 3 m"]
    assert found["excavation.deep.super"].triggered_by == ["基坑开挖深度 6 m ≥ 5 m"]
    assert found["excavation.deep.major"].source == "建办质〔2018〕31号 附件一 一（一）"
    assert found["excavation.deep.super"].source == "建办质〔2018〕31号 附件二 一"
    (m,) = dw.match({"excavation_depth_m": Decimal("2.5"), "complex_ground_or_surroundings": True})
    assert m.triggered_by == ["基坑开挖深度 2.5 m，且基坑地质条件或周边环境复杂"]


def test_one_reason_per_clause_that_held():
    found = {m.rule_id: m for m in dw.match({"formwork_height_m": 9, "formwork_line_load_kn_m": 21.5})}
    assert found["formwork.support.super"].triggered_by == [
        "混凝土模板支撑搭设高度 9 m ≥ 8 m",
        "模板支撑集中线荷载（设计值） 21.5 kN/m ≥ 20 kN/m",
    ]


def test_order_by_category_then_major_first():
    found = dw.match({"manual_bored_piles": True, "manual_pile_depth_m": 20, "excavation_depth_m": 6})
    assert [(m.category, m.level) for m in found] == [
        (PIT, MAJOR),
        (PIT, SUPER),
        (MANUAL_PILE, MAJOR),
        (MANUAL_PILE, SUPER),
    ]


@pytest.mark.parametrize(
    "params,implied_id,super_id",
    [
        ({"integral_lift_slide_rotate_kn": 1000}, "integral_lift.implied.major", "integral_lift.super"),
        (
            {"steel_erection_full_support_point_load_kn": 7},
            "formwork.implied.major",
            "formwork.steel_erection_support.super",
        ),
        ({"demolition_high_risk": True}, "demolition.implied.major", "demolition.high_risk.super"),
    ],
)
def test_super_without_a_major_item_implies_major(params, implied_id, super_id):
    implied, sup = dw.match(params)
    assert (implied.rule_id, implied.level, sup.rule_id, sup.level) == (implied_id, MAJOR, super_id, SUPER)
    assert implied.category == sup.category
    assert "住建部令第37号" in implied.source
    assert implied.triggered_by == sup.triggered_by


def test_no_implied_major_when_a_major_item_holds():
    found = rule_ids({"excavation_depth_m": 6, "tool_formwork": True})
    assert not any(".implied." in rule_id for rule_id in found)


param_values = st.fixed_dictionaries(
    {},
    optional={
        spec.key: (st.booleans() if spec.kind == dw.BOOL else st.floats(0, 2000) | st.integers(0, 2000))
        for spec in dw.PARAMETERS
    },
)


@given(param_values)
def test_super_implies_major(params):
    found = dw.match(params)
    pairs = {(m.category, m.level) for m in found}
    for category, level in pairs:
        if level == SUPER:
            assert (category, MAJOR) in pairs
    positions = [(dw.CATEGORIES.index(m.category), m.level != MAJOR) for m in found]
    assert positions == sorted(positions)


NUMBER_KEYS = [s.key for s in dw.PARAMETERS if s.kind == dw.NUMBER]


@given(param_values, st.sampled_from(NUMBER_KEYS), st.floats(0, 500))
def test_more_never_matches_less(params, key, increase):
    # Every comparison is "≥" or ">": raising a number can only add matches.
    base = {**params, key: float(params.get(key, 0))}
    raised = {**base, key: base[key] + increase}
    assert levels(base) <= levels(raised)


@given(param_values)
def test_validation_does_not_change_matches_of_well_typed_input(params):
    clean, _ = dw.validate_params(params)
    assert dw.match(clean) == dw.match(params)


@pytest.mark.parametrize(
    "params",
    [
        {"excavation_depth_m": "6"},
        {"excavation_depth_m": True},
        {"excavation_depth_m": float("nan")},
        {"excavation_depth_m": float("inf")},
        {"excavation_depth_m": [6]},
        {"tool_formwork": 1},
        {"tool_formwork": "true"},
        {"no_such_parameter": 100},
        {},
    ],
)
def test_match_ignores_ill_typed_values(params):
    assert dw.match(params) == []


@pytest.mark.parametrize("params", [None, [("excavation_depth_m", 6)], "excavation_depth_m"])
def test_match_of_a_non_mapping_is_empty(params):
    assert dw.match(params) == []


def test_match_is_serialisable_for_the_api():
    (m, *_) = dw.match({"excavation_depth_m": 6})
    assert set(m.__dict__) == {"rule_id", "category", "level", "description", "source", "triggered_by"}


# --- Obligations --------------------------------------------------------------------------------------
def test_obligations_per_category():
    obs = dw.obligations(dw.match({"excavation_depth_m": 6, "floor_scaffold_height_m": 30}))
    assert [(o.document_kind, o.category) for o in obs] == [
        ("special_plan", "基坑工程"),
        ("expert_review", "基坑工程"),
        ("special_plan", "脚手架工程"),
    ]
    plan, review, scaffold = obs
    assert plan.rule_ids == ("excavation.deep.major", "excavation.deep.super")
    assert review.rule_ids == ("excavation.deep.super",)
    assert scaffold.rule_ids == ("scaffold.floor.major",)
    assert plan.source == "住建部令第37号 第十条、第十一条"
    assert review.source == "住建部令第37号 第十二条"
    assert "基坑工程" in plan.description_zh and "专项施工方案" in plan.description_zh
    assert "专家论证" in review.description_zh


def test_obligations_of_an_implied_major():
    obs = dw.obligations(dw.match({"integral_lift_slide_rotate_kn": 5000}))
    assert [(o.document_kind, o.rule_ids) for o in obs] == [
        ("special_plan", ("integral_lift.implied.major", "integral_lift.super")),
        ("expert_review", ("integral_lift.super",)),
    ]


def test_obligations_from_super_matches_alone_still_need_the_plan():
    supers = [m for m in dw.match({"excavation_depth_m": 6}) if m.level == SUPER]
    assert [o.document_kind for o in dw.obligations(supers)] == ["special_plan", "expert_review"]


def test_no_matches_no_obligations():
    assert dw.obligations([]) == []
    assert dw.obligations(dw.match({"excavation_depth_m": 2})) == []


@given(param_values)
def test_obligations_follow_levels(params):
    found = dw.match(params)
    expected = {("special_plan", m.category) for m in found} | {
        ("expert_review", m.category) for m in found if m.level == SUPER
    }
    obs = dw.obligations(found)
    assert {(o.document_kind, o.category) for o in obs} == expected
    assert len(obs) == len(expected)


# --- Validation ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params,key,message",
    [
        ({"excavation_depth_m": -1}, "excavation_depth_m", "基坑开挖深度不能为负数"),
        ({"excavation_depth_m": "deep"}, "excavation_depth_m", "基坑开挖深度须为数字"),
        ({"excavation_depth_m": "6"}, "excavation_depth_m", "基坑开挖深度须为数字"),
        ({"excavation_depth_m": True}, "excavation_depth_m", "基坑开挖深度须为数字"),
        ({"excavation_depth_m": float("nan")}, "excavation_depth_m", "基坑开挖深度须为数字"),
        ({"excavation_depth_m": float("-inf")}, "excavation_depth_m", "基坑开挖深度须为数字"),
        ({"excavation_depth_m": 10**400}, "excavation_depth_m", "基坑开挖深度须为数字"),
        ({"tool_formwork": "yes"}, "tool_formwork", "须为是/否"),
        ({"tool_formwork": 1}, "tool_formwork", "须为是/否"),
        ({"nonsense": 1}, "nonsense", "未知参数：nonsense"),
        ({3: 1}, "3", "未知参数：3"),
        (
            {"curtain_wall_height_m": 60},
            "curtain_wall_height_m",
            "填写了建筑幕墙施工高度，但未勾选“建筑幕墙安装”",
        ),
        (
            {"attached_scaffold_lift_height_m": 160, "attached_lifting_scaffold": False},
            "attached_scaffold_lift_height_m",
            "填写了附着式升降脚手架（操作平台）提升高度，但未勾选“附着式升降脚手架（或附着式升降操作平台）”",
        ),
        (
            {"complex_ground_or_surroundings": True},
            "complex_ground_or_surroundings",
            "勾选了“基坑地质条件或周边环境复杂”，但未填写基坑开挖深度",
        ),
        (
            {"complex_ground_or_surroundings": True, "excavation_depth_m": 0},
            "complex_ground_or_surroundings",
            "未填写基坑开挖深度",
        ),
    ],
)
def test_validation_messages(params, key, message):
    clean, errors = dw.validate_params(params)
    assert message in errors[key]
    assert key not in clean


@pytest.mark.parametrize("params", [None, [1, 2], "excavation_depth_m=3"])
def test_validation_of_a_non_mapping(params):
    assert dw.validate_params(params) == ({}, {"__all__": "规模参数须为键值对象"})


REQUIRES = [(s.key, s.requires) for s in dw.PARAMETERS if s.requires]


@pytest.mark.parametrize("key,required", REQUIRES)
def test_every_consistency_rule(key, required):
    value = True if dw.SPECS[key].kind == dw.BOOL else 12.0
    required_value = True if dw.SPECS[required].kind == dw.BOOL else 2.0
    _, errors = dw.validate_params({key: value})
    assert dw.SPECS[required].label_zh in errors[key]
    clean, errors = dw.validate_params({key: value, required: required_value})
    assert errors == {} and clean == {key: value, required: required_value}


def test_validation_clean_output():
    clean, errors = dw.validate_params(
        {
            "excavation_depth_m": 4,
            "formwork_span_m": Decimal("12.5"),
            "tool_formwork": False,
            "curtain_wall": True,
            "curtain_wall_height_m": None,
            "steel_structure_span_m": 0,  # zero means "not given": no flag needed
        }
    )
    assert errors == {}
    assert clean == {
        "excavation_depth_m": 4.0,
        "formwork_span_m": 12.5,
        "curtain_wall": True,
        "steel_structure_span_m": 0.0,
    }
    assert all(type(v) in (bool, float) for v in clean.values())


def test_negative_elevation_is_allowed_other_negatives_are_not():
    # A crane standing in the pit has a foundation below ±0.000.
    clean, errors = dw.validate_params({**CRANE, "crane_foundation_elevation_m": -12})
    assert errors == {} and clean["crane_foundation_elevation_m"] == -12.0
    negatives = {s.key: -1 for s in dw.PARAMETERS if s.kind == dw.NUMBER and not s.allow_negative}
    _, errors = dw.validate_params(negatives)
    assert set(errors) == set(negatives) and all("不能为负数" in m for m in errors.values())


def test_one_error_per_bad_key_and_good_keys_kept():
    clean, errors = dw.validate_params({"excavation_depth_m": 6, "formwork_span_m": -3, "x": 1})
    assert clean == {"excavation_depth_m": 6.0}
    assert set(errors) == {"formwork_span_m", "x"}


def test_consistency_is_not_reported_twice_for_a_bad_flag():
    _, errors = dw.validate_params({"curtain_wall": "yes", "curtain_wall_height_m": 60})
    assert set(errors) == {"curtain_wall"}


# --- The data itself ----------------------------------------------------------------------------------
REQUIRED_PARAMETERS = {
    "excavation_depth_m": "number",
    "complex_ground_or_surroundings": "bool",
    "formwork_height_m": "number",
    "formwork_span_m": "number",
    "formwork_total_load_kn_m2": "number",
    "formwork_line_load_kn_m": "number",
    "tool_formwork": "bool",
    "steel_erection_full_support_point_load_kn": "number",
    "non_standard_lift_max_kn": "number",
    "crane_erection": "bool",
    "installs_lifting_machinery": "bool",
    "crane_capacity_kn": "number",
    "crane_total_height_m": "number",
    "crane_foundation_elevation_m": "number",
    "floor_scaffold_height_m": "number",
    "attached_lifting_scaffold": "bool",
    "attached_scaffold_lift_height_m": "number",
    "cantilever_scaffold": "bool",
    "cantilever_section_height_m": "number",
    "suspended_platform": "bool",
    "unloading_platform": "bool",
    "special_shaped_scaffold": "bool",
    "demolition": "bool",
    "demolition_high_risk": "bool",
    "underground_excavation": "bool",
    "curtain_wall": "bool",
    "curtain_wall_height_m": "number",
    "steel_structure": "bool",
    "steel_structure_span_m": "number",
    "space_frame_or_membrane": "bool",
    "space_frame_span_m": "number",
    "manual_bored_piles": "bool",
    "manual_pile_depth_m": "number",
    "underwater_work": "bool",
    "precast_assembly": "bool",
    "integral_lift_slide_rotate_kn": "number",
    "new_technique_without_standard": "bool",
}


def test_parameters_are_the_agreed_ones():
    assert {s.key: s.kind for s in dw.PARAMETERS} == REQUIRED_PARAMETERS
    assert len(dw.SPECS) == len(dw.PARAMETERS)
    depth = dw.SPECS["excavation_depth_m"]
    assert (depth.label_zh, depth.unit, depth.kind) == ("基坑开挖深度", "m", "number")
    for spec in dw.PARAMETERS:
        assert spec.label_zh and spec.label_en and spec.group in dw.CATEGORIES
        assert bool(spec.unit) == (spec.kind == dw.NUMBER), spec.key
        assert not spec.requires or spec.requires in dw.SPECS


def test_rules_are_well_formed():
    assert len({r.id for r in dw.RULES}) == len(dw.RULES) == len(dw.RULES_BY_ID)
    used = set()
    for rule in dw.RULES:
        assert rule.category in dw.CATEGORIES and rule.level in (MAJOR, SUPER) and rule.description
        annex = "附件一" if rule.level == MAJOR else "附件二"
        assert rule.source.startswith(f"建办质〔2018〕31号 {annex}"), rule.id
        assert rule.id.endswith(f".{rule.level}")
        assert rule.any_of and all(rule.any_of)
        for key, op, value in (cmp for clause in rule.any_of for cmp in clause):
            used.add(key)
            kind = dw.SPECS[key].kind
            assert (op, kind) in {(">=", dw.NUMBER), (">", dw.NUMBER), ("is", dw.BOOL)}, rule.id
            assert op != "is" or value is True
    assert used == set(dw.SPECS)  # every parameter feeds some rule


def test_every_row_of_the_table_has_its_columns():
    pairs = {(r.category, r.level) for r in dw.RULES}
    both = [PIT, FORMWORK, LIFTING, SCAFFOLD, DEMOLITION, UNDERGROUND, CURTAIN_WALL, STEEL, SPACE_FRAME]
    both += [MANUAL_PILE, UNDERWATER, NEW_TECHNIQUE]
    expected = {(c, level) for c in both for level in (MAJOR, SUPER)}
    expected |= {(PRECAST, MAJOR), (INTEGRAL_LIFT, SUPER)}  # the table gives only one column for these
    assert pairs == expected
    assert {c for c, _ in pairs} == set(dw.CATEGORIES)
    assert dw.UNCONFIRMED
