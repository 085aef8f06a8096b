"""Evidence bundles: built from the store, verified offline, every kind of breakage reported (not raised)."""

from __future__ import annotations

import base64
import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jianguan.ledger.bundle import FORMAT, build_bundle, verify_bundle
from jianguan.ledger.checkpoint import generate_signer, sign_checkpoint
from jianguan.ledger.merkle import InMemoryNodeStore, append_leaves, inclusion_proof, leaf_hash, root_hash

ORIGIN = "ledger.jianguan.example/v1"
SIGNER, VERIFIER = generate_signer(ORIGIN)
ENTRIES = [json.dumps({"n": i, "名称": f"记录{i}"}, ensure_ascii=False).encode() for i in range(21)]
STORE = InMemoryNodeStore()
_nodes, SIZE = append_leaves(0, [leaf_hash(e) for e in ENTRIES], STORE)
STORE.put_nodes(_nodes)
NOTE = sign_checkpoint(ORIGIN, SIZE, root_hash(SIZE, STORE), SIGNER)
CHECK_NAMES = ["format", "signature", "tree_size", "leaf_hash", "inclusion"]


def bundle_for(index: int, size: int = SIZE, note: str = NOTE) -> dict:
    return build_bundle(
        index=index,
        leaf_data=ENTRIES[index],
        tree_size=size,
        proof=inclusion_proof(index, size, STORE),
        checkpoint_note=note,
    )


def failed(report) -> list[str]:
    return [check.name for check in report.checks if not check.ok]


@pytest.mark.parametrize("index", range(SIZE))
def test_every_entry_verifies(index):
    bundle = json.loads(json.dumps(bundle_for(index)))  # survives JSON
    report = verify_bundle(bundle, VERIFIER)
    assert report.ok, report.as_dict()
    assert [c.name for c in report.checks] == CHECK_NAMES
    assert report.facts["leaf_hash"] == leaf_hash(ENTRIES[index]).hex()
    assert report.facts["root_hash"] == root_hash(SIZE, STORE).hex()


def test_bundle_shape():
    bundle = bundle_for(4)
    assert bundle == {
        "format": "jianguan-evidence/1",
        "entry": {"index": 4, "leaf_data_b64": base64.b64encode(ENTRIES[4]).decode()},
        "inclusion_proof": [h.hex() for h in inclusion_proof(4, SIZE, STORE)],
        "tree_size": SIZE,
        "checkpoint": NOTE,
    }


def test_report_is_readable_and_serialisable():
    report = verify_bundle(bundle_for(3), VERIFIER)
    labels = {c.name: c.label_zh for c in report.checks}
    assert labels["signature"] == "签名有效" and labels["inclusion"] == "包含证明有效"
    data = json.loads(json.dumps(report.as_dict(), ensure_ascii=False))
    assert data["ok"] is True and [c["name"] for c in data["checks"]] == CHECK_NAMES
    assert all(c["message"] for c in data["checks"])


def test_altered_entry_data_is_caught():
    bundle = bundle_for(7)
    bundle["entry"]["leaf_data_b64"] = base64.b64encode(ENTRIES[7].replace(b'"n": 7', b'"n": 700')).decode()
    report = verify_bundle(bundle, VERIFIER)
    assert not report.ok and failed(report) == ["inclusion"]
    assert [c.label_zh for c in report.checks if c.name == "inclusion"] == ["包含证明无效"]


def test_altered_proof_is_caught():
    bundle = bundle_for(7)
    bundle["inclusion_proof"][1] = "00" * 32
    assert failed(verify_bundle(bundle, VERIFIER)) == ["inclusion"]
    bundle = bundle_for(7)
    bundle["inclusion_proof"].pop()
    assert failed(verify_bundle(bundle, VERIFIER)) == ["inclusion"]


def test_tree_size_must_match_the_checkpoint():
    bundle = bundle_for(7)
    bundle["tree_size"] = SIZE - 1
    report = verify_bundle(bundle, VERIFIER)
    assert failed(report) == ["tree_size", "inclusion"]
    # A proof for a smaller tree against a checkpoint of another size: still refused.
    older = bundle_for(7, size=12)
    older["checkpoint"] = NOTE
    assert failed(verify_bundle(older, VERIFIER)) == ["tree_size", "inclusion"]


def test_entry_outside_the_tree():
    bundle = bundle_for(7)
    bundle["entry"]["index"] = SIZE + 3
    assert failed(verify_bundle(bundle, VERIFIER)) == ["tree_size", "inclusion"]


