from ninja import Router, Schema

from .models import Jurisdiction

router = Router(tags=["区划"])


class JurisdictionOut(Schema):
    code: str
    name: str
    kind: str
    parent_code: str | None
    center_lat: float
    center_lon: float
    boundary_approximate: bool
    code_confirmed: bool


@router.get("/jurisdictions", auth=None, response=list[JurisdictionOut])
def list_jurisdictions(request):
    """Linyi and its county-level divisions (GB/T 2260) and development zones."""
    return [
        {
            "code": j.code,
            "name": j.name,
            "kind": j.kind,
            "parent_code": j.parent.code if j.parent_id else None,
            "center_lat": j.center_lat,
            "center_lon": j.center_lon,
            "boundary_approximate": j.boundary_approximate,
            "code_confirmed": j.code_confirmed,
        }
        for j in Jurisdiction.objects.select_related("parent")
    ]
