"""Chinese identity codes: unified social credit code (GB 32100-2015), citizen ID number (GB 11643-1999)
and mainland mobile phone numbers.

Pure Python (no Django). The algorithms follow /work/shared/domain/README.md ("Identity codes").
Validators return the normalised code or raise CodeError (a ValueError) with a Chinese + English message;
a wrong check character is reported as invalid without revealing the expected one (that would turn the
validator into a check-character generator for guessed codes).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata


class CodeError(ValueError):
    """An identity code is malformed or its check character does not match."""


def _normalise(code: str, what_zh: str, what_en: str) -> str:
    if not isinstance(code, str):
        raise CodeError(f"{what_zh}须为字符串 / the {what_en} must be a string")
    # NFKC folds full-width input (e.g. "９１３５…", "ｘ") typed with Chinese IMEs into ASCII.
    return unicodedata.normalize("NFKC", code).strip().upper()


# --- Unified social credit code, GB 32100-2015 -------------------------------------------------------
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters, no I, O, Z, S, V; value = index
USCC_VALUES = {c: i for i, c in enumerate(USCC_ALPHABET)}
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_LENGTH = 18


def uscc_check_char(first17: str) -> str:
    """The check character (position 18) for the first 17 characters of a USCC."""
    if not isinstance(first17, str) or len(first17) != 17 or any(c not in USCC_VALUES for c in first17):
        raise CodeError("统一社会信用代码前17位含非法字符 / the first 17 characters must be code characters")
    total = sum(USCC_VALUES[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]  # a value of 31 becomes 0


def validate_uscc(code: str) -> str:
    """The normalised (NFKC, stripped, upper-case) code, or CodeError: length, characters, check character."""
    normalised = _normalise(code, "统一社会信用代码", "unified social credit code")
    if len(normalised) != USCC_LENGTH:
        raise CodeError(
            f"统一社会信用代码应为18位，实际为{len(normalised)}位 / "
            f"the unified social credit code must have 18 characters, not {len(normalised)}"
        )
    bad = "".join(sorted({c for c in normalised if c not in USCC_VALUES}))
    if bad:
        raise CodeError(
            f"统一社会信用代码含非法字符：{bad}（不使用 I、O、Z、S、V） / "
            f"the unified social credit code contains invalid characters: {bad}"
        )
    if uscc_check_char(normalised[:17]) != normalised[17]:
        raise CodeError(
            "统一社会信用代码校验位不正确，请核对代码 / "
            "the check character of the unified social credit code is invalid"
        )
    return normalised


def is_valid_uscc(code: object) -> bool:
    try:
        return isinstance(code, str) and bool(validate_uscc(code))
    except CodeError:
        return False


def make_uscc(prefix17: str) -> str:
    """The full code for 17 given characters, for demo and test data."""
    prefix17 = _normalise(prefix17, "统一社会信用代码前17位", "code prefix")
    return prefix17 + uscc_check_char(prefix17)


def uscc_division(code: str) -> str:
    """The 6-digit administrative-division code (GB/T 2260) of the registering authority, positions 3–8."""
    return validate_uscc(code)[2:8]


# --- Citizen ID number, GB 11643-1999 ----------------------------------------------------------------
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"  # ID_CHECK[(Σ digit × weight) mod 11]
ID_LENGTH = 18
ID_EARLIEST_BIRTH = dt.date(1900, 1, 1)
# re.ASCII: without it \d also matches other scripts' digits (e.g. "٣"), which int() would accept.
_ID_RE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_DIGITS17_RE = re.compile(r"[0-9]{17}", re.ASCII)
_ADDRESS_RE = re.compile(r"[0-9]{6}", re.ASCII)


def id_check_char(first17: str) -> str:
    """The check character (position 18) for the first 17 digits of a citizen ID number."""
    if not isinstance(first17, str) or not _DIGITS17_RE.fullmatch(first17):
        raise CodeError("身份证号前17位须为数字 / the first 17 characters of an ID number must be digits")
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def _birth(number: str) -> dt.date:
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise CodeError(
            f"身份证号中的出生日期{number[6:14]}无效 / the birth date in the ID number is not a real date"
        ) from exc


def validate_id_number(code: str, today: dt.date | None = None) -> str:
    """The normalised number (upper-case X), or CodeError: length, digits, birth date, check character.

    The birth date must be a real calendar date from 1900-01-01 up to ``today`` (default: the system date).
    """
    normalised = _normalise(code, "身份证号", "ID number")
    if len(normalised) != ID_LENGTH:
        raise CodeError(
            f"身份证号应为18位，实际为{len(normalised)}位 / "
            f"the ID number must have 18 characters, not {len(normalised)}"
        )
    if not _ID_RE.fullmatch(normalised):
        raise CodeError(
            "身份证号格式不正确：前17位须为数字，末位为数字或X / "
            "the ID number must be 17 digits followed by a digit or X"
        )
    birth = _birth(normalised)
    if not ID_EARLIEST_BIRTH <= birth <= (today or dt.date.today()):
        raise CodeError(
            "身份证号中的出生日期不在合理范围（1900年1月1日至今） / "
            "the birth date in the ID number is before 1900 or in the future"
        )
    if id_check_char(normalised[:17]) != normalised[17]:
        raise CodeError("身份证号校验位不正确，请核对号码 / the check character of the ID number is invalid")
    return normalised


def is_valid_id_number(code: object, today: dt.date | None = None) -> bool:
    try:
        return isinstance(code, str) and bool(validate_id_number(code, today))
    except CodeError:
        return False


def make_id_number(address6: str, birth: dt.date, seq: int) -> str:
    """A number with a correct check character, for demo and test data. ``seq`` 0–999: odd = male.

    Builds only: a birth date outside the range validate_id_number accepts is not refused here.
    """
    if not isinstance(address6, str) or not _ADDRESS_RE.fullmatch(address6):
        raise CodeError("地址码须为6位数字 / the address code must be 6 digits")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= 999:
        raise CodeError("顺序码须为0–999的整数 / the sequence code must be an integer from 0 to 999")
    first17 = f"{address6}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    return first17 + id_check_char(first17)


def id_birth_date(code: str) -> dt.date:
    """The birth date of a valid ID number (raises CodeError for an invalid one)."""
    return _birth(validate_id_number(code))


def id_gender(code: str) -> str:
    """'M' or 'F' by the parity of the sequence code's last digit (odd = male)."""
    return "M" if int(validate_id_number(code)[16]) % 2 else "F"


# --- Mainland mobile phone number -------------------------------------------------------------------
_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)


def validate_mobile(phone: str) -> str:
    """The normalised 11-digit number, or CodeError unless it is 11 digits starting with 13–19."""
    normalised = _normalise(phone, "手机号码", "mobile number")
    if not _MOBILE_RE.fullmatch(normalised):
        raise CodeError(
            "手机号码应为以13–19开头的11位数字 / a mainland mobile number has 11 digits starting with 13–19"
        )
    return normalised


def is_valid_mobile(phone: object) -> bool:
    try:
        return isinstance(phone, str) and bool(validate_mobile(phone))
    except CodeError:
        return False
