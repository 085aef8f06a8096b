"""The evidence log's services: append, prove, checkpoint, audit. The one way any room records evidence
is `append()` (or `append_many()` for batches).

Tree maths live in the pure modules (merkle.py, checkpoint.py, bundle.py); this module stores and loads.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from jianguan.accounts import sharing
from jianguan.core.permissions import require

from . import bundle as bundle_mod
from . import checkpoint as checkpoint_mod
from . import merkle, permissions
from .models import LedgerAuditRun, LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode


def canonical_json(value: Any) -> str:
    """Sorted keys, no insignificant white space, UTF-8 text: the same record always hashes the same."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


# --- storage -----------------------------------------------------------------------------------------


class DatabaseNodeStore:
    """merkle.NodeStore over the LedgerNode table; reads a proof's nodes in one query."""

    def get_nodes(self, keys):
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        table = connection.ops.quote_name(LedgerNode._meta.db_table)
        index = connection.ops.quote_name("index")
        found: dict[tuple[int, int], bytes] = {}
        # One row-value IN query per 500 keys (a proof needs O(log n) of them: one query).
        with connection.cursor() as cursor:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                if connection.vendor == "postgresql":
                    values = ", ".join(["(%s, %s)"] * len(chunk))
                    where = f"(level, {index}) IN (VALUES {values})"
                else:
                    # SQLite plans row-value IN (VALUES …) as a scan; an OR of point look-ups uses the index.
                    where = " OR ".join([f"(level = %s AND {index} = %s)"] * len(chunk))
                cursor.execute(
                    f"SELECT level, {index}, hash FROM {table} WHERE {where}", [part for key in chunk for part in key]
                )
                for level, idx, digest in cursor.fetchall():
                    found[(level, idx)] = bytes(digest)
        return found


STORE = DatabaseNodeStore()


@dataclass(frozen=True)
class Item:
    kind: str
    record_type: str
    record_id: str
    content: dict[str, Any]
    actor: str = ""
    scope: str = ""


def _leaf_text(item: Item, at: datetime) -> str:
    return canonical_json(
        {
            "kind": item.kind,
            "record": {"type": item.record_type, "id": item.record_id},
            "content": item.content,
            "actor": item.actor,
            "at": at.isoformat(timespec="microseconds"),
        }
    )


def _head_for_update() -> LedgerHead:
    head = LedgerHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        LedgerHead.objects.get_or_create(pk=1)
        head = LedgerHead.objects.select_for_update().get(pk=1)
    return head


def _insert_rows(entry_rows: list[tuple], node_rows: list[tuple]) -> None:
    """Plain parameterised INSERTs: the hot path of a log that takes every record of a city (the ORM's
    per-object overhead halved the append rate)."""
    entry_table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    node_table = connection.ops.quote_name(LedgerNode._meta.db_table)
    quoted_index = connection.ops.quote_name("index")
    entry_columns = f"{quoted_index}, kind, record_type, record_id, scope, leaf_data, leaf_hash, created_at"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY is PostgreSQL's bulk path: several times the rate of batched INSERTs.
            raw = cursor.cursor
            with raw.copy(f"COPY {entry_table} ({entry_columns}) FROM STDIN") as copy:
                for row in entry_rows:
                    copy.write_row(row)
            with raw.copy(f"COPY {node_table} (level, {quoted_index}, hash) FROM STDIN") as copy:
                for row in node_rows:
                    copy.write_row(row)
            return
        cursor.executemany(
            f"INSERT INTO {entry_table} ({entry_columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [(*row[:7], connection.ops.adapt_datetimefield_value(row[7])) for row in entry_rows],
        )
        cursor.executemany(f"INSERT INTO {node_table} (level, {quoted_index}, hash) VALUES (%s, %s, %s)", node_rows)