def test_checkpoint_must_be_signed_by_the_trusted_key():
    _, other_verifier = generate_signer(ORIGIN)
    report = verify_bundle(bundle_for(7), other_verifier)
    assert failed(report) == ["signature", "tree_size", "inclusion"]
    assert [c.label_zh for c in report.checks][1] == "签名无效"
    tampered = bundle_for(7)
    tampered["checkpoint"] = NOTE.replace(f"\n{SIZE}\n", f"\n{SIZE + 1}\n")
    assert failed(verify_bundle(tampered, VERIFIER)) == ["signature", "tree_size", "inclusion"]
    assert not verify_bundle(bundle_for(7), "not a key").ok


def test_checkpoint_signed_by_the_log_over_a_forged_root_is_caught():
    forged_note = sign_checkpoint(ORIGIN, SIZE, b"\x00" * 32, SIGNER)
    assert failed(verify_bundle(bundle_for(7, note=forged_note), VERIFIER)) == ["inclusion"]


GOOD = bundle_for(5)


def with_change(path: list, value) -> dict:
    bundle = copy.deepcopy(GOOD)
    target = bundle
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return bundle


@pytest.mark.parametrize(
    "bundle",
    [
        None,
        [],
        "{}",
        {},
        with_change(["format"], "jianguan-evidence/2"),
        with_change(["entry"], KeyError),
        with_change(["entry"], "x"),
        with_change(["entry", "index"], KeyError),
        with_change(["entry", "index"], True),
        with_change(["entry", "index"], -1),
        with_change(["entry", "index"], 5.0),
        with_change(["entry", "index"], "5"),
        with_change(["entry", "leaf_data_b64"], KeyError),
        with_change(["entry", "leaf_data_b64"], "not base64!"),
        with_change(["entry", "leaf_data_b64"], "中文"),
        with_change(["entry", "leaf_data_b64"], 12),
        with_change(["tree_size"], KeyError),
        with_change(["tree_size"], None),
        with_change(["tree_size"], False),
        with_change(["inclusion_proof"], KeyError),
        with_change(["inclusion_proof"], "00" * 32),
        with_change(["inclusion_proof"], ["zz" * 32]),
        with_change(["inclusion_proof"], ["00" * 31]),
        with_change(["inclusion_proof"], [" " + "00" * 32]),
        with_change(["inclusion_proof"], [None]),
        with_change(["inclusion_proof"], ["00" * 32] * 65),
        with_change(["checkpoint"], KeyError),
        with_change(["checkpoint"], ""),
        with_change(["checkpoint"], ["note"]),
    ],
)
def test_malformed_bundles_are_reported_not_raised(bundle):
    report = verify_bundle(bundle, VERIFIER)
    assert not report.ok
    assert report.checks[0].name == "format" and not report.checks[0].ok
    assert report.checks[0].label_zh == "格式无效" and report.checks[0].message.startswith("Malformed")
    json.dumps(report.as_dict())


def json_containers(children):
    return st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    json_containers,
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_arbitrary_json_never_raises(value):
    assert not verify_bundle(value, VERIFIER).ok


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        [
            ["format"],
            ["entry"],
            ["entry", "index"],
            ["entry", "leaf_data_b64"],
            ["tree_size"],
            ["inclusion_proof"],
            ["checkpoint"],
        ]
    ),
    json_values,
)
def test_any_changed_field_fails_and_never_raises(path, value):
    bundle = with_change(path, value)
    report = verify_bundle(bundle, VERIFIER)
    if bundle != GOOD:
        assert not report.ok


@settings(max_examples=100, deadline=None)
@given(st.integers(0, len(NOTE.encode()) - 1), st.integers(1, 255))
def test_any_changed_checkpoint_byte_fails(position, mask):
    raw = bytearray(NOTE.encode())
    raw[position] ^= mask
    bundle = copy.deepcopy(GOOD)
    bundle["checkpoint"] = raw.decode("utf-8", errors="replace")
    assert not verify_bundle(bundle, VERIFIER).ok


def test_format_constant():
    assert FORMAT == "jianguan-evidence/1"


def test_core_modules_import_without_django():
    """The offline verifier (and the tree maths) must run on bare Python: no Django import at all."""
    src = Path(__file__).resolve().parents[3]
    code = (
        "import sys\n"
        "import jianguan.ledger.merkle, jianguan.ledger.checkpoint, jianguan.ledger.bundle\n"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not bad, bad\n"
    )
    env = {"PYTHONPATH": str(src)}  # and no DJANGO_SETTINGS_MODULE
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    for name in ("merkle.py", "checkpoint.py", "bundle.py"):
        source = (src / "jianguan" / "ledger" / name).read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+django", source, re.MULTILINE), name
