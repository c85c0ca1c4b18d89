"""The period query parameter: <N>d with 1 <= N <= 365, default 30d, anything else a clear 400."""
from __future__ import annotations

import pytest

from chalicelib.analytics import Period, parse_period
from chalicelib.analytics.errors import InvalidPeriodError
from chalicelib.errors import InvalidInputError


@pytest.mark.parametrize(("raw", "days"), [("1d", 1), ("7d", 7), ("30d", 30), ("90d", 90), ("365d", 365)])
def test_accepts_whole_days_from_1_to_365(raw, days):
    period = parse_period(raw)
    assert period == Period(days=days)
    assert period.label == raw


def test_missing_period_is_30_days():
    assert parse_period(None) == Period(days=30)


@pytest.mark.parametrize(
    "raw", ["0d", "366d", "1000d", "30", "abc", "-1d", "1.5d", "", "d", "30D", " 30d", "30d ", "030d", "3 0d", "30dd", "٣d"]
)
def test_rejects_anything_else_with_a_message_naming_the_format(raw):
    with pytest.raises(InvalidPeriodError) as raised:
        parse_period(raw)
    assert isinstance(raised.value, InvalidInputError)  # -> 400
    assert "1d" in raised.value.public_message and "365d" in raised.value.public_message
