"""Evidence bundles: one log entry plus everything needed to check it offline. No Django.

A bundle is a JSON-serialisable dict::

    {
      "format": "jianguan-evidence/1",
      "entry": {"index": 7, "leaf_data_b64": "<standard base64 of the entry's bytes>"},
      "inclusion_proof": ["<hex>", ...],      # RFC 6962 §2.1.1 audit path, leaf end first
      "tree_size": 20,
      "checkpoint": "<signed checkpoint note text>"
    }

``verify_bundle`` checks, without network or database: the checkpoint's signature against the published
verifier key, that the bundle's tree size is the checkpoint's, the entry's leaf hash, and the inclusion
proof from that leaf hash to the checkpoint's root. It never raises: whatever is wrong with the bundle
shows up as a failed check in the report.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import checkpoint as checkpoint_mod
from . import merkle

__all__ = ["FORMAT", "Check", "VerificationReport", "build_bundle", "verify_bundle"]

FORMAT = "jianguan-evidence/1"
_HEX64_RE = re.compile(r"[0-9a-fA-F]{64}")
# A proof for a tree of 2**64 leaves has 64 hashes; refuse to process more.
_MAX_PROOF_LEN = 64


@dataclass(frozen=True)
class Check:
    """One verification step. ``label_zh`` is a short Chinese verdict for the UI, ``message`` English."""

    name: str
    ok: bool
    label_zh: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "label_zh": self.label_zh, "message": self.message}


@dataclass
class VerificationReport:
    """The outcome of ``verify_bundle``: every check in order, plus the facts established on the way."""

    checks: list[Check] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True only when every check was made and passed."""
        return bool(self.checks) and all(check.ok for check in self.checks)

    def add(self, name: str, ok: bool, label_ok: str, label_failed: str, message: str) -> bool:
        self.checks.append(Check(name, ok, label_ok if ok else label_failed, message))
        return ok

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [check.as_dict() for check in self.checks],
            "facts": dict(self.facts),
        }


