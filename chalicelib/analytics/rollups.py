"""Daily rollups: recompute whole UTC days whose sessions changed since the last run, replacing their rows.

Recomputing (rather than adding increments) makes a run idempotent: re-runs never double count, and a
session that ends, or gets its model, after its day was rolled up moves ``updated_at``, so its start day
is recomputed on the next run. A session spanning midnight belongs to the day it started on.
Usage tracking never changes a row's ``started_at`` or ``agent``; deleted rows leave no trace in
``updated_at``, so after deleting usage rows run a full recompute (``make rollup FULL=1``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from chalicelib.analytics.models import RollupRun, Session, UsageTally, utc_now
from chalicelib.analytics.ports import RollupStore, UsageSource
from chalicelib.observability import logger

# The next run looks back this far before this run's start: a row written by a transaction that began
# before the run (so its updated_at is older) but committed after the run read its day is caught next time.
WATERMARK_OVERLAP = timedelta(minutes=15)


def _seconds(delta: timedelta) -> Decimal:
    """Exact seconds of a timedelta (microsecond precision, like PostgreSQL's extract(epoch ...))."""
    return Decimal(delta.days * 86_400 + delta.seconds) + Decimal(delta.microseconds).scaleb(-6)


def combine(tallies: Iterable[UsageTally]) -> list[UsageTally]:
    """One tally per (agent, model), summing duplicates (e.g. the same pair on several days)."""
    combined: dict[tuple[str, str | None], UsageTally] = {}
    for tally in tallies:
        key = (tally.agent, tally.model)
        combined[key] = combined[key] + tally if key in combined else tally
    return list(combined.values())


def tally_sessions(sessions: Iterable[Session]) -> list[UsageTally]:
    """Aggregate raw sessions into one tally per (agent, model), for stores that cannot aggregate themselves."""
    return combine(
        UsageTally(
            agent=session.agent,
            model=session.model,
            sessions=1,
            ended_sessions=0 if session.ended_at is None else 1,
            total_duration_seconds=Decimal(0) if session.ended_at is None else _seconds(session.ended_at - session.started_at),
            missing_key_sessions=1 if session.missing_key else 0,
        )
        for session in sessions
    )


@dataclass(frozen=True)
class RollupJob:
    usage: UsageSource
    rollups: RollupStore
    clock: Callable[[], datetime] = utc_now

    def run(self, *, full: bool = False) -> RollupRun:
        """Recompute every day with a session changed since the watermark (every day when ``full``)."""
        started = self.clock()
        since = None if full else self.rollups.watermark()
        days = tuple(sorted(self.usage.changed_days(since)))
        watermark = started - WATERMARK_OVERLAP
        self.rollups.replace_days({day: self.usage.tally_day(day) for day in days}, watermark)
        run = RollupRun(since=since, days=days, watermark=watermark)
        logger.info("agent usage rolled up", extra=run.to_json())
        return run
