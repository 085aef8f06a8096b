"""The evidence log on the database: appends, proofs against signed checkpoints, tamper detection."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.db import connection
from django.test import Client

from jianguan.accounts.models import ApiToken, User
from jianguan.ledger import merkle, services
from jianguan.ledger.bundle import verify_bundle
from jianguan.ledger.models import LedgerEntry
from jianguan.projects import lifecycle
from jianguan.projects import services as project_services
from jianguan.projects.models import State
from jianguan.testing import factories as f
from jianguan.testing import files


def items(n, start=0):
    return [services.Item("test", "tests.thing", str(i), {"n": i, "名称": f"记录{i}"}) for i in range(start, start + n)]


@pytest.fixture
def ledger(db, settings, tmp_path):
    settings.LEDGER_SIGNING_KEY_FILE = str(tmp_path / "ledger.key")
    return services


def test_batched_and_single_appends_build_the_rfc6962_tree(ledger):
    ledger.append_many(items(37))
    for i in range(37, 45):
        ledger.append("test", "tests.thing", i, {"n": i})
    entries = list(LedgerEntry.objects.order_by("index"))
    assert [e.index for e in entries] == list(range(45))
    leaves = [merkle.leaf_hash(e.leaf_data.encode()) for e in entries]
    for size in (1, 2, 7, 8, 37, 45):
        assert ledger.root_hash(size) == merkle.root_from_leaf_hashes(leaves[:size])
    root = ledger.root_hash(45)
    for index in (0, 17, 44):
        proof = ledger.inclusion_proof(index, 45)
        assert merkle.verify_inclusion(leaves[index], index, 45, proof, root)
    old_root = ledger.root_hash(13)
    assert merkle.verify_consistency(13, 45, old_root, root, ledger.consistency_proof(13, 45))


def test_leaf_data_is_canonical_json(ledger):
    entry = ledger.append("test", "tests.thing", 1, {"b": 1, "a": "临沂"})
    data = json.loads(entry.leaf_data)
    assert data["content"] == {"a": "临沂", "b": 1}
    assert entry.leaf_data == services.canonical_json(data)


def test_checkpoint_bundle_verifies_offline(ledger, tmp_path):
    ledger.append_many(items(10))
    cp = ledger.sign_checkpoint()
    assert cp.tree_size == 10 and cp.note.splitlines()[1] == "10"
    assert ledger.sign_checkpoint().pk == cp.pk  # nothing new, nothing signed
    entry = LedgerEntry.objects.get(index=4)
    bundle = ledger.evidence_bundle(entry)
    assert verify_bundle(bundle, ledger.verifier_key()).ok
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    key = tmp_path / "key.pub"
    key.write_text(ledger.verifier_key())
    result = subprocess.run(
        [sys.executable, "-m", "jianguan", "ledger-verify", str(path), "--key", str(key)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},  # no Django settings, no database
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "存证有效" in result.stdout


def tamper(index: int, new_text: str) -> None:
    # Straight to the table, behind the application's back.
    with connection.cursor() as cursor:
        cursor.execute('UPDATE ledger_ledgerentry SET leaf_data = %s WHERE "index" = %s', [new_text, index])


def test_tampered_entry_is_named_by_self_audit_and_verifier(ledger, tmp_path):
    ledger.append_many(items(20))
    ledger.sign_checkpoint()
    entry = LedgerEntry.objects.get(index=7)
    bundle_before = ledger.evidence_bundle(entry)
    assert ledger.self_audit().ok

    tamper(7, entry.leaf_data.replace('"n":7', '"n":700'))
    run = ledger.self_audit()
    assert not run.ok
    assert any(p["index"] == 7 and p["problem"] == "altered" for p in run.problems)
    assert any(p["problem"] == "root_mismatch" for p in run.problems)
    # The alarm: every page shows it to the bureau's administrators, naming the entry.
    admin = f.UserFactory(role=User.Role.BUREAU_ADMIN)
    client = Client()
    client.force_login(admin)
    page = client.get("/projects/").content.decode()
    assert "存证日志自检告警" in page and "条目 #7" in page

    # The bundle served now carries the altered data: the offline verifier rejects it.
    bundle_after = ledger.evidence_bundle(LedgerEntry.objects.get(index=7))
    report = verify_bundle(bundle_after, ledger.verifier_key())
    assert not report.ok
    assert bundle_before != bundle_after
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle_after))
    result = subprocess.run(
        [sys.executable, "-m", "jianguan", "ledger-verify", str(path), "--key", ledger.verifier_key()],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "✗" in result.stdout


def test_uploads_and_transitions_are_recorded(ledger):
    project = f.staffed_project(state=State.DRAFT)
    user = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=project.applicant)
    version = project_services.upload_document(user, project, kind="contract", file_name="c.pdf", content=files.PDF)
    lifecycle.perform(project, "submit", user)
    kinds = list(LedgerEntry.objects.order_by("index").values_list("kind", flat=True))
    assert kinds == ["document_version", "transition", "transition"]
    doc_entry = services.entries_for("projects.documentversion", version.pk).get()
    assert json.loads(doc_entry.leaf_data)["content"]["sha256"] == version.sha256


def test_api_public_hashes_private_data(ledger):
    project = f.staffed_project(state=State.DRAFT)
    owner = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=project.applicant)
    project_services.upload_document(owner, project, kind="contract", file_name="c.pdf", content=files.PDF)
    anon = Client()
    assert anon.get("/api/ledger/checkpoint").status_code == 404
    admin = f.UserFactory(role=User.Role.BUREAU_ADMIN)
    _, key = ApiToken.issue(admin, "t")
    signed = Client(HTTP_AUTHORIZATION=f"Bearer {key}").post("/api/ledger/checkpoints")
    assert signed.status_code == 201
    assert anon.post("/api/ledger/checkpoints").status_code == 401
    body = anon.get("/api/ledger/checkpoint").json()
    assert body["tree_size"] == 1
    assert anon.get("/api/ledger/checkpoint.txt").content.decode() == body["note"]
    entry = anon.get("/api/ledger/entries/0").json()
    assert entry["leaf_data"] is None and len(entry["leaf_hash"]) == 64
    assert anon.get("/api/ledger/entries/0/bundle").status_code == 401
    _, okey = ApiToken.issue(owner, "t")
    owner_client = Client(HTTP_AUTHORIZATION=f"Bearer {okey}")
    assert owner_client.get("/api/ledger/entries/0").json()["leaf_data"]
    bundle = owner_client.get("/api/ledger/entries/0/bundle")
    assert bundle.status_code == 200
    assert verify_bundle(
        json.loads(bundle.content), anon.get("/.well-known/jianguan-ledger-key").content.decode().strip()
    ).ok
    stranger = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=f.EnterpriseFactory())
    _, skey = ApiToken.issue(stranger, "t")
    assert Client(HTTP_AUTHORIZATION=f"Bearer {skey}").get("/api/ledger/entries/0/bundle").status_code == 403
    assert anon.get("/api/ledger/proof/inclusion?index=0&tree_size=1").json()["proof"] == []
    assert anon.get("/api/ledger/proof/inclusion?index=3&tree_size=1").status_code == 422
    assert anon.get("/api/ledger/proof/consistency?first=1&second=1").json()["proof"] == []


def test_checkpoints_and_self_audit_are_scheduled(ledger):
    from huey.contrib.djhuey import HUEY

    from jianguan.ledger import tasks

    names = {task.name for task in HUEY._registry.periodic_tasks}
    assert {"sign_checkpoint_periodically", "nightly_self_audit"} <= names
    ledger.append_many(items(3))
    tasks.sign_checkpoint_periodically.call_local()
    assert ledger.latest_checkpoint().tree_size == 3
    tasks.nightly_self_audit.call_local()
    assert ledger.failed_audit() is None
