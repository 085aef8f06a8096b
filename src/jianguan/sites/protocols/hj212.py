"""HJ 212-2017 (污染物在线监控（监测）系统数据传输标准) packet codec.

Pure Python (no Django) so the TCP gateway, the device simulator and the tests share one codec.

Wire format (see docs/hj212.md)::

    ## + LLLL (segment length, 4 decimal digits) + segment + CRC (4 upper-case hex) + CR LF
    segment = QN=..;ST=..;CN=..;PW=..;MN=..;Flag=..;[PNUM=..;PNO=..;]CP=&&<fields>&&

Decoding is strict by default (`STANDARD`). Field devices deviate from the standard in known ways; a
`Dialect` names the deviations one device model may use. `decode` records every deviation it tolerated
in `Packet.deviations` so the gateway can count them per device, and still rejects true corruption.
Every problem with the input is reported as `HJ212Error` (a `ValueError`) with a machine-readable
`reason`; nothing else escapes `decode`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Final

__all__ = [
    "CN",
    "COMMANDS",
    "CP",
    "LENIENT",
    "MAX_SEGMENT",
    "PARAMETERS",
    "REASONS",
    "STANDARD",
    "SYSTEM_CODES",
    "TOLERABLE_DEVIATIONS",
    "VALUE_FLAGS",
    "VALUE_KEYS",
    "VENDOR_CODES_EXAMPLE",
    "Command",
    "Dialect",
    "ExeRtn",
    "HJ212Error",
    "Packet",
    "Parameter",
    "QnRtn",
    "Reading",
    "ValueFlag",
    "build_data_response",
    "build_execution_result",
    "build_request_answer",
    "crc16",
    "crc16_bitwise",
    "decode",
    "encode",
    "encode_segment",
    "frame_segment",
    "make_qn",
    "parse_number",
    "peek_header",
    "qn_rtn_for_error",
]

MAX_SEGMENT: Final = 1024  # the standard's limit on the data segment
FRAME_OVERHEAD: Final = 2 + 4 + 4 + 2  # "##" + length + CRC + CR LF
MAX_FRAME: Final = MAX_SEGMENT + FRAME_OVERHEAD
MN_MAX: Final = 64  # not the standard's number: a sanity cap so a hostile MN cannot bloat storage/logs

# --------------------------------------------------------------------------------------------------
# Errors


REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "bad_input": "not a bytes-like frame",
        "bad_header": "frame does not start with '##'",
        "bad_length": "length field is not 4 decimal digits, or does not match the frame",
        "too_long": "data segment longer than 1024 bytes",
        "bad_trailer": "frame does not end with CR LF",
        "bad_crc": "CRC field is not 4 hex digits, or does not match (in the byte orders the dialect allows)",
        "bad_encoding": "data segment is not ASCII (or not in the dialect's encoding)",
        "bad_segment": "data segment structure is broken (CP=&&...&&, items, separators, duplicates)",
        "bad_field": "a header field or DataTime is missing or malformed",
        # FrameBuffer only:
        "garbage": "bytes outside any frame were discarded",
        "truncated": "connection ended inside a frame",
    }
)


class HJ212Error(ValueError):
    """Any problem with HJ 212 input.

    Attributes:
        reason: machine-readable code, one of `REASONS` (stable: counted and shown per device).
        message: human-readable detail (English; may quote a few bytes of the input).
        field: the header/CP field concerned, where there is one (e.g. "QN", "Flag", "DataTime").
        tolerable: the deviation kind (see `TOLERABLE_DEVIATIONS`) a more lenient dialect would have
            accepted, or None when the input is corrupt whatever the dialect.
    """

    def __init__(self, reason: str, message: str, *, field: str | None = None, tolerable: str | None = None) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.field = field
        self.tolerable = tolerable


# --------------------------------------------------------------------------------------------------
# Constants from the standard


class CN(StrEnum):
    """Command codes (CN) a dust/noise monitor and the platform use."""

    SET_TIMEOUT = "1000"  # 设置超时时间及重发次数
    GET_TIME = "1011"  # 提取现场机时间
    SET_TIME = "1012"  # 设置现场机时间
    TIME_CALIBRATION = "1013"  # 现场机时间校准请求 (device -> platform notice)
    GET_RTD_INTERVAL = "1061"  # 提取实时数据间隔
    SET_RTD_INTERVAL = "1062"  # 设置实时数据间隔
    RTD_DATA = "2011"  # 实时数据
    DAY_DATA = "2031"  # 日历史数据
    MINUTE_DATA = "2051"  # 分钟数据
    HOUR_DATA = "2061"  # 小时数据
    REQUEST_ANSWER = "9011"  # 请求应答
    EXECUTION_RESULT = "9012"  # 执行结果
    NOTICE_RESPONSE = "9013"  # 通知应答
    DATA_RESPONSE = "9014"  # 数据应答


@dataclass(frozen=True, slots=True)
class Command:
    code: str
    name_zh: str
    name_en: str


COMMANDS: Final[Mapping[str, Command]] = MappingProxyType(
    {
        c.code: c
        for c in (
            Command("1000", "设置超时时间及重发次数", "set timeout and retry count"),
            Command("1011", "提取现场机时间", "read device time"),
            Command("1012", "设置现场机时间", "set device time"),
            Command("1013", "现场机时间校准请求", "device asks for time calibration"),
            Command("1061", "提取实时数据间隔", "read real-time data interval"),
            Command("1062", "设置实时数据间隔", "set real-time data interval"),
            Command("2011", "实时数据", "real-time data"),
            Command("2031", "日历史数据", "daily data"),
            Command("2051", "分钟数据", "minute data"),
            Command("2061", "小时数据", "hourly data"),
            Command("9011", "请求应答", "request answer"),
            Command("9012", "执行结果", "execution result"),
            Command("9013", "通知应答", "notice response"),
            Command("9014", "数据应答", "data response"),
        )
    }
)

# System codes (ST). 91 is fixed by the standard for system interaction (responses); 22 is common on
# construction dust monitors; 39 is 工地扬尘污染源 in public transcriptions of table 5 (unconfirmed).
ST_SYSTEM: Final = "91"
SYSTEM_CODES: Final[Mapping[str, str]] = MappingProxyType(
    {"22": "空气质量监测", "23": "声环境质量监测", "39": "工地扬尘污染源", "91": "系统交互"}
)


class QnRtn(IntEnum):
    """请求命令返回 (table 7 of the standard; extensible)."""

    READY = 1  # 准备执行请求
    REJECTED = 2  # 请求被拒绝
    PW_ERROR = 3  # PW 错误
    MN_ERROR = 4  # MN 错误
    ST_ERROR = 5  # ST 错误
    FLAG_ERROR = 6  # Flag 错误
    QN_ERROR = 7  # QN 错误
    CN_ERROR = 8  # CN 错误
    CRC_ERROR = 9  # CRC 校验错误
    UNKNOWN = 100  # 未知错误


class ExeRtn(IntEnum):
    """执行结果 (table 6 of the standard; extensible)."""

    SUCCESS = 1  # 执行成功
    FAILED = 2  # 执行失败，但不知道原因
    BAD_CONDITION = 3  # 命令请求条件错误
    TIMEOUT = 4  # 通讯超时
    BUSY = 5  # 系统繁忙不能执行
    FAULT = 6  # 系统故障
    NO_DATA = 100  # 没有数据


@dataclass(frozen=True, slots=True)
class ValueFlag:
    code: str
    name_zh: str
    name_en: str
    counts_for_limits: bool


VALUE_FLAGS: Final[Mapping[str, ValueFlag]] = MappingProxyType(
    {
        f.code: f
        for f in (
            ValueFlag("N", "正常", "normal", True),
            ValueFlag("F", "停运", "device off", False),
            ValueFlag("M", "维护", "maintenance", False),
            ValueFlag("S", "手工输入的设定值", "manual value", False),
            ValueFlag("D", "故障", "fault", False),
            ValueFlag("C", "校准", "calibration", False),
            ValueFlag("T", "超测量上限", "over the measuring range", False),
            ValueFlag("B", "通讯异常", "communication abnormal", False),
        )
    }
)


@dataclass(frozen=True, slots=True)
class Parameter:
    code: str
    name_zh: str
    name_en: str
    unit: str  # the usual unit; devices state theirs, see docs/hj212.md


PARAMETERS: Final[Mapping[str, Parameter]] = MappingProxyType(
    {
        p.code: p
        for p in (
            Parameter("a34001", "总悬浮颗粒物 TSP", "TSP", "µg/m³"),
            Parameter("a34002", "PM10", "PM10", "µg/m³"),
            Parameter("a34004", "PM2.5", "PM2.5", "µg/m³"),
            Parameter("a01001", "温度", "air temperature", "℃"),
            Parameter("a01002", "湿度", "relative humidity", "%"),
            Parameter("a01006", "气压", "air pressure", "kPa"),
            Parameter("a01007", "风速", "wind speed", "m/s"),
            Parameter("a01008", "风向", "wind direction", "°"),
            Parameter("LA", "噪声", "equivalent A-weighted sound level", "dB(A)"),
        )
    }
)

# CP keys that carry a measured value (as opposed to Flag, EFlag, SampleTime, Info...).
VALUE_KEYS: Final = ("Rtd", "Avg", "Min", "Max", "Cou", "ZsRtd", "ZsAvg", "ZsMin", "ZsMax", "Data")

# A typical vendor naming; real devices differ, so each model gets its own Dialect.
VENDOR_CODES_EXAMPLE: Final[Mapping[str, str]] = MappingProxyType(
    {
        "PM25": "a34004",
        "PM10": "a34002",
        "TSP": "a34001",
        "TEM": "a01001",
        "RH": "a01002",
        "WS": "a01007",
        "WD": "a01008",
        "NOIS": "LA",
    }
)

# --------------------------------------------------------------------------------------------------
# CRC (the standard's appendix)

_CRC_POLY: Final = 0xA001


def crc16_bitwise(data: bytes) -> int:
    """CRC-16 exactly as the standard's appendix describes it (the reference for `crc16`)."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ byte
        for _ in range(8):
            crc = (crc >> 1) ^ _CRC_POLY if crc & 1 else crc >> 1
    return crc


