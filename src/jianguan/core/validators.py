"""Field validators shared by the models (the one place input limits are declared; forms and API schemas
follow the models)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)


def date_in_range(value: dt.date) -> None:
    """A working date of the platform: from 2000 to 2099 (a 0 or 1970 from a misread field is refused)."""
    if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(
            f"日期须在 {EARLIEST_DATE:%Y-%m-%d} 至 {LATEST_DATE:%Y-%m-%d} 之间", code="date_out_of_range"
        )


def not_in_future(value: dt.date) -> None:
    """A date that has happened (installed, calibrated)."""
    if value is not None and value > timezone.localdate():
        raise ValidationError("日期不能晚于今天", code="date_in_future")