def build_bundle(
    *, index: int, leaf_data: bytes, tree_size: int, proof: Sequence[bytes], checkpoint_note: str
) -> dict[str, Any]:
    """Assemble a bundle for the entry at ``index`` whose leaf is SHA-256(0x00 || leaf_data).

    ``proof`` is ``merkle.inclusion_proof(index, tree_size, store)`` and ``checkpoint_note`` a signed
    checkpoint of exactly ``tree_size`` leaves.
    """
    return {
        "format": FORMAT,
        "entry": {"index": index, "leaf_data_b64": base64.b64encode(bytes(leaf_data)).decode("ascii")},
        "inclusion_proof": [bytes(step).hex() for step in proof],
        "tree_size": tree_size,
        "checkpoint": checkpoint_note,
    }


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _parse(bundle: object) -> tuple[int, bytes, list[bytes], int, str] | str:
    """The bundle's fields, or an English description of the first thing wrong with them."""
    if not isinstance(bundle, Mapping):
        return f"the bundle is a {type(bundle).__name__}, not a JSON object"
    if bundle.get("format") != FORMAT:
        return f"unknown format {bundle.get('format')!r} (expected {FORMAT!r})"
    entry = bundle.get("entry")
    if not isinstance(entry, Mapping):
        return "'entry' is missing or not an object"
    index = entry.get("index")
    if not _is_count(index):
        return "'entry.index' is missing or not a non-negative integer"
    data_b64 = entry.get("leaf_data_b64")
    if not isinstance(data_b64, str):
        return "'entry.leaf_data_b64' is missing or not a string"
    try:
        data = base64.b64decode(data_b64.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return "'entry.leaf_data_b64' is not valid base64"
    tree_size = bundle.get("tree_size")
    if not _is_count(tree_size):
        return "'tree_size' is missing or not a non-negative integer"
    steps = bundle.get("inclusion_proof")
    if not isinstance(steps, list) or len(steps) > _MAX_PROOF_LEN:
        return f"'inclusion_proof' is missing or not a list of at most {_MAX_PROOF_LEN} hashes"
    if not all(isinstance(step, str) and _HEX64_RE.fullmatch(step) for step in steps):
        return "'inclusion_proof' holds something other than 64-digit hex hashes"
    note = bundle.get("checkpoint")
    if not isinstance(note, str) or not note:
        return "'checkpoint' is missing or not a string"
    return index, data, [bytes.fromhex(step) for step in steps], tree_size, note


def _verify(bundle: object, verifier_key: str, report: VerificationReport) -> None:
    parsed = _parse(bundle)
    if isinstance(parsed, str):
        report.add("format", False, "格式有效", "格式无效", f"Malformed evidence bundle: {parsed}.")
        return
    index, data, proof, tree_size, note = parsed
    report.add("format", True, "格式有效", "格式无效", f"Evidence bundle in format {FORMAT}.")
    report.facts.update(index=index, tree_size=tree_size)

    # 1. The checkpoint must carry a valid signature by the trusted key.
    try:
        cp = checkpoint_mod.parse_and_verify(note, verifier_key)
    except checkpoint_mod.CheckpointError as exc:
        cp = None
        report.add("signature", False, "签名有效", "签名无效", f"Checkpoint rejected: {exc.reason}.")
    else:
        report.facts.update(origin=cp.origin, checkpoint_size=cp.size, root_hash=cp.root_hash.hex())
        report.add(
            "signature",
            True,
            "签名有效",
            "签名无效",
            f"Checkpoint of {cp.origin} (size {cp.size}) is signed by the trusted key "
            f"{checkpoint_mod.key_id_hex(verifier_key)}.",
        )

    # 2. The proof is for the checkpoint's tree, and the entry lies inside it.
    if cp is None:
        size_ok = False
        report.add("tree_size", False, "树大小一致", "树大小未核验", "Not checked: no verified checkpoint.")
    elif tree_size != cp.size:
        size_ok = False
        report.add(
            "tree_size",
            False,
            "树大小一致",
            "树大小不一致",
            f"The bundle claims tree size {tree_size} but the checkpoint is for size {cp.size}.",
        )
    elif index >= tree_size:
        size_ok = False
        report.add(
            "tree_size",
            False,
            "树大小一致",
            "条目不在树内",
            f"Entry #{index} is outside a tree of {tree_size} entries.",
        )
    else:
        size_ok = True
        message = f"Tree size {tree_size} matches the checkpoint."
        report.add("tree_size", True, "树大小一致", "树大小不一致", message)

    # 3. The leaf hash is recomputed from the entry's own bytes, never taken from the bundle.
    digest = merkle.leaf_hash(data)
    report.facts["leaf_hash"] = digest.hex()
    report.add(
        "leaf_hash",
        True,
        "条目哈希已计算",
        "条目哈希无法计算",
        f"Entry #{index}: {len(data)} bytes, leaf hash SHA-256(0x00 || data) = {digest.hex()}.",
    )

    # 4. The inclusion proof must lead from that leaf hash to the signed root.
    if cp is None or not size_ok:
        report.add(
            "inclusion",
            False,
            "包含证明有效",
            "包含证明未核验",
            "Not checked: the tree head is not verified.",
        )
    elif merkle.verify_inclusion(digest, index, tree_size, proof, cp.root_hash):
        report.add(
            "inclusion",
            True,
            "包含证明有效",
            "包含证明无效",
            f"Entry #{index} is included in the signed tree of {tree_size} entries: the record is unaltered.",
        )
    else:
        report.add(
            "inclusion",
            False,
            "包含证明有效",
            "包含证明无效",
            f"The inclusion proof does not lead from entry #{index} to the signed root: the entry's data or "
            "the proof has been altered.",
        )


def verify_bundle(bundle: Any, verifier_key: str) -> VerificationReport:
    """Check an evidence bundle offline against the log's verifier key. Never raises.

    Checks, in order: ``format``, ``signature`` (checkpoint signed by ``verifier_key``), ``tree_size``
    (bundle and checkpoint agree, entry inside the tree), ``leaf_hash`` (recomputed from the entry data),
    ``inclusion`` (RFC 9162 §2.1.3.2 proof to the checkpoint root). ``report.ok`` is True only if all pass.
    """
    report = VerificationReport()
    try:
        _verify(bundle, verifier_key, report)
    except Exception as exc:  # a verifier must report, not crash, whatever it is fed
        report.add("internal", False, "验证出错", "验证出错", f"Verification stopped unexpectedly: {exc!r}.")
    return report
