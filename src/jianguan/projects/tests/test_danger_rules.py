import pytest
from hypothesis import given
from hypothesis import strategies as st

from jianguan.projects import dangerous_works as dw


def levels(params):
    return {(m.category, m.level) for m in dw.match(params)}


# (parameters at the threshold, parameters just below, category, level)
THRESHOLDS = [
    ({"excavation_depth_m": 3}, {"excavation_depth_m": 2.99}, "基坑工程", dw.MAJOR),
    ({"excavation_depth_m": 5}, {"excavation_depth_m": 4.99}, "基坑工程", dw.SUPER),
    ({"formwork_height_m": 5}, {"formwork_height_m": 4.9}, "模板工程及支撑体系", dw.MAJOR),
    ({"formwork_span_m": 10}, {"formwork_span_m": 9.9}, "模板工程及支撑体系", dw.MAJOR),
    ({"formwork_total_load_kn_m2": 10}, {"formwork_total_load_kn_m2": 9.9}, "模板工程及支撑体系", dw.MAJOR),
    ({"formwork_line_load_kn_m": 15}, {"formwork_line_load_kn_m": 14.9}, "模板工程及支撑体系", dw.MAJOR),
    ({"formwork_height_m": 8}, {"formwork_height_m": 7.9}, "模板工程及支撑体系", dw.SUPER),
    ({"formwork_span_m": 18}, {"formwork_span_m": 17.9}, "模板工程及支撑体系", dw.SUPER),
    ({"formwork_total_load_kn_m2": 15}, {"formwork_total_load_kn_m2": 14.9}, "模板工程及支撑体系", dw.SUPER),
    ({"formwork_line_load_kn_m": 20}, {"formwork_line_load_kn_m": 19.9}, "模板工程及支撑体系", dw.SUPER),
    (
        {"steel_erection_full_support_point_load_kn": 7},
        {"steel_erection_full_support_point_load_kn": 6.9},
        "模板工程及支撑体系",
        dw.SUPER,
    ),
    ({"non_standard_lift_max_kn": 10}, {"non_standard_lift_max_kn": 9.9}, "起重吊装及起重机械安装拆卸工程", dw.MAJOR),
    ({"non_standard_lift_max_kn": 100}, {"non_standard_lift_max_kn": 99}, "起重吊装及起重机械安装拆卸工程", dw.SUPER),
    (
        {"installs_lifting_machinery": True, "crane_capacity_kn": 300},
        {"installs_lifting_machinery": True, "crane_capacity_kn": 299},
        "起重吊装及起重机械安装拆卸工程",
        dw.SUPER,
    ),
    (
        {"installs_lifting_machinery": True, "crane_total_height_m": 200},
        {"installs_lifting_machinery": True, "crane_total_height_m": 199},
        "起重吊装及起重机械安装拆卸工程",
        dw.SUPER,
    ),
    ({"floor_scaffold_height_m": 24}, {"floor_scaffold_height_m": 23.9}, "脚手架工程", dw.MAJOR),
    ({"floor_scaffold_height_m": 50}, {"floor_scaffold_height_m": 49.9}, "脚手架工程", dw.SUPER),
    (
        {"attached_lifting_scaffold": True, "attached_scaffold_lift_height_m": 150},
        {"attached_lifting_scaffold": True, "attached_scaffold_lift_height_m": 149},
        "脚手架工程",
        dw.SUPER,
    ),
    (
        {"cantilever_scaffold": True, "cantilever_section_height_m": 20},
        {"cantilever_scaffold": True, "cantilever_section_height_m": 19.9},
        "脚手架工程",
        dw.SUPER,
    ),
    (
        {"curtain_wall": True, "curtain_wall_height_m": 50},
        {"curtain_wall": True, "curtain_wall_height_m": 49},
        "建筑幕墙安装工程",
        dw.SUPER,
    ),
    (
        {"steel_structure": True, "steel_structure_span_m": 36},
        {"steel_structure": True, "steel_structure_span_m": 35},
        "钢结构安装工程",
        dw.SUPER,
    ),
    (
        {"space_frame_or_membrane": True, "space_frame_span_m": 60},
        {"space_frame_or_membrane": True, "space_frame_span_m": 59},
        "网架和索膜结构安装工程",
        dw.SUPER,
    ),
    (
        {"manual_bored_piles": True, "manual_pile_depth_m": 16},
        {"manual_bored_piles": True, "manual_pile_depth_m": 15},
        "人工挖孔桩工程",
        dw.SUPER,
    ),
    (
        {"integral_lift_slide_rotate_kn": 1000},
        {"integral_lift_slide_rotate_kn": 999},
        "整体提升、顶升、平移、转体施工",
        dw.SUPER,
    ),
]


