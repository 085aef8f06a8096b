"""Public verification API: checkpoints, entries, proofs and evidence bundles.

Hashes and proofs are public; an entry's leaf data only to those who may read the record it evidences.
"""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from ninja import Field, Query, Router, Schema

from jianguan.accounts.auth import OPTIONAL
from jianguan.core.schemas import ApiError as ErrorOut
from jianguan.core.schemas import DbInt, Id

from . import permissions, services
from .models import LedgerEntry

router = Router(tags=["存证日志"])


class CheckpointOut(Schema):
    origin: str
    tree_size: int
    root_hash: str
    key_id: str
    note: str
    created_at: str


class EntryOut(Schema):
    index: int
    kind: str
    record_type: str
    record_id: str
    leaf_hash: str
    leaf_data: str | None = Field(
        None, description="the canonical JSON that was hashed; only for readers of the record"
    )
    created_at: str


class ProofOut(Schema):
    tree_size: int
    proof: list[str]


class ConsistencyOut(Schema):
    first: int
    second: int
    proof: list[str]


class InclusionQuery(Schema):
    index: DbInt
    tree_size: Id


class ConsistencyQuery(Schema):
    first: Id
    second: Id


def _checkpoint_out(cp) -> dict:
    return {
        "origin": services.origin(),
        "tree_size": cp.tree_size,
        "root_hash": cp.root_hash,
        "key_id": cp.key_id,
        "note": cp.note,
        "created_at": cp.created_at.isoformat(),
    }


@router.get("/ledger/checkpoint", auth=None, response={200: CheckpointOut, 404: ErrorOut})
def latest_checkpoint(request):
    """The latest signed checkpoint (C2SP tlog-checkpoint in a signed note)."""
    cp = services.latest_checkpoint()
    if cp is None:
        return 404, {"code": "not_found", "detail": "尚无签名检查点"}
    return _checkpoint_out(cp)


_TEXT = {"text/plain": {"schema": {"type": "string"}}}


@router.get(
    "/ledger/checkpoint.txt",
    auth=None,
    openapi_extra={
        "responses": {
            200: {"description": "签名检查点（signed note 文本）", "content": _TEXT},
            404: {"description": "尚无签名检查点", "content": _TEXT},
        }
    },
)
def latest_checkpoint_text(request):
    """The latest checkpoint as plain signed-note text, for note/checkpoint verifiers."""
    cp = services.latest_checkpoint()
    if cp is None:
        return HttpResponse("no checkpoint yet\n", status=404, content_type="text/plain; charset=utf-8")
    return HttpResponse(cp.note, content_type="text/plain; charset=utf-8")


@router.post("/ledger/checkpoints", response={201: CheckpointOut, 403: ErrorOut})
def sign_now(request):
    """Sign a checkpoint of the current tree now (bureau administrators)."""
    if not permissions.may_operate(request.user):
        raise PermissionDenied("只有市住建局管理员可以签发检查点")
    return 201, _checkpoint_out(services.sign_checkpoint())


@router.get("/ledger/entries/{index}", auth=OPTIONAL, response={200: EntryOut, 404: ErrorOut})
def get_entry(request, index: DbInt):
    entry = LedgerEntry.objects.get(index=index)
    return {
        "index": entry.index,
        "kind": entry.kind,
        "record_type": entry.record_type,
        "record_id": entry.record_id,
        "leaf_hash": entry.leaf_hash,
        "leaf_data": services.readable_leaf_data(request.user, entry),
        "created_at": entry.created_at.isoformat(),
    }


@router.get("/ledger/proof/inclusion", auth=None, response={200: ProofOut, 422: ErrorOut})
def inclusion(request, q: Query[InclusionQuery]):
    """Audit path of leaf `index` in the tree of size `tree_size` (RFC 6962 §2.1.1)."""
    if q.index >= q.tree_size or q.tree_size > services.tree_size():
        return 422, {"code": "out_of_range", "detail": "index 须小于 tree_size，tree_size 不得超过当前树大小"}
    return {"tree_size": q.tree_size, "proof": [h.hex() for h in services.inclusion_proof(q.index, q.tree_size)]}


@router.get("/ledger/proof/consistency", auth=None, response={200: ConsistencyOut, 422: ErrorOut})
def consistency(request, q: Query[ConsistencyQuery]):
    """Consistency proof between tree sizes `first` ≤ `second` (RFC 6962 §2.1.2)."""
    if q.first > q.second or q.second > services.tree_size():
        return 422, {"code": "out_of_range", "detail": "须 first ≤ second ≤ 当前树大小"}
    return {
        "first": q.first,
        "second": q.second,
        "proof": [h.hex() for h in services.consistency_proof(q.first, q.second)],
    }


@router.get("/ledger/entries/{index}/bundle", response={200: dict, 403: ErrorOut, 404: ErrorOut})
def bundle(request, index: DbInt):
    """The evidence bundle of an entry (entry, inclusion proof, signed checkpoint) for offline verification."""
    entry = LedgerEntry.objects.get(index=index)
    response = HttpResponse(
        services.canonical_json(services.evidence_bundle_for(request.user, entry)),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="evidence-{entry.index}.json"'
    return response
