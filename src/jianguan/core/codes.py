"""Chinese identity codes: unified social credit code (GB 32100-2015) and citizen ID number (GB 11643-1999).

Pure Python. Facts from ../shared/domain/README.md ("Identity codes").
"""

from __future__ import annotations

import datetime as dt
import re


class CodeError(ValueError):
    """An identity code is malformed or its check character does not match."""


# --- USCC, GB 32100-2015 -------------------------------------------------------------------------------
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
USCC_VALUES = {c: i for i, c in enumerate(USCC_ALPHABET)}
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    if len(first17) != 17 or any(c not in USCC_VALUES for c in first17):
        raise CodeError("统一社会信用代码前17位须为合法字符 / the first 17 characters must be from the code alphabet")
    total = sum(USCC_VALUES[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    value = 31 - total % 31
    return USCC_ALPHABET[0 if value == 31 else value]


def validate_uscc(code: str) -> str:
    """Returns the normalised (upper-case, stripped) code or raises CodeError."""
    if not isinstance(code, str):
        raise CodeError("统一社会信用代码须为字符串 / the code must be a string")
    normalised = code.strip().upper()
    if len(normalised) != 18:
        raise CodeError(f"统一社会信用代码应为18位，实际{len(normalised)}位 / the code must have 18 characters")
    bad = sorted({c for c in normalised if c not in USCC_VALUES})
    if bad:
        raise CodeError(f"统一社会信用代码含非法字符：{''.join(bad)} / invalid characters")
    if uscc_check_char(normalised[:17]) != normalised[17]:
        raise CodeError("统一社会信用代码校验位不正确 / the check character does not match")
    return normalised


def is_valid_uscc(code: str) -> bool:
    try:
        validate_uscc(code)
    except CodeError:
        return False
    return True


def make_uscc(prefix17: str) -> str:
    """The full code for 17 given characters (demo and test data)."""
    prefix17 = prefix17.upper()
    return prefix17 + uscc_check_char(prefix17)


def uscc_division(code: str) -> str:
    """The 6-digit administrative-division code embedded at positions 3–8."""
    return validate_uscc(code)[2:8]


# --- Citizen ID number, GB 11643-1999 ------------------------------------------------------------------
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"  # index: (Σ digit × weight) mod 11
_ID_RE = re.compile(r"^\d{17}[\dX]$")


def id_check_char(first17: str) -> str:
    if len(first17) != 17 or not first17.isdigit():
        raise CodeError("身份证号前17位须为数字 / the first 17 characters must be digits")
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def _birth(code: str) -> dt.date:
    try:
        return dt.date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError as exc:
        raise CodeError("身份证号中的出生日期无效 / invalid birth date") from exc


def validate_id_number(code: str, today: dt.date | None = None) -> str:
    """Returns the normalised (upper-case X) number or raises CodeError."""
    if not isinstance(code, str):
        raise CodeError("身份证号须为字符串 / the ID number must be a string")
    normalised = code.strip().upper()
    if len(normalised) != 18:
        raise CodeError(f"身份证号应为18位，实际{len(normalised)}位 / the ID number must have 18 characters")
    if not _ID_RE.match(normalised):
        raise CodeError("身份证号格式不正确 / the ID number must be 17 digits and a digit or X")
    birth = _birth(normalised)
    today = today or dt.date.today()
    if birth.year < 1900 or birth > today:
        raise CodeError("身份证号中的出生日期不在合理范围 / the birth date is out of range")
    if id_check_char(normalised[:17]) != normalised[17]:
        raise CodeError("身份证号校验位不正确 / the check character does not match")
    return normalised


def is_valid_id_number(code: str) -> bool:
    try:
        validate_id_number(code)
    except CodeError:
        return False
    return True


def make_id_number(address6: str, birth: dt.date, seq: int) -> str:
    """A number with a valid check character (demo and test data). seq 1–999; odd = male."""
    if not (len(address6) == 6 and address6.isdigit()) or not 0 <= seq <= 999:
        raise CodeError("地址码须为6位数字，顺序码0–999")
    first17 = f"{address6}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def id_birth_date(code: str) -> dt.date:
    return _birth(validate_id_number(code))


def id_gender(code: str) -> str:
    """ "M" or "F" by the parity of the sequence code (odd = male)."""
    return "M" if int(validate_id_number(code)[16]) % 2 else "F"


# --- Mobile phone -----------------------------------------------------------------------------------
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def is_valid_mobile(phone: str) -> bool:
    return isinstance(phone, str) and bool(_MOBILE_RE.match(phone.strip()))