def _shift8(value: int) -> int:
    for _ in range(8):
        value = (value >> 1) ^ _CRC_POLY if value & 1 else value >> 1
    return value


# `(crc >> 8) ^ byte` is always < 256, so each step is a plain table lookup: the register's low byte is
# discarded every step (this CRC carries only 8 bits of state, see docs/hj212.md).
_CRC_TABLE: Final = tuple(_shift8(i) for i in range(256))


def crc16(data: bytes) -> int:
    """HJ 212 CRC-16 of `data` (table-driven; equal to `crc16_bitwise`)."""
    crc = 0xFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc >> 8) ^ byte]
    return crc


# --------------------------------------------------------------------------------------------------
# Dialects

# Deviations a Dialect may tolerate (besides vendor codes, which its factor_code_map allows).
TOLERABLE_DEVIATIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "crc_byte_swapped": "CRC sent with its two bytes swapped",
        "crc_lowercase": "CRC written in lower-case hex",
        "missing_qn": "no QN field",
        "missing_flag": "no Flag field",
        "missing_st": "no ST field",
        "missing_pw": "no PW field",
        "qn_format": "QN is not yyyyMMddHHmmssSSS",
        "st_format": "ST is not two characters 0-9/A-Z",
        "field_order": "header fields not in the order QN;ST;CN;PW;MN;Flag;PNUM;PNO",
        "unknown_field": "an unknown header field (dropped)",
        "split_mismatch": "Flag's D bit disagrees with the presence of PNUM/PNO",
        "cp_grouping": "CP items not grouped one factor code per ';' group",
        "cp_empty_item": "empty CP item (e.g. a trailing ';' before '&&')",
        "datatime_not_first": "DataTime is not the first CP item",
        "non_ascii": "non-ASCII bytes in the segment (decoded with the dialect's encoding)",
    }
)


