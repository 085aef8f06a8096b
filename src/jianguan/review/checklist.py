"""The reviewer's checklist, as data: what a reviewer confirms by reading the filing, beside the project's legal
checklist (the documents it must hold, requirements.py, checked by the pre-review, prereview.py).

The points follow the conditions for a construction permit in 建筑法 第八条 (2019 年修正): a reviewer confirms
each one from the documents, marking it 符合 / 不符合 / 不适用 with a note. The documents' own verdicts
(合格 / 需补正) are given per document in the workspace."""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = "《中华人民共和国建筑法》（2019 年修正）第八条"


@dataclass(frozen=True)
class Point:
    code: str
    label: str
    guidance: str  # what to look at
    documents: tuple[str, ...] = ()  # DocumentKind values that show it
    may_not_apply: bool = False  # 不适用 is an acceptable mark (e.g. no demolition needed)


POINTS: tuple[Point, ...] = (
    Point(
        "land_use", "已办理用地批准手续", "用地批准文件或不动产权证书与项目地址、面积一致", ("planning_permit", "other")
    ),
    Point(
        "planning_permit",
        "依法应办理建设工程规划许可证的，已取得",
        "规划许可证的项目名称、建设单位、建设规模与申报一致",
        ("planning_permit",),
        may_not_apply=True,
    ),
    Point("demolition", "需要拆迁的，拆迁进度符合施工要求", "无拆迁的标“不适用”", (), may_not_apply=True),
    Point(
        "contractor",
        "已确定建筑施工企业",
        "施工合同的承包人与登记的施工总承包单位一致，资质有效",
        ("contract",),
    ),
    Point(
        "funds_drawings",
        "有满足施工需要的资金安排、施工图纸及技术资料",
        "施工图审查合格书与施工图版本一致；资金安排（合同价款、支付计划）落实",
        ("construction_drawings", "drawing_review_cert", "contract"),
    ),
    Point(
        "safety_measures",
        "有保证工程质量和安全的具体措施",
        "安全施工措施、危大工程专项方案（及专家论证）与识别出的危大工程相符",
        ("safety_measures", "special_plan", "expert_review"),
    ),
    Point(
        "wages",
        "已开设农民工工资专用账户",
        "《保障农民工工资支付条例》：工资专用账户证明",
        ("wage_account",),
    ),
)
BY_CODE = {p.code: p for p in POINTS}


class Mark:
    OK = "ok"
    PROBLEM = "problem"
    NOT_APPLICABLE = "na"
    CHOICES = ((OK, "符合"), (PROBLEM, "不符合"), (NOT_APPLICABLE, "不适用"))
    LABELS = dict(CHOICES)