@transaction.atomic
def append_many(items: list[Item], *, want_entries: bool = True) -> list[LedgerEntry]:
    """Append a batch in one transaction: O(batch + log n) node writes, no recomputation of the tree.
    Bulk loaders that need no entry objects back pass want_entries=False."""
    if not items:
        return []
    head = _head_for_update()
    at = timezone.now()
    texts = [_leaf_text(item, at) for item in items]
    hashes = [merkle.leaf_hash(text.encode()) for text in texts]
    new_nodes, new_size = merkle.append_leaves(head.size, hashes, STORE)

    entry_rows = [
        (head.size + i, item.kind, item.record_type, item.record_id, item.scope, text, digest.hex(), at)
        for i, (item, text, digest) in enumerate(zip(items, texts, hashes, strict=True))
    ]
    node_rows = [(level, index, digest) for (level, index), digest in new_nodes.items()]
    _insert_rows(entry_rows, node_rows)
    head.size = new_size
    head.save(update_fields=["size"])
    if not want_entries:
        return []
    # A closed range: right after a bulk load the planner has no statistics, and an open range got a seq scan.
    first, last = entry_rows[0][0], entry_rows[-1][0]
    return list(LedgerEntry.objects.filter(index__range=(first, last)).order_by("index"))


def append(
    kind: str, record_type: str, record_id: str | int, content: dict[str, Any], *, actor=None, scope: str = ""
) -> LedgerEntry:
    """Record one piece of evidence, inside the caller's transaction (a rolled-back change leaves no entry)."""
    label = actor.username if actor is not None and getattr(actor, "is_authenticated", False) else ""
    return append_many([Item(kind, record_type, str(record_id), content, label, scope)])[0]


def tree_size() -> int:
    head = LedgerHead.objects.filter(pk=1).first()
    return head.size if head else 0


def root_hash(size: int | None = None) -> bytes:
    size = tree_size() if size is None else size
    return merkle.root_hash(size, STORE)


def inclusion_proof(index: int, size: int) -> list[bytes]:
    return merkle.inclusion_proof(index, size, STORE)


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    return merkle.consistency_proof(old_size, new_size, STORE)


def entries_for(record_type: str, record_id: str | int):
    return LedgerEntry.objects.filter(record_type=record_type, record_id=str(record_id)).order_by("index")


# --- keys and checkpoints ------------------------------------------------------------------------------


def origin() -> str:
    return settings.LEDGER_ORIGIN


def _key_path() -> Path:
    return Path(settings.LEDGER_SIGNING_KEY_FILE)


def signer_key() -> str:
    """The signed-note signer key; generated on first use when the deployment allows it (demo, tests)."""
    path = _key_path()
    if path.exists():
        return path.read_text().strip()
    if not settings.LEDGER_GENERATE_KEY:
        raise RuntimeError(f"ledger signing key missing: {path} (set LEDGER_SIGNING_KEY_FILE)")
    signer, verifier = checkpoint_mod.generate_signer(origin())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(signer + "\n")
    path.with_suffix(".pub").write_text(verifier + "\n")
    return signer


def verifier_key() -> str:
    return checkpoint_mod.verifier_from_signer(signer_key())


@transaction.atomic
def sign_checkpoint() -> LedgerCheckpoint:
    """Signs the current tree head (on demand and on the schedule); reuses the latest if nothing changed."""
    head = _head_for_update()
    latest = LedgerCheckpoint.objects.first()
    if latest is not None and latest.tree_size == head.size:
        return latest
    root = merkle.root_hash(head.size, STORE)
    note = checkpoint_mod.sign_checkpoint(origin(), head.size, root, signer_key())
    checkpoint_mod.parse_and_verify(note, verifier_key())  # never publish a note we cannot verify ourselves
    return LedgerCheckpoint.objects.create(
        tree_size=head.size, root_hash=root.hex(), note=note, key_id=checkpoint_mod.key_id_hex(verifier_key())
    )


def latest_checkpoint() -> LedgerCheckpoint | None:
    return LedgerCheckpoint.objects.first()


def evidence_bundle(entry: LedgerEntry) -> dict[str, Any]:
    """Entry + inclusion proof + a signed checkpoint that covers it: everything an offline verifier needs."""
    checkpoint = LedgerCheckpoint.objects.filter(tree_size__gt=entry.index).order_by("tree_size").first()
    if checkpoint is None:
        checkpoint = sign_checkpoint()
    proof = inclusion_proof(entry.index, checkpoint.tree_size)
    return bundle_mod.build_bundle(
        index=entry.index,
        leaf_data=entry.leaf_data.encode(),
        tree_size=checkpoint.tree_size,
        proof=proof,
        checkpoint_note=checkpoint.note,
    )