@dataclass(frozen=True)
class Dialect:
    """How far one device model may deviate from the standard.

    `factor_code_map` maps vendor factor names to standard codes (applied to CP factor codes).
    `tolerate` lists further deviation kinds from `TOLERABLE_DEVIATIONS`. `encoding` decodes non-ASCII
    segments when "non_ascii" is tolerated. `edition` is assumed when a packet has no Flag (it chooses
    the layout of our responses): 1 = HJ 212-2017, 0 = HJ/T 212-2005.
    """

    name: str
    factor_code_map: Mapping[str, str] = dataclasses.field(default_factory=dict)
    accept_swapped_crc: bool = False
    require_qn: bool = True
    require_flag: bool = True
    tolerate: frozenset[str] = frozenset()
    encoding: str = "utf-8"
    edition: int = 1

    def __post_init__(self) -> None:
        unknown = set(self.tolerate) - set(TOLERABLE_DEVIATIONS)
        if unknown:
            raise ValueError(f"unknown deviation kinds: {sorted(unknown)}")
        if not 0 <= self.edition <= 63:
            raise ValueError("edition must be 0..63 (Flag bits 2-7)")
        # Read-only copy: dialects are shared between connections.
        object.__setattr__(self, "factor_code_map", MappingProxyType(dict(self.factor_code_map)))
        object.__setattr__(self, "tolerate", frozenset(self.tolerate))

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.factor_code_map.items())), self.tolerate))

    def tolerates(self, kind: str) -> bool:
        if kind == "crc_byte_swapped":
            return self.accept_swapped_crc
        if kind == "missing_qn":
            return not self.require_qn
        if kind == "missing_flag":
            return not self.require_flag
        return kind in self.tolerate


