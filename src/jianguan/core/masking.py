"""Masking of personal data for display. Never raises: when unsure, masks everything."""

from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """First 6 and last 4 visible: 371302********1234."""
    if not value:
        return ""
    value = str(value).strip()
    if len(value) < 12:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """138****5678."""
    if not value:
        return ""
    value = str(value).strip()
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str:
    """张** — keeps the first character."""
    if not value:
        return ""
    value = str(value).strip()
    return value[:1] + "*" * (len(value) - 1) if len(value) > 1 else "*"
