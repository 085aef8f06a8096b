"""Protection of ID numbers at rest: encrypted (Fernet), looked up by keyed hash, shown masked."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet
from django.conf import settings


def _key_material() -> bytes:
    # A dedicated key lets operators rotate SECRET_KEY without losing the ID numbers.
    return (settings.FIELD_ENCRYPTION_KEY or settings.SECRET_KEY).encode()


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"jianguan-field-encryption\x00" + _key_material()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def lookup_hash(value: str) -> str:
    key = hashlib.sha256(b"jianguan-lookup\x00" + _key_material()).digest()
    return hmac.new(key, value.upper().encode(), hashlib.sha256).hexdigest()
