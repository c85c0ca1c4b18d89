"""In-memory UsageSource and RollupStore: the same contracts as the PostgreSQL and DynamoDB adapters."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from chalicelib.analytics import Session, UsageTally, tally_sessions
from chalicelib.analytics.models import utc_day


@dataclass
class InMemoryUsageSource:
    """Session rows by id, each with its ``updated_at``; records which days were tallied."""

    rows: dict[str, tuple[Session, datetime]] = field(default_factory=dict)
    tallied_days: list[date] = field(default_factory=list)

    def put(self, session_id: str, session: Session, updated_at: datetime) -> None:
        self.rows[session_id] = (session, updated_at)

    def changed_days(self, since: datetime | None) -> set[date]:
        return {utc_day(s.started_at) for s, updated in self.rows.values() if since is None or updated >= since}

    def tally_day(self, day: date) -> list[UsageTally]:
        self.tallied_days.append(day)
        return tally_sessions(s for s, _ in self.rows.values() if utc_day(s.started_at) == day)


@dataclass
class InMemoryRollupStore:
    days: dict[date, list[UsageTally]] = field(default_factory=dict)
    stored_watermark: datetime | None = None

    def watermark(self) -> datetime | None:
        return self.stored_watermark

    def replace_days(self, tallies_by_day: Mapping[date, list[UsageTally]], watermark: datetime) -> None:
        self.days.update({day: list(tallies) for day, tallies in tallies_by_day.items()})
        self.stored_watermark = watermark

    def tallies_between(self, first_day: date, last_day: date) -> list[UsageTally]:
        return [t for day, tallies in self.days.items() if first_day <= day <= last_day for t in tallies]