def readable_leaf_data(user, entry: LedgerEntry) -> str | None:
    """The entry's leaf data if the user may read the record it evidences (None otherwise); a department
    officer's read is logged with the rule that allowed it."""
    if not permissions.may_read_entry(user, entry):
        return None
    _note_read(user, entry, "存证数据")
    return entry.leaf_data


def evidence_bundle_for(user, entry: LedgerEntry) -> dict[str, Any]:
    """The entry's evidence bundle for a user who may read the record it evidences (PermissionDenied otherwise:
    the entry's hashes are public, so it is readable, its data not)."""
    require(permissions.may_read_entry(user, entry), "您无权获取该记录的存证")
    _note_read(user, entry, "存证包")
    return evidence_bundle(entry)


def _note_read(user, entry: LedgerEntry, what: str) -> None:
    project = permissions.entry_project(entry)
    sharing.note_read(user, permissions.record_part(entry), what=what, obj=entry, project=project)


# --- self-audit ------------------------------------------------------------------------------------------


def self_audit(batch: int = 50_000) -> LedgerAuditRun:
    """Recomputes every leaf from its stored data and the tree from the leaves, and compares them with the
    stored hashes, the stored nodes and the latest signed checkpoint. Names every entry that differs."""
    problems: list[dict[str, Any]] = []
    size = tree_size()
    leaf_hashes: list[bytes] = []
    expected = 0
    for start in range(0, size, batch):
        stored_leaves = {
            index: bytes(digest)
            for index, digest in LedgerNode.objects.filter(
                level=0, index__gte=start, index__lt=start + batch
            ).values_list("index", "hash")
        }
        rows = LedgerEntry.objects.filter(index__gte=start, index__lt=start + batch).order_by("index")
        for index, data, stored in rows.values_list("index", "leaf_data", "leaf_hash").iterator(chunk_size=5000):
            if index != expected:
                problems.append({"index": expected, "problem": "missing", "message": f"条目 #{expected} 缺失"})
                expected = index
            recomputed = merkle.leaf_hash(data.encode())
            if recomputed.hex() != stored or stored_leaves.get(index) != recomputed:
                problems.append(
                    {
                        "index": index,
                        "problem": "altered",
                        "message": f"条目 #{index} 的内容与其存证哈希不符（已被改动）",
                    }
                )
            leaf_hashes.append(recomputed)
            expected += 1
    checkpoint = latest_checkpoint()
    if checkpoint is not None:
        if checkpoint.tree_size > len(leaf_hashes):
            problems.append({"index": None, "problem": "truncated", "message": "日志条目少于已签名检查点的树大小"})
        else:
            recomputed_root = merkle.root_from_leaf_hashes(leaf_hashes[: checkpoint.tree_size])
            if recomputed_root.hex() != checkpoint.root_hash:
                problems.append(
                    {
                        "index": None,
                        "problem": "root_mismatch",
                        "message": f"重算的根哈希与检查点（大小 {checkpoint.tree_size}）不符",
                    }
                )
            try:
                checkpoint_mod.parse_and_verify(checkpoint.note, verifier_key())
            except checkpoint_mod.CheckpointError as exc:
                problems.append({"index": None, "problem": "bad_signature", "message": f"检查点签名无效：{exc}"})
    run = LedgerAuditRun.objects.create(
        tree_size=size,
        checkpoint_size=checkpoint.tree_size if checkpoint else None,
        ok=not problems,
        problems=problems,
    )
    return run


def leaf_b64(entry: LedgerEntry) -> str:
    return base64.b64encode(entry.leaf_data.encode()).decode()


def entries_in_scope(scope: str) -> dict[tuple[str, str], LedgerEntry]:
    """(record type, record id) -> its latest entry, for showing "已存证" beside records."""
    result: dict[tuple[str, str], LedgerEntry] = {}
    for entry in LedgerEntry.objects.filter(scope=scope).order_by("index"):
        result[(entry.record_type, entry.record_id)] = entry
    return result


def failed_audit() -> LedgerAuditRun | None:
    """The latest self-audit run if it found problems (shown as an alarm to the bureau until a clean run)."""
    latest = LedgerAuditRun.objects.first()
    return latest if latest is not None and not latest.ok else None