@pytest.mark.parametrize("at,below,category,level", THRESHOLDS)
def test_thresholds(at, below, category, level):
    assert (category, level) in levels(at)
    assert (category, level) not in levels(below)


@pytest.mark.parametrize(
    "flag,category",
    [
        ("tool_formwork", "模板工程及支撑体系"),
        ("crane_erection", "起重吊装及起重机械安装拆卸工程"),
        ("installs_lifting_machinery", "起重吊装及起重机械安装拆卸工程"),
        ("attached_lifting_scaffold", "脚手架工程"),
        ("cantilever_scaffold", "脚手架工程"),
        ("suspended_platform", "脚手架工程"),
        ("unloading_platform", "脚手架工程"),
        ("special_shaped_scaffold", "脚手架工程"),
        ("demolition", "拆除工程"),
        ("underground_excavation", "暗挖工程"),
        ("curtain_wall", "建筑幕墙安装工程"),
        ("steel_structure", "钢结构安装工程"),
        ("space_frame_or_membrane", "网架和索膜结构安装工程"),
        ("manual_bored_piles", "人工挖孔桩工程"),
        ("underwater_work", "水下作业工程"),
        ("precast_assembly", "装配式建筑混凝土预制构件安装工程"),
        ("new_technique_without_standard", "新技术、新工艺、新材料、新设备"),
    ],
)
def test_flags_make_major(flag, category):
    assert (category, dw.MAJOR) in levels({flag: True})


def test_shallow_pit_with_complex_ground_is_major_only():
    assert levels({"excavation_depth_m": 2, "complex_ground_or_surroundings": True}) == {("基坑工程", dw.MAJOR)}
    assert levels({"complex_ground_or_surroundings": True}) == set()  # no excavation, no pit


@given(
    st.dictionaries(
        st.sampled_from([s.key for s in dw.PARAMETERS if s.kind == "number"]), st.floats(0, 2000), max_size=8
    )
)
def test_super_implies_major(params):
    found = levels(params)
    for category, level in found:
        if level == dw.SUPER:
            assert (category, dw.MAJOR) in found


def test_obligations():
    matches = dw.match({"excavation_depth_m": 6, "floor_scaffold_height_m": 30})
    obs = {(o.document_kind, o.category) for o in dw.obligations(matches)}
    assert obs == {("special_plan", "基坑工程"), ("expert_review", "基坑工程"), ("special_plan", "脚手架工程")}
    assert all(o.source for o in dw.obligations(matches))


def test_match_reasons_name_the_value():
    (m, *_) = dw.match({"excavation_depth_m": 6})
    assert "6 m ≥ 3 m" in m.triggered_by[0] and m.source.startswith("建办质〔2018〕31号")


def test_every_rule_names_a_source_and_known_parameters():
    for rule in dw.RULES:
        assert rule.source and rule.description
        for clause in rule.any_of:
            for key, op, _ in clause:
                assert key in dw.SPECS and op in {">=", ">", "is"}


@pytest.mark.parametrize(
    "params,key,fragment",
    [
        ({"excavation_depth_m": -1}, "excavation_depth_m", "负数"),
        ({"excavation_depth_m": "deep"}, "excavation_depth_m", "数字"),
        ({"excavation_depth_m": True}, "excavation_depth_m", "数字"),
        ({"tool_formwork": "yes"}, "tool_formwork", "是/否"),
        ({"nonsense": 1}, "nonsense", "未知"),
        ({"curtain_wall_height_m": 60}, "curtain_wall_height_m", "未勾选"),
        ({"excavation_depth_m": float("nan")}, "excavation_depth_m", "数字"),
    ],
)
def test_validation(params, key, fragment):
    _, errors = dw.validate_params(params)
    assert fragment in errors[key]


def test_validation_clean():
    clean, errors = dw.validate_params({"excavation_depth_m": 4, "tool_formwork": False, "curtain_wall": True})
    assert errors == {} and clean == {"excavation_depth_m": 4.0, "curtain_wall": True}