STANDARD: Final = Dialect(name="standard")
LENIENT: Final = Dialect(
    name="lenient",
    factor_code_map=VENDOR_CODES_EXAMPLE,
    accept_swapped_crc=True,
    require_qn=False,
    require_flag=False,
    tolerate=frozenset(TOLERABLE_DEVIATIONS) - {"crc_byte_swapped", "missing_qn", "missing_flag"},
)

# --------------------------------------------------------------------------------------------------
# Data model


@dataclass(frozen=True, slots=True)
class Reading:
    """One measured value: factor `code` (standard code), CP `key` (Rtd/Avg/...), parsed value, flag."""

    code: str
    key: str
    value: float | None  # None when the device sent an empty or non-numeric value
    flag: str | None  # the factor's "Flag" (N, F, M, ...) or None when the device sent none
    raw: str = ""

    @property
    def counts_for_limits(self) -> bool:
        # Only N counts; a value without any flag is treated as normal so a device cannot dodge limits
        # by omitting flags (our choice, see docs/hj212.md).
        return self.value is not None and self.flag in (None, "N")


@dataclass
class CP:
    """The command parameters (CP=&&...&&).

    `factors` maps a factor code to its keys in order (e.g. "a34004" -> {"Rtd": "35.2", "Flag": "N"});
    `params` holds the other top-level keys (QnRtn, ExeRtn, RtdInterval, SystemTime, ...).
    """

    data_time: datetime | None = None  # DataTime=yyyyMMddHHmmss, naive local (device) time
    factors: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    params: dict[str, str] = dataclasses.field(default_factory=dict)

    def readings(self, keys: Iterable[str] = VALUE_KEYS) -> Iterator[Reading]:
        """Yield the measured values, factor by factor, in packet order."""
        wanted = tuple(keys)
        for code, values in self.factors.items():
            flag = values.get("Flag") or None
            for key, raw in values.items():
                if key in wanted:
                    yield Reading(code, key, _number(raw), flag, raw)


@dataclass(kw_only=True)
class Packet:
    """One HJ 212 packet. `deviations` lists what `decode` tolerated (not part of equality)."""

    qn: str | None = None
    st: str | None = None
    cn: str
    pw: str | None = None
    mn: str
    flag: int | None = None
    pnum: int | None = None
    pno: int | None = None
    cp: CP = dataclasses.field(default_factory=CP)
    deviations: list[str] = dataclasses.field(default_factory=list, compare=False)

    @property
    def needs_response(self) -> bool:
        """Flag bit 0 (A): the sender asks for an answer."""
        return self.flag is not None and bool(self.flag & 0b01)

    @property
    def is_split(self) -> bool:
        """Flag bit 1 (D): one of several packets (PNUM/PNO present)."""
        return self.flag is not None and bool(self.flag & 0b10)

    @property
    def edition(self) -> int | None:
        """Flag bits 2-7: 1 = HJ 212-2017, 0 = HJ/T 212-2005; None without a Flag."""
        return None if self.flag is None else self.flag >> 2


# --------------------------------------------------------------------------------------------------
# Field syntax

_DIGITS17 = re.compile(r"[0-9]{17}")
_DIGITS14 = re.compile(r"[0-9]{14}")
_CN_RE = re.compile(r"[0-9]{4}")
_ST_RE = re.compile(r"[0-9A-Z]{2}")
_FLAG_RE = re.compile(r"[0-9]{1,3}")
_PNUM_RE = re.compile(r"[0-9]{1,4}")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BAD_HEADER_VALUE = re.compile(r"[;,=&\x00-\x1f\x7f]")
_BAD_CP_KEY = re.compile(r"[;,=&\x00-\x1f\x7f]")
_BAD_CP_VALUE = re.compile(r"[;,&\x00-\x1f\x7f]")
_HEADER_ORDER: Final = ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO")
_HEADER_RANK: Final = {key: rank for rank, key in enumerate(_HEADER_ORDER)}


def _number(raw: str) -> float | None:
    # A strict grammar: float() alone would accept "nan", "inf", "1_0" and surrounding blanks.
    if not _NUMBER.fullmatch(raw):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


parse_number = _number  # the strict number grammar of CP values, for callers reading `CP.factors` directly


def _valid_timestamp(text: str) -> datetime | None:
    """yyyyMMddHHmmss[SSS] -> datetime, or None when not a real date."""
    try:
        return datetime(
            int(text[0:4]),
            int(text[4:6]),
            int(text[6:8]),
            int(text[8:10]),
            int(text[10:12]),
            int(text[12:14]),
            int(text[14:17] or "0") * 1000,
        )
    except ValueError:
        return None


