"""Signed checkpoints: C2SP tlog-checkpoint in a C2SP signed note, as golang.org/x/mod/sumdb/note does."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from jianguan.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    checkpoint_body,
    generate_signer,
    key_id,
    key_id_hex,
    open_note,
    parse_and_verify,
    sign_checkpoint,
    sign_note,
    verifier_from_signer,
)

ORIGIN = "ledger.jianguan.example/v1"
ROOT = hashlib.sha256(b"some root").digest()
SIGNER, VERIFIER = generate_signer(ORIGIN)

# The worked example in the golang.org/x/mod/sumdb/note package documentation (key pair, text, signed
# note). Ed25519 is deterministic, so our signer must reproduce the published note byte for byte.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "".join(
    [
        "If you think cryptography is the answer to your problem,\n",
        "then you don't know what your problem is.\n",
    ]
)
GO_NOTE = (
    GO_TEXT
    + "\n— PeterNeumann "
    + "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_round_trip():
    note = sign_checkpoint(ORIGIN, 12345, ROOT, SIGNER)
    assert parse_and_verify(note, VERIFIER) == Checkpoint(ORIGIN, 12345, ROOT, ())
    assert parse_and_verify(note.encode("utf-8"), VERIFIER).size == 12345
    body, _, signatures = note.partition("\n\n")
    assert body + "\n" == f"{ORIGIN}\n12345\n{base64.b64encode(ROOT).decode()}\n"
    assert re.fullmatch(r"— ledger\.jianguan\.example/v1 [A-Za-z0-9+/]{91}=\n", signatures)


def test_round_trip_with_extensions_and_empty_tree():
    empty_root = hashlib.sha256(b"").digest()
    note = sign_checkpoint(ORIGIN, 0, empty_root, SIGNER, extensions=["ext one", "时间 2025"])
    assert parse_and_verify(note, VERIFIER) == Checkpoint(ORIGIN, 0, empty_root, ("ext one", "时间 2025"))


def test_key_formats_and_key_id_derivation():
    assert re.fullmatch(r"PRIVATE\+KEY\+ledger\.jianguan\.example/v1\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}", SIGNER)
    assert re.fullmatch(r"ledger\.jianguan\.example/v1\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}", VERIFIER)
    assert verifier_from_signer(SIGNER) == VERIFIER
    # Key id recomputed here from the spec's formula: SHA-256(name || 0x0A || 0x01 || public key)[:4].
    name, kid, data = VERIFIER.split("+", 2)
    raw = base64.b64decode(data)
    assert raw[0] == 0x01 and len(raw) == 33
    expected = hashlib.sha256(name.encode() + b"\x0a" + b"\x01" + raw[1:]).digest()[:4]
    assert kid == expected.hex() == key_id_hex(VERIFIER) == key_id(name, raw[1:]).hex()
    # The signature line starts with the same four bytes.
    note = sign_checkpoint(ORIGIN, 1, ROOT, SIGNER)
    sig = base64.b64decode(note.rsplit(" ", 1)[1])
    assert sig[:4] == expected and len(sig) == 68


def test_key_id_of_a_known_key():
    # Independent value: the Go documentation's key pair carries its key id, c74f20a3.
    raw = base64.b64decode(GO_VERIFIER.split("+", 2)[2])
    assert hashlib.sha256(b"PeterNeumann\n" + raw).digest()[:4].hex() == "c74f20a3"
    assert key_id("PeterNeumann", raw[1:]).hex() == "c74f20a3"
    assert key_id_hex(GO_VERIFIER) == "c74f20a3"


def test_interoperates_with_go_sumdb_note():
    assert verifier_from_signer(GO_SIGNER) == GO_VERIFIER
    assert sign_note(GO_TEXT, GO_SIGNER) == GO_NOTE
    assert open_note(GO_NOTE, GO_VERIFIER) == GO_TEXT
    with pytest.raises(CheckpointError, match="origin, tree size and root hash"):
        parse_and_verify(GO_NOTE, GO_VERIFIER)  # a valid note, but not a checkpoint


def test_any_changed_byte_is_rejected():
    note = sign_checkpoint(ORIGIN, 987654321, ROOT, SIGNER, extensions=["ext"]).encode("utf-8")
    parse_and_verify(note, VERIFIER)
    for position in range(len(note)):
        for mask in (0x01, 0x20, 0x80):
            tampered = bytearray(note)
            tampered[position] ^= mask
            with pytest.raises(CheckpointError):
                parse_and_verify(bytes(tampered), VERIFIER)


def test_wrong_keys_are_rejected():
    note = sign_checkpoint(ORIGIN, 5, ROOT, SIGNER)
    _, same_name_other_key = generate_signer(ORIGIN)
    _, other_name = generate_signer("other.example/log")
    with pytest.raises(CheckpointError, match="not signed by the trusted key"):
        parse_and_verify(note, same_name_other_key)
    with pytest.raises(CheckpointError, match="not signed by the trusted key"):
        parse_and_verify(note, other_name)


def test_foreign_signatures_are_ignored_but_not_trusted():
    note = sign_checkpoint(ORIGIN, 5, ROOT, SIGNER)
    witness_signer, witness_verifier = generate_signer("witness.example/w1")
    witness_line = sign_checkpoint(ORIGIN, 5, ROOT, witness_signer).rsplit("\n\n", 1)[1]
    cosigned = note + witness_line
    assert parse_and_verify(cosigned, VERIFIER).size == 5
    assert parse_and_verify(cosigned, witness_verifier).size == 5
    body = note.rsplit("\n\n", 1)[0] + "\n\n"
    with pytest.raises(CheckpointError, match="not signed by the trusted key"):
        parse_and_verify(body + witness_line, VERIFIER)


def test_a_bad_signature_by_the_trusted_key_rejects_the_note():
    note = sign_checkpoint(ORIGIN, 5, ROOT, SIGNER)
    other = sign_checkpoint(ORIGIN, 6, ROOT, SIGNER)
    forged = note + other.rsplit("\n\n", 1)[1]  # a second, valid-looking line by our key over other text
    with pytest.raises(CheckpointError, match="invalid signature"):
        parse_and_verify(forged, VERIFIER)
    swapped = other.rsplit("\n\n", 1)[0] + "\n\n" + note.rsplit("\n\n", 1)[1]
    with pytest.raises(CheckpointError, match="invalid signature"):
        parse_and_verify(swapped, VERIFIER)


def signed(body: str) -> str:
    return sign_note(body, SIGNER)


B64_ROOT = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        (f"{ORIGIN}\n5\n{B64_ROOT}\n", "blank line"),
        (signed(f"{ORIGIN}\n5\n{B64_ROOT}\n")[:-1], "newline"),
        (signed(f"{ORIGIN}\n5\n{B64_ROOT}\n").replace("— ", "-- "), "em dash"),
        (signed(f"{ORIGIN}\n5\n{B64_ROOT}\n").replace("\n5\n", "\n5\t\n"), "control"),
        (signed(f"{ORIGIN}\n05\n{B64_ROOT}\n"), "decimal"),
        (signed(f"{ORIGIN}\n-5\n{B64_ROOT}\n"), "decimal"),
        (signed(f"{ORIGIN}\n5\n"), "origin, tree size and root hash"),
        (signed(f"\n5\n{B64_ROOT}\n"), "origin is empty"),
        (signed(f"{ORIGIN}\n5\n{base64.b64encode(ROOT[:31]).decode()}\n"), "32 bytes"),
        (signed(f"{ORIGIN}\n5\n{B64_ROOT[:-2]}9=\n"), "canonical"),
        (signed(f"{ORIGIN}\n5\n{ROOT.hex()}\n"), "32 bytes"),  # hex happens to be valid base64
        (signed(f"{ORIGIN}\n5\n{B64_ROOT[:-1]}\n"), "base64"),
        (signed(f"{ORIGIN}\n5\n{B64_ROOT.replace('=', '*')}\n"), "base64"),
        (signed(f"{ORIGIN}\n5\n{B64_ROOT}\next\n\nmore\n"), "empty extension"),
        (signed(f"{ORIGIN}\n5\n{B64_ROOT}\n") + "— x AAAAAAA=\n" * 100, "more than 100"),
        ("", "blank line"),
        (None, "text"),
    ],
)
def test_malformed_notes(note, reason):
    with pytest.raises(CheckpointError, match=reason) as info:
        parse_and_verify(note, VERIFIER)
    assert info.value.reason == str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "no-plus",
        VERIFIER.replace("+", "+0", 1)[:-1],
        VERIFIER.split("+")[0] + "+00000000+" + VERIFIER.split("+", 2)[2],  # wrong key id
        "other+" + VERIFIER.split("+", 1)[1],  # key id belongs to another name
        VERIFIER.split("+", 2)[0] + "+" + VERIFIER.split("+", 2)[1] + "+AgAA",  # not Ed25519
        SIGNER,
        "bad name+12345678+AQ==",
    ],
    # Stable ids: the key is generated per process, and pytest-xdist workers must collect the same names.
    ids=["empty", "no-plus", "bad-key-id-length", "wrong-key-id", "other-name", "not-ed25519", "signer", "bad-name"],
)
def test_malformed_verifier_keys(key):
    note = sign_checkpoint(ORIGIN, 5, ROOT, SIGNER)
    with pytest.raises(CheckpointError):
        parse_and_verify(note, key)


def test_signing_rejects_bad_arguments():
    for args in [
        ("", 1, ROOT),
        ("two\nlines", 1, ROOT),
        (ORIGIN, -1, ROOT),
        (ORIGIN, True, ROOT),
        (ORIGIN, 1, ROOT[:16]),
        (ORIGIN, 1, ROOT.hex()),
    ]:
        with pytest.raises(CheckpointError):
            sign_checkpoint(*args, SIGNER)
    with pytest.raises(CheckpointError):
        sign_checkpoint(ORIGIN, 1, ROOT, SIGNER, extensions=["a\nb"])
    with pytest.raises(CheckpointError):
        sign_checkpoint(ORIGIN, 1, ROOT, SIGNER, extensions=[""])
    with pytest.raises(CheckpointError):
        sign_checkpoint(ORIGIN, 1, ROOT, VERIFIER)
    with pytest.raises(CheckpointError):  # key id in the signer key does not match its seed
        sign_checkpoint(ORIGIN, 1, ROOT, SIGNER.replace(SIGNER.split("+")[3], "00000000"))
    with pytest.raises(CheckpointError):
        sign_note("no final newline", SIGNER)
    with pytest.raises(CheckpointError):
        generate_signer("has space")
    with pytest.raises(CheckpointError):
        generate_signer("has+plus")


def test_signer_keys_from_elsewhere_work():
    seed = bytes(range(32))
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    kid = hashlib.sha256(b"demo\n\x01" + public).digest()[:4].hex()
    seed_b64 = base64.b64encode(b"\x01" + seed).decode()
    public_b64 = base64.b64encode(b"\x01" + public).decode()
    signer = f"PRIVATE+KEY+demo+{kid}+{seed_b64}"
    assert verifier_from_signer(signer) == f"demo+{kid}+{public_b64}"
    verifier = verifier_from_signer(signer)
    assert parse_and_verify(sign_checkpoint("demo", 3, ROOT, signer), verifier).size == 3


origins = st.text(
    alphabet=st.characters(blacklist_categories=["Cc", "Cs", "Zs", "Zl", "Zp"]), min_size=1, max_size=40
).filter(lambda s: "\n" not in s)
extension_lines = st.lists(
    st.text(alphabet=st.characters(blacklist_categories=["Cc", "Cs"]), min_size=1, max_size=30), max_size=3
)


@settings(max_examples=100, deadline=None)
@given(origins, st.integers(0, 2**63), st.binary(min_size=32, max_size=32), extension_lines)
def test_round_trip_property(origin, size, root, extensions):
    note = sign_checkpoint(origin, size, root, SIGNER, extensions)
    assert note.startswith(checkpoint_body(origin, size, root, extensions) + "\n— ")
    assert parse_and_verify(note, VERIFIER) == Checkpoint(origin, size, root, tuple(extensions))
