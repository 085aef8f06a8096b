"""Signed checkpoints: C2SP tlog-checkpoint bodies inside C2SP signed notes, Ed25519 keys. No Django.

A checkpoint note looks like::

    <origin>
    <tree size, decimal>
    <root hash, standard base64>
    [extension lines]

    — <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>

Keys use the golang.org/x/mod/sumdb/note encodings (c2sp.org/signed-note):

* verifier key ``<name>+<key id, 8 hex digits>+<base64(0x01 || 32-byte public key)>``
* signer key ``PRIVATE+KEY+<name>+<key id, 8 hex digits>+<base64(0x01 || 32-byte seed)>``
* key id = SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian.

Every problem met while checking a note (bad format, no signature from the trusted key, bad signature)
raises ``CheckpointError``, whose ``reason`` says what was wrong. It subclasses ``ValueError``; malformed
arguments to the signing functions raise it too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "checkpoint_body",
    "generate_signer",
    "key_id",
    "key_id_hex",
    "open_note",
    "parse_and_verify",
    "sign_checkpoint",
    "sign_note",
    "verifier_from_signer",
]

ALG_ED25519 = 0x01
SIGNATURE_PREFIX = "— "  # em dash U+2014, space
# The note spec asks verifiers to cap signatures (and accept at least 16); golang.org/x/mod uses 100.
MAX_SIGNATURES = 100
_SIZE_RE = re.compile(r"0|[1-9][0-9]*")
_HEX8_RE = re.compile(r"[0-9a-fA-F]{8}")


class CheckpointError(ValueError):
    """A note, checkpoint or key could not be used; ``reason`` is a short English explanation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Checkpoint:
    """A verified checkpoint (c2sp.org/tlog-checkpoint)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Verifier:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey


# --- keys ----------------------------------------------------------------------------------------------


def key_id(name: str, public_key: bytes) -> bytes:
    """Ed25519 key id per c2sp.org/signed-note: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _valid_name(name: str) -> bool:
    # Non-empty, no Unicode white space, no "+" (signed-note "Format").
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _valid_name(name) or not _printable(name):
        raise CheckpointError(f"invalid key name {name!r}: must be non-empty, without spaces or '+'")
    return name


def _printable(text: str) -> bool:
    return not any(ord(ch) < 0x20 and ch != "\n" for ch in text)