def _format_datatime(value: datetime) -> str:
    # Not strftime: %Y is not zero-padded for years < 1000 on every platform.
    date = f"{value.year:04d}{value.month:02d}{value.day:02d}"
    return f"{date}{value.hour:02d}{value.minute:02d}{value.second:02d}"


def make_qn(when: datetime | None = None) -> str:
    """A QN (yyyyMMddHHmmssSSS) for a packet the platform originates."""
    when = when or datetime.now()
    return _format_datatime(when) + f"{when.microsecond // 1000:03d}"


# --------------------------------------------------------------------------------------------------
# Decoding


class _Deviations:
    """Collects tolerated deviations, or raises when the dialect does not tolerate one."""

    __slots__ = ("dialect", "found")

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.found: list[str] = []

    def note(self, kind: str, reason: str, message: str, *, field: str | None = None, detail: str = "") -> None:
        if not self.dialect.tolerates(kind):
            raise HJ212Error(reason, message, field=field, tolerable=kind)
        self.add(f"{kind}:{detail}" if detail else kind)

    def add(self, entry: str) -> None:
        if entry not in self.found:
            self.found.append(entry)


def decode(frame: bytes, dialect: Dialect = STANDARD) -> Packet:
    """Decode one complete frame (`##` ... CR LF). Raises only `HJ212Error`."""
    if not isinstance(frame, bytes | bytearray | memoryview):
        raise HJ212Error("bad_input", f"expected bytes, got {type(frame).__name__}")
    frame = bytes(frame)
    size = len(frame)
    if frame[:2] != b"##":
        raise HJ212Error("bad_header", f"frame starts with {frame[:2]!r}")
    length_field = frame[2:6]
    if len(length_field) < 4 or not length_field.isdigit():
        raise HJ212Error("bad_length", f"length field {length_field!r} is not 4 digits")
    length = int(length_field)
    if length > MAX_SEGMENT:
        raise HJ212Error("too_long", f"segment length {length} > {MAX_SEGMENT}")
    if size != length + FRAME_OVERHEAD:
        raise HJ212Error("bad_length", f"length field says {length}, frame holds {size - FRAME_OVERHEAD}")
    if frame[-2:] != b"\r\n":
        raise HJ212Error("bad_trailer", f"frame ends with {frame[-2:]!r}")
    segment = frame[6 : 6 + length]
    deviations = _Deviations(dialect)
    _check_crc(segment, frame[6 + length : 10 + length], deviations)
    packet = _parse_segment(_segment_text(segment, deviations), deviations)
    packet.deviations = deviations.found
    return packet


def _check_crc(segment: bytes, crc_field: bytes, deviations: _Deviations) -> None:
    text = crc_field.decode("latin-1")
    if not _HEX4.fullmatch(text):
        raise HJ212Error("bad_crc", f"CRC field {crc_field!r} is not 4 hex digits")
    got = int(text, 16)
    want = crc16(segment)
    if got != want:
        if got != ((want & 0xFF) << 8 | want >> 8):
            raise HJ212Error("bad_crc", f"CRC {text} does not match {want:04X}")
        deviations.note("crc_byte_swapped", "bad_crc", f"CRC {text} is {want:04X} byte-swapped")
    if not text.isupper() and not text.isdigit():
        deviations.note("crc_lowercase", "bad_crc", f"CRC {text} is lower-case")


