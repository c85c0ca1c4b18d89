"""What analytics needs from storage: raw usage rows (read-only) and the daily rollups it maintains."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Protocol

from chalicelib.analytics.models import UsageTally


class UsageSource(Protocol):
    """The raw session rows written by usage tracking."""

    def changed_days(self, since: datetime | None) -> set[date]:
        """UTC start days of sessions whose row changed (``updated_at``) at or after ``since``; every day if None."""
        ...

    def tally_day(self, day: date) -> list[UsageTally]:
        """Sessions that started on UTC ``day``, one tally per (agent, model)."""
        ...


class RollupStore(Protocol):
    """Per day x agent x model tallies, and the watermark of the last rollup run."""

    def watermark(self) -> datetime | None:
        """Where the next run starts looking for changed rows; None before the first run."""
        ...

    def replace_days(self, tallies_by_day: Mapping[date, list[UsageTally]], watermark: datetime) -> None:
        """Make each given day's rollup exactly ``tallies_by_day[day]`` (dropping its old rows), then store ``watermark``."""
        ...

    def tallies_between(self, first_day: date, last_day: date) -> list[UsageTally]:
        """Rolled-up tallies of the days first_day..last_day inclusive; a pair may appear more than once."""
        ...
