"""Parse the ``period`` query parameter of the analytics route."""
from __future__ import annotations

import re

from chalicelib.analytics.errors import InvalidPeriodError
from chalicelib.analytics.models import Period

DEFAULT_PERIOD = Period(days=30)
MAX_DAYS = 365
_PERIOD = re.compile(r"([1-9][0-9]{0,2})d")


def parse_period(raw: str | None) -> Period:
    """``"<N>d"`` with 1 <= N <= 365 as a Period; None means the default (30d). Raises InvalidPeriodError."""
    if raw is None:
        return DEFAULT_PERIOD
    match = _PERIOD.fullmatch(raw)
    days = int(match.group(1)) if match else 0
    if not 1 <= days <= MAX_DAYS:
        raise InvalidPeriodError(f"period must be a whole number of days from 1d to {MAX_DAYS}d, e.g. 30d")
    return Period(days=days)
