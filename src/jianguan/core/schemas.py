"""Types shared by the API schemas."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.utils import timezone
from pydantic import AfterValidator


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