def _b64decode_canonical(text: str, what: str) -> bytes:
    """Standard base64, rejecting anything that does not re-encode to the same text.

    Without this, flipping the unused low bits of the last character would leave a signature or hash
    readable but the note text different, so a changed byte could go unnoticed.
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise CheckpointError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointError(f"{what} is not canonical base64")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _public_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def generate_signer(name: str) -> tuple[str, str]:
    """New Ed25519 key pair for ``name``: ``(signer_key, verifier_key)`` strings (sumdb/note encodings).

    The signer key is secret; publish the verifier key.
    """
    _check_name(name)
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = _public_bytes(private.public_key())
    kid = key_id(name, public).hex()
    signer = f"PRIVATE+KEY+{name}+{kid}+{_b64(bytes([ALG_ED25519]) + seed)}"
    verifier = f"{name}+{kid}+{_b64(bytes([ALG_ED25519]) + public)}"
    return signer, verifier


def _parse_signer(signer_key: str) -> tuple[str, bytes, Ed25519PrivateKey]:
    if not isinstance(signer_key, str):
        raise CheckpointError("signer key must be a string")
    parts = signer_key.strip().split("+", 4)  # the base64 key may itself contain "+"
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise CheckpointError("signer key must look like PRIVATE+KEY+<name>+<key id>+<key>")
    name, kid_hex, data = _check_name(parts[2]), parts[3], parts[4]
    if not _HEX8_RE.fullmatch(kid_hex):
        raise CheckpointError("signer key id must be 8 hex digits")
    raw = _b64decode_canonical(data, "signer key")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise CheckpointError("signer key is not an Ed25519 (type 0x01) seed")
    private = Ed25519PrivateKey.from_private_bytes(raw[1:])
    kid = key_id(name, _public_bytes(private.public_key()))
    if kid != bytes.fromhex(kid_hex):
        raise CheckpointError("signer key id does not match its key")
    return name, kid, private


def _parse_verifier(verifier_key: str) -> _Verifier:
    if not isinstance(verifier_key, str):
        raise CheckpointError("verifier key must be a string")
    parts = verifier_key.strip().split("+", 2)
    if len(parts) != 3:
        raise CheckpointError("verifier key must look like <name>+<key id>+<key>")
    name, kid_hex, data = _check_name(parts[0]), parts[1], parts[2]
    if not _HEX8_RE.fullmatch(kid_hex):
        raise CheckpointError("verifier key id must be 8 hex digits")
    raw = _b64decode_canonical(data, "verifier key")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise CheckpointError("verifier key is not an Ed25519 (type 0x01) public key")
    kid = key_id(name, raw[1:])
    if kid != bytes.fromhex(kid_hex):
        raise CheckpointError("verifier key id does not match its key")
    try:
        public = Ed25519PublicKey.from_public_bytes(raw[1:])
    except ValueError:
        raise CheckpointError("verifier key is not a valid Ed25519 public key") from None
    return _Verifier(name, kid, public)


def verifier_from_signer(signer_key: str) -> str:
    """The verifier key string that matches a signer key string."""
    name, kid, private = _parse_signer(signer_key)
    return f"{name}+{kid.hex()}+{_b64(bytes([ALG_ED25519]) + _public_bytes(private.public_key()))}"


def key_id_hex(verifier_key: str) -> str:
    """The 8-hex-digit key id of a (valid) verifier key string, e.g. for storing beside a checkpoint."""
    return _parse_verifier(verifier_key).key_id.hex()


# --- signed notes ----------------------------------------------------------------------------------------


def sign_note(text: str, signer_key: str) -> str:
    """Sign ``text`` (must end in a newline) as a c2sp.org/signed-note with one Ed25519 signature."""
    name, kid, private = _parse_signer(signer_key)
    if not isinstance(text, str) or not text.endswith("\n") or not _printable(text):
        raise CheckpointError("note text must end in a newline and contain no control characters")
    signature = private.sign(text.encode("utf-8"))
    return f"{text}\n{SIGNATURE_PREFIX}{name} {_b64(kid + signature)}\n"


def open_note(note: str | bytes, verifier_key: str) -> str:
    """Verify a signed note against one trusted key and return its text (with the final newline).

    Signatures by other keys are ignored, as c2sp.org/signed-note requires; the note is rejected if the
    trusted key's signature is missing or any signature claiming to be by it fails to verify.
    """
    verifier = _parse_verifier(verifier_key)
    if isinstance(note, bytes | bytearray):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise CheckpointError("note is not valid UTF-8") from None
    if not isinstance(note, str):
        raise CheckpointError("note must be text")
    try:
        note.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        raise CheckpointError("note is not valid UTF-8") from None
    if not _printable(note):
        raise CheckpointError("note contains control characters")
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise CheckpointError("note has no signature lines, or they do not end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"note has more than {MAX_SIGNATURES} signatures")
    trusted = f"{verifier.name}+{verifier.key_id.hex()}"
    verified = False
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError("signature line does not start with an em dash and a space")
        name, sep, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not sep or not _valid_name(name) or not b64:
            raise CheckpointError("malformed signature line")
        raw = _b64decode_canonical(b64, "signature")
        if len(raw) < 5:
            raise CheckpointError("signature too short")
        if name != verifier.name or raw[:4] != verifier.key_id:
            continue  # someone else's signature (e.g. a witness): ignored
        try:
            verifier.public_key.verify(raw[4:], text.encode("utf-8"))
        except InvalidSignature:
            raise CheckpointError(f"invalid signature by {trusted}") from None
        verified = True
    if not verified:
        raise CheckpointError(f"note is not signed by the trusted key {trusted}")
    return text


# --- checkpoints ---------------------------------------------------------------------------------------


def checkpoint_body(origin: str, size: int, root: bytes, extensions: Iterable[str] = ()) -> str:
    """The c2sp.org/tlog-checkpoint note text: origin, size, base64 root, extension lines; ends in newline."""
    if not isinstance(origin, str) or not origin or "\n" in origin or not _printable(origin):
        raise CheckpointError("origin must be a non-empty single line")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise CheckpointError("tree size must be a non-negative int")
    if not isinstance(root, bytes | bytearray) or len(root) != 32:
        raise CheckpointError("root hash must be 32 bytes")
    lines = [origin, str(size), _b64(bytes(root))]
    for ext in extensions:
        if not isinstance(ext, str) or not ext or "\n" in ext or not _printable(ext):
            raise CheckpointError("extension lines must be non-empty single lines")
        lines.append(ext)
    return "\n".join(lines) + "\n"


def sign_checkpoint(
    origin: str,
    size: int,
    root: bytes,
    signer_key: str,
    extensions: Iterable[str] = (),
) -> str:
    """A signed checkpoint note for the tree (size, root) of the log ``origin``."""
    return sign_note(checkpoint_body(origin, size, root, extensions), signer_key)


def parse_and_verify(note_text: str | bytes, verifier_key: str) -> Checkpoint:
    """Verify a checkpoint note's signature with ``verifier_key`` and parse its body.

    Raises ``CheckpointError`` on any problem: malformed note or key, missing or invalid signature, or a
    body that is not a tlog-checkpoint (origin, decimal size without leading zeros, base64 32-byte root,
    non-empty extension lines).
    """
    text = open_note(note_text, verifier_key)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint needs origin, tree size and root hash lines")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise CheckpointError("checkpoint origin is empty")
    if not _SIZE_RE.fullmatch(size_text):
        raise CheckpointError(f"checkpoint tree size {size_text!r} is not a decimal number")
    root = _b64decode_canonical(root_text, "checkpoint root hash")
    if len(root) != 32:
        raise CheckpointError("checkpoint root hash is not 32 bytes")
    if any(not ext for ext in extensions):
        raise CheckpointError("checkpoint has an empty extension line")
    return Checkpoint(origin=origin, size=int(size_text), root_hash=root, extensions=tuple(extensions))
