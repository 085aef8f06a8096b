"""Types shared by the API schemas."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from django.utils import timezone
from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field

# Pydantic's lax mode reads `true` as 1 and a number, or a string of digits, as a Unix time (0 → 1970-01-01):
# accepted input that means something else than was sent. The API's input fields use these types instead of
# plain int, float, date and datetime (test_api_input_types holds every operation to it).


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("须为数字，不能是 true 或 false")
    return value


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_only(value: Any) -> Any:
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO.match(value)):
        return value
    raise ValueError("须为 ISO 8601 格式的日期或时间字符串（如 2026-11-20 或 2026-11-20T10:00:00+08:00）")


def integer(**limits: Any) -> Any:
    """A whole number within `limits` (ge, le, …). The limits go inside the type, before the check: so they
    show in the OpenAPI schema also when the field is optional (`integer(ge=0) | None`)."""
    return Annotated[int, Field(**limits), BeforeValidator(_no_bool)]


def number(**limits: Any) -> Any:
    """A finite number within `limits` (as `integer`)."""
    return Annotated[float, Field(allow_inf_nan=False, **limits), BeforeValidator(_no_bool)]


Integer = integer()
Number = number()
# A date; a time (with or without an offset: see DbDatetime for one that goes into a query).
IsoDate = Annotated[dt.date, BeforeValidator(_iso_only)]
IsoDatetime = Annotated[dt.datetime, BeforeValidator(_iso_only)]

# The largest key the database holds (BigAutoField: a signed 64-bit integer). A larger number in a path, a query
# or a body cannot name a row; said as a 422 before any query (SQLite raises OverflowError on such a parameter).
MAX_ID = 2**63 - 1

# A row's id in a path, a query or a body: 1 … 2⁶³−1, shown as such in the OpenAPI schema.
Id = integer(ge=1, le=MAX_ID)
# A count, index or size that is not a row id but goes into a query: 0 … 2⁶³−1.
DbInt = integer(ge=0, le=MAX_ID)


def _storable(value: dt.datetime) -> dt.datetime:
    """A time the database can take: it is compared in UTC, and near the calendar's ends (year 1, 9999) the
    conversion overflows — a clear 422 rather than a server error."""
    aware = value if value.tzinfo is not None else timezone.make_aware(value)
    try:
        aware.astimezone(dt.UTC)
    except OverflowError as exc:
        raise ValueError("时间超出可表示的范围（公元1年至9999年）") from exc
    return value


# A datetime parameter or field that goes into a query or a row.
DbDatetime = Annotated[dt.datetime, BeforeValidator(_iso_only), AfterValidator(_storable)]


class ApiError(Schema):
    """The body of every error the API answers (the exception handlers in jianguan.api), whatever the status."""

    code: str = Field(
        description="机器可读的错误类别：unauthenticated、forbidden、csrf_failed、not_found、invalid、bad_request、"
        "too_large、locked，或业务规则的代码（如 wrong_state、precondition）"
    )
    detail: str = Field(description="给人看的说明（中文）")
    fields: dict[str, list[str]] | None = Field(None, description="422：按字段列出的错误（`__all__`：整体的错误）")
