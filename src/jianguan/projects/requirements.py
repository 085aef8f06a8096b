"""Which documents a project must hold, by project type and stage, plus its 危大工程 obligations.

The base matrix is a configurable default of this platform (local filing rules vary by city); the 危大工程
obligations come from jianguan.projects.dangerous_works, each naming its source clause.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import dangerous_works
from .models import DocumentKind as K
from .models import ProjectType as T


@dataclass(frozen=True)
class Requirement:
    kind: str
    category: str  # "" for documents that are not per 危大工程 category
    reason: str  # why it is required, shown to the filer

    @property
    def label(self) -> str:
        text = K(self.kind).label
        return f"{text}（{self.category}）" if self.category else text


FILING_BASE = (
    K.CONSTRUCTION_DRAWINGS,
    K.DRAWING_REVIEW_CERT,
    K.PLANNING_PERMIT,
    K.CONTRACT,
    K.SAFETY_MEASURES,
)
# 保障农民工工资支付条例: every construction project opens a dedicated wage account.
FILING_WAGE = (K.WAGE_ACCOUNT,)
# Linear works and parks typically need an environmental impact document before construction (default).
ENVIRONMENTAL_TYPES = {T.MUNICIPAL_ROAD, T.WATER, T.TRANSPORT, T.INDUSTRIAL_PARK}
ACCEPTANCE_BASE = (K.ACCEPTANCE_REPORT, K.TEST_REPORT)


def filing_requirements(project_type: str, parameters: dict) -> list[Requirement]:
    reqs = [Requirement(kind, "", "申报必备材料") for kind in FILING_BASE]
    reqs += [Requirement(kind, "", "《保障农民工工资支付条例》") for kind in FILING_WAGE]
    if project_type in ENVIRONMENTAL_TYPES:
        reqs.append(Requirement(K.ENVIRONMENTAL_REPORT, "", "该类项目需环境影响评价文件（平台默认规则）"))
    matches = dangerous_works.match(parameters)
    for ob in dangerous_works.obligations(matches):
        reqs.append(Requirement(ob.document_kind, ob.category, f"{ob.description_zh}（{ob.source}）"))
    return reqs


def acceptance_requirements() -> list[Requirement]:
    return [Requirement(kind, "", "竣工验收必备材料") for kind in ACCEPTANCE_BASE]
