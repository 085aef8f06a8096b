import datetime as dt

from django.db.models import Q
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from jianguan.core.pagination import BoundedPageNumberPagination
from jianguan.core.schemas import Id

from . import permissions

router = Router(tags=["主体库"])


class QualificationOut(Schema):
    kind: str
    category: str
    grade: str
    number: str
    valid_from: dt.date
    valid_until: dt.date


class EnterpriseOut(Schema):
    id: int
    name: str
    uscc: str
    kind: str
    kind_label: str
    jurisdiction: str | None
    qualifications: list[QualificationOut]

    @staticmethod
    def resolve_kind_label(obj):
        return obj.get_kind_display()

    @staticmethod
    def resolve_jurisdiction(obj):
        return obj.jurisdiction.name if obj.jurisdiction_id else None

    @staticmethod
    def resolve_qualifications(obj):
        return list(obj.qualifications.all())


class EnterpriseFilter(Schema):
    q: str = ""
    kind: str = ""


@router.get("/enterprises", response=list[EnterpriseOut])
@paginate(BoundedPageNumberPagination, page_size=20)
def list_enterprises(request, filters: Query[EnterpriseFilter]):
    """Enterprises (public register data: name, code, type, qualifications). Search by name or code."""
    qs = permissions.visible_enterprises(request.user).select_related("jurisdiction").prefetch_related("qualifications")
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(uscc__icontains=filters.q))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return qs.order_by("name", "id")


@router.get("/enterprises/{enterprise_id}", response=EnterpriseOut)
def get_enterprise(request, enterprise_id: Id):
    visible = permissions.visible_enterprises(request.user)
    return visible.select_related("jurisdiction").prefetch_related("qualifications").get(pk=enterprise_id)
