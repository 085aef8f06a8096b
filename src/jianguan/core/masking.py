"""Masking of personal data for display. Pure Python (no Django).

Every function accepts anything (None, numbers, odd strings) and never raises. A value is partly shown
only when it has the expected shape; otherwise it is masked entirely (one '*' per character), because
showing too much of a malformed value is worse than showing too little.
"""

from __future__ import annotations

import re

MASK = "*"
_UNKNOWN = MASK * 6  # shown when a value cannot even be turned into text: its length is unknown too

# re.ASCII: only ASCII digits count as "the expected shape".
_ID_RE = re.compile(r"[0-9]{17}[0-9Xx]|[0-9]{15}", re.ASCII)  # 18-digit (GB 11643-1999) or old 15-digit
_PHONE_RE = re.compile(r"(\+?86[ -]?)?([0-9]{11})", re.ASCII)  # 11-digit number, optional +86 prefix


def _text(value: object) -> str | None:
    """The stripped text of value; '' for None; None when str() itself fails."""
    if value is None:
        return ""
    try:
        return str(value).strip()
    except Exception:  # a broken __str__ must not break a page that only wants to show a mask
        return None


def _full(text: str) -> str:
    return MASK * len(text)


def mask_id_number(value: object) -> str:
    """First 6 and last 4 visible: '371302199001011234' -> '371302********1234'; fully masked otherwise."""
    text = _text(value)
    if text is None:
        return _UNKNOWN
    if not _ID_RE.fullmatch(text):
        return _full(text)
    return text[:6] + MASK * (len(text) - 10) + text[-4:]


def mask_phone(value: object) -> str:
    """'13812345678' -> '138****5678' (a '+86' prefix is kept); anything else fully masked."""
    text = _text(value)
    if text is None:
        return _UNKNOWN
    m = _PHONE_RE.fullmatch(text)
    if not m:
        return _full(text)
    prefix, number = m.group(1) or "", m.group(2)
    return prefix + number[:3] + MASK * 4 + number[-4:]


def mask_name(value: object) -> str:
    """The first character kept: '张三丰' -> '张**'; a one-character name is fully masked ('*')."""
    text = _text(value)
    if text is None:
        return _UNKNOWN
    if len(text) <= 1:
        return _full(text)
    return text[0] + MASK * (len(text) - 1)
