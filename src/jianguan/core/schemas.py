"""Types shared by the API schemas."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.utils import timezone
from ninja import Schema
from pydantic import AfterValidator, Field

# The largest key the database holds (BigAutoField: a signed 64-bit integer). A larger number in a path, a query
# or a body cannot name a row; said as a 422 before any query (SQLite raises OverflowError on such a parameter).
MAX_ID = 2**63 - 1

# A row's id in a path, a query or a body: 1 … 2⁶³−1, shown as such in the OpenAPI schema.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# A count, index or size that is not a row id but goes into a query: 0 … 2⁶³−1.
DbInt = Annotated[int, Field(ge=0, le=MAX_ID)]


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
DbDatetime = Annotated[dt.datetime, AfterValidator(_storable)]


class ApiError(Schema):
    """The body of every error the API answers (the exception handlers in jianguan.api), whatever the status."""

    code: str = Field(
        description="机器可读的错误类别：unauthenticated、forbidden、csrf_failed、not_found、invalid、bad_request、"
        "too_large、locked，或业务规则的代码（如 wrong_state、precondition）"
    )
    detail: str = Field(description="给人看的说明（中文）")
    fields: dict[str, list[str]] | None = Field(None, description="422：按字段列出的错误（`__all__`：整体的错误）")