def _segment_text(segment: bytes, deviations: _Deviations) -> str:
    if segment.isascii():
        return segment.decode("ascii")
    deviations.note("non_ascii", "bad_encoding", "non-ASCII bytes in the data segment")
    try:
        return segment.decode(deviations.dialect.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise HJ212Error("bad_encoding", f"segment is not {deviations.dialect.encoding}: {exc}") from None


def _parse_segment(text: str, deviations: _Deviations) -> Packet:
    if _CONTROL.search(text):
        raise HJ212Error("bad_segment", "control characters in the data segment")
    cp_at = text.find("CP=&&")
    while cp_at > 0 and text[cp_at - 1] != ";":  # "CP=&&" must start a field
        cp_at = text.find("CP=&&", cp_at + 1)
    if cp_at < 0:
        raise HJ212Error("bad_segment", "no CP=&&...&& field")
    if len(text) < cp_at + 7 or not text.endswith("&&"):
        raise HJ212Error("bad_segment", "CP is not closed by '&&' at the end of the segment")
    body = text[cp_at + 5 : -2]
    if "&" in body:
        raise HJ212Error("bad_segment", "'&' inside CP")
    fields = _parse_header(text[: cp_at - 1] if cp_at else "", deviations)
    packet = _header_to_packet(fields, deviations)
    packet.cp = _parse_cp(body, deviations)
    return packet


def _parse_header(header: str, deviations: _Deviations) -> dict[str, str]:
    fields: dict[str, str] = {}
    if not header:
        return fields
    last_rank = -1
    for item in header.split(";"):
        key, sep, value = item.partition("=")
        if not sep:
            raise HJ212Error("bad_segment", f"header item {item[:20]!r} has no '='")
        rank = _HEADER_RANK.get(key)
        if rank is None:
            deviations.note(
                "unknown_field", "bad_field", f"unknown header field {key[:20]!r}", field=key, detail=key[:20]
            )
            continue
        if key in fields:
            raise HJ212Error("bad_field", f"{key} appears twice", field=key)
        if rank < last_rank:
            deviations.note("field_order", "bad_segment", f"{key} out of order", field=key)
        last_rank = max(last_rank, rank)
        if not value or _BAD_HEADER_VALUE.search(value):
            raise HJ212Error("bad_field", f"{key} is empty or holds a separator", field=key)
        fields[key] = value
    return fields


def _header_to_packet(fields: dict[str, str], deviations: _Deviations) -> Packet:
    qn = fields.get("QN")
    if qn is None:
        deviations.note("missing_qn", "bad_field", "QN missing", field="QN")
    elif not (_DIGITS17.fullmatch(qn) and _valid_timestamp(qn)):
        deviations.note("qn_format", "bad_field", f"QN {qn[:20]!r} is not yyyyMMddHHmmssSSS", field="QN")

    st = fields.get("ST")
    if st is None:
        deviations.note("missing_st", "bad_field", "ST missing", field="ST")
    elif not _ST_RE.fullmatch(st):
        deviations.note("st_format", "bad_field", f"ST {st[:20]!r} is not 2 characters 0-9/A-Z", field="ST")

    cn = fields.get("CN")
    if cn is None or not _CN_RE.fullmatch(cn):
        raise HJ212Error("bad_field", "CN missing or not 4 digits", field="CN")

    pw = fields.get("PW")
    if pw is None:
        deviations.note("missing_pw", "bad_field", "PW missing", field="PW")

    mn = fields.get("MN")
    if mn is None or len(mn) > MN_MAX:
        raise HJ212Error("bad_field", f"MN missing or longer than {MN_MAX}", field="MN")

    flag: int | None = None
    flag_text = fields.get("Flag")
    if flag_text is None:
        deviations.note("missing_flag", "bad_field", "Flag missing", field="Flag")
    elif not _FLAG_RE.fullmatch(flag_text) or int(flag_text) > 255:
        raise HJ212Error("bad_field", f"Flag {flag_text[:20]!r} is not 0..255", field="Flag")
    else:
        flag = int(flag_text)

    pnum_text, pno_text = fields.get("PNUM"), fields.get("PNO")
    pnum = pno = None
    if (pnum_text is None) != (pno_text is None):
        raise HJ212Error("bad_field", "PNUM and PNO must come together", field="PNUM")
    if pnum_text is not None and pno_text is not None:
        if not (_PNUM_RE.fullmatch(pnum_text) and _PNUM_RE.fullmatch(pno_text)):
            raise HJ212Error("bad_field", "PNUM/PNO are not 1-4 digits", field="PNUM")
        pnum, pno = int(pnum_text), int(pno_text)
        if not 1 <= pno <= pnum:
            raise HJ212Error("bad_field", f"PNO {pno} not in 1..PNUM {pnum}", field="PNO")
    if flag is not None and bool(flag & 0b10) != (pnum is not None):
        deviations.note("split_mismatch", "bad_field", "Flag D bit disagrees with PNUM/PNO", field="Flag")

    return Packet(qn=qn, st=st, cn=cn, pw=pw, mn=mn, flag=flag, pnum=pnum, pno=pno)


def _parse_cp(body: str, deviations: _Deviations) -> CP:
    cp = CP()
    if not body:
        return cp
    code_map = deviations.dialect.factor_code_map
    first = True
    for group in body.split(";"):
        group_codes: set[str] = set()
        group_params = 0
        for item in group.split(","):
            if not item:
                deviations.note("cp_empty_item", "bad_segment", "empty CP item")
                continue
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise HJ212Error("bad_segment", f"CP item {item[:20]!r} is not key=value")
            code, dash, sub = key.rpartition("-")
            if dash:
                if not code or not sub:
                    raise HJ212Error("bad_segment", f"CP key {key[:20]!r} is not code-Key")
                standard = code_map.get(code)
                if standard is not None:
                    deviations.add(f"vendor_code:{code[:20]}")  # allowed by the dialect's map
                    code = standard
                if code in cp.factors and code not in group_codes:
                    deviations.note("cp_grouping", "bad_segment", f"factor {code[:20]!r} split over groups")
                values = cp.factors.setdefault(code, {})
                if sub in values:
                    raise HJ212Error("bad_segment", f"CP key {code[:20]}-{sub[:20]} appears twice")
                values[sub] = value
                group_codes.add(code)
            elif key == "DataTime":
                if cp.data_time is not None:
                    raise HJ212Error("bad_segment", "DataTime appears twice")
                if not first:
                    deviations.note("datatime_not_first", "bad_segment", "DataTime is not the first CP item")
                parsed = _valid_timestamp(value) if _DIGITS14.fullmatch(value) else None
                if parsed is None:
                    raise HJ212Error("bad_field", f"DataTime {value[:20]!r} is not yyyyMMddHHmmss", field="DataTime")
                cp.data_time = parsed
                group_params += 1
            else:
                if key in cp.params:
                    raise HJ212Error("bad_segment", f"CP key {key[:20]!r} appears twice")
                cp.params[key] = value
                group_params += 1
            first = False
        # One factor code per ';' group; several top-level keys may share a group (e.g. BeginTime,EndTime).
        if len(group_codes) > 1 or (group_codes and group_params):
            deviations.note("cp_grouping", "bad_segment", "several factor codes in one CP group")
    return cp


def peek_header(frame: bytes) -> dict[str, str]:
    """Best-effort header fields (QN, ST, CN, PW, MN, Flag, ...) of a frame that may be invalid.

    Never raises. Used to answer or log frames that `decode` rejected (e.g. bad CRC): the values are
    unverified and may themselves be corrupt.
    """
    if not isinstance(frame, bytes | bytearray | memoryview):
        return {}
    data = bytes(frame[:MAX_FRAME])
    if data[:2] == b"##":
        data = data[6:]
    text = data.decode("utf-8", errors="replace")
    cp_at = text.find("CP=&&")
    head = text[:cp_at] if cp_at >= 0 else text[:200]
    found: dict[str, str] = {}
    for item in head.split(";"):
        key, sep, value = item.partition("=")
        if sep and key in _HEADER_RANK and key not in found and value and not _BAD_HEADER_VALUE.search(value):
            found[key] = value[:MN_MAX]
    return found


def qn_rtn_for_error(error: HJ212Error) -> QnRtn | None:
    """The 请求命令返回 code matching a decode error, or None when the table has none for it."""
    if error.reason == "bad_crc":
        return QnRtn.CRC_ERROR
    if error.reason == "bad_field":
        return {
            "QN": QnRtn.QN_ERROR,
            "ST": QnRtn.ST_ERROR,
            "CN": QnRtn.CN_ERROR,
            "PW": QnRtn.PW_ERROR,
            "MN": QnRtn.MN_ERROR,
            "Flag": QnRtn.FLAG_ERROR,
            "PNUM": QnRtn.FLAG_ERROR,
            "PNO": QnRtn.FLAG_ERROR,
        }.get(error.field or "")
    return None


# --------------------------------------------------------------------------------------------------
# Encoding


def _check_header_value(name: str, value: str) -> None:
    if not isinstance(value, str) or not value or _BAD_HEADER_VALUE.search(value):
        raise HJ212Error("bad_field", f"{name} must be a non-empty string without ; , = & or controls", field=name)


def encode_segment(packet: Packet) -> str:
    """The data segment text of `packet` (canonical layout, see docs/hj212.md)."""
    parts: list[str] = []
    if packet.qn is not None:
        _check_header_value("QN", packet.qn)
        parts.append(f"QN={packet.qn}")
    if packet.st is not None:
        _check_header_value("ST", packet.st)
        parts.append(f"ST={packet.st}")
    if not isinstance(packet.cn, str) or not _CN_RE.fullmatch(packet.cn):
        raise HJ212Error("bad_field", "CN must be 4 digits", field="CN")
    parts.append(f"CN={packet.cn}")
    if packet.pw is not None:
        _check_header_value("PW", packet.pw)
        parts.append(f"PW={packet.pw}")
    _check_header_value("MN", packet.mn)
    parts.append(f"MN={packet.mn}")
    if packet.flag is not None:
        if not isinstance(packet.flag, int) or not 0 <= packet.flag <= 255:
            raise HJ212Error("bad_field", "Flag must be 0..255", field="Flag")
        parts.append(f"Flag={packet.flag}")
    if (packet.pnum is None) != (packet.pno is None):
        raise HJ212Error("bad_field", "PNUM and PNO must come together", field="PNUM")
    if packet.pnum is not None and packet.pno is not None:
        if not 1 <= packet.pno <= packet.pnum <= 9999:
            raise HJ212Error("bad_field", "need 1 <= PNO <= PNUM <= 9999", field="PNUM")
        parts.append(f"PNUM={packet.pnum}")
        parts.append(f"PNO={packet.pno}")
    parts.append(f"CP=&&{_encode_cp(packet.cp)}&&")
    return ";".join(parts)


def _encode_cp(cp: CP) -> str:
    groups: list[str] = []
    if cp.data_time is not None:
        groups.append(f"DataTime={_format_datatime(cp.data_time)}")
    for key, value in cp.params.items():
        if not key or "-" in key or key == "DataTime" or _BAD_CP_KEY.search(key):
            raise HJ212Error("bad_field", f"bad CP key {key!r}", field=key)
        _check_cp_value(key, value)
        groups.append(f"{key}={value}")
    for code, values in cp.factors.items():
        if not code or _BAD_CP_KEY.search(code) or not values:
            raise HJ212Error("bad_field", f"bad factor code {code!r} (or no keys)", field=code)
        items = []
        for sub, value in values.items():
            if not sub or "-" in sub or _BAD_CP_KEY.search(sub):
                raise HJ212Error("bad_field", f"bad CP key {code}-{sub!r}", field=code)
            _check_cp_value(f"{code}-{sub}", value)
            items.append(f"{code}-{sub}={value}")
        groups.append(",".join(items))
    return ";".join(groups)


def _check_cp_value(name: str, value: str) -> None:
    if not isinstance(value, str) or _BAD_CP_VALUE.search(value):
        raise HJ212Error("bad_field", f"CP value of {name} must be a string without ; , & or controls", field=name)


def frame_segment(segment: bytes | str) -> bytes:
    """Wrap a data segment into a frame: ## + length + segment + CRC + CR LF."""
    data = segment.encode("utf-8") if isinstance(segment, str) else bytes(segment)
    if len(data) > MAX_SEGMENT:
        raise HJ212Error("too_long", f"segment length {len(data)} > {MAX_SEGMENT}")
    return b"##%04d%b%04X\r\n" % (len(data), data, crc16(data))


def encode(packet: Packet) -> bytes:
    """Encode `packet` as one frame. Raises `HJ212Error` ("bad_field", "too_long") on bad content."""
    return frame_segment(encode_segment(packet))


# --------------------------------------------------------------------------------------------------
# Responses the platform sends


def _response(packet: Packet, cn: CN, params: dict[str, str], edition: int | None) -> Packet:
    if edition is None:
        edition = packet.edition if packet.edition is not None else 1
    if not 0 <= edition <= 63:
        raise HJ212Error("bad_field", "edition must be 0..63", field="Flag")
    if edition == 0:
        # HJ/T 212-2005 layout as public implementations use it (unconfirmed): the request's QN goes
        # inside CP, 9014 also names the answered CN, only 9011 carries Flag=0.
        cp_params = {"QN": packet.qn} if packet.qn else {}
        if cn == CN.DATA_RESPONSE:
            cp_params["CN"] = packet.cn
        cp_params.update(params)
        flag = 0 if cn == CN.REQUEST_ANSWER else None
        return Packet(st=ST_SYSTEM, cn=str(cn), pw=packet.pw, mn=packet.mn, flag=flag, cp=CP(params=cp_params))
    # HJ 212-2017: same QN/PW/MN, ST=91, Flag = edition bits with A=0 and D=0 (4 for the 2017 edition).
    return Packet(
        qn=packet.qn,
        st=ST_SYSTEM,
        cn=str(cn),
        pw=packet.pw,
        mn=packet.mn,
        flag=edition << 2,
        cp=CP(params=params),
    )


def build_data_response(packet: Packet, *, edition: int | None = None) -> Packet:
    """数据应答 (CN=9014) to an upload whose Flag asked for an answer. CP is empty (CP=&&&&)."""
    return _response(packet, CN.DATA_RESPONSE, {}, edition)


def build_request_answer(packet: Packet, qn_rtn: int, *, edition: int | None = None) -> Packet:
    """请求应答 (CN=9011, CP=&&QnRtn=n&&); see `QnRtn`."""
    return _response(packet, CN.REQUEST_ANSWER, {"QnRtn": str(int(qn_rtn))}, edition)


def build_execution_result(packet: Packet, exe_rtn: int, *, edition: int | None = None) -> Packet:
    """执行结果 (CN=9012, CP=&&ExeRtn=n&&); see `ExeRtn`."""
    return _response(packet, CN.EXECUTION_RESULT, {"ExeRtn": str(int(exe_rtn))}, edition)
