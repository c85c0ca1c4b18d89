"""Analytics values: the report window, per (agent, model) tallies and the report the admin route returns."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

ONE_DAY = timedelta(days=1)
_TENTH = Decimal("0.1")


def day_start(day: date) -> datetime:
    """Midnight UTC opening ``day``: analytics days are UTC days."""
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def utc_day(moment: datetime) -> date:
    return moment.astimezone(timezone.utc).date()


@dataclass(frozen=True)
class Period:
    """``<days>d``: today (UTC, so far) and the ``days - 1`` whole UTC days before it."""

    days: int

    @property
    def label(self) -> str:
        return f"{self.days}d"

    def first_day(self, today: date) -> date:
        return today - timedelta(days=self.days - 1)


@dataclass(frozen=True)
class Session:
    """One agent session as analytics sees it (no user, project or terminal)."""

    agent: str
    model: str | None
    started_at: datetime
    ended_at: datetime | None
    missing_key: bool


@dataclass(frozen=True)
class UsageTally:
    """Sessions of one (agent, model) pair over some days; a session belongs to the UTC day it started on.

    ``model`` is None when it was never detected. ``total_duration_seconds`` sums the sessions that ended.
    """

    agent: str
    model: str | None
    sessions: int
    ended_sessions: int
    total_duration_seconds: Decimal
    missing_key_sessions: int

    def __add__(self, other: UsageTally) -> UsageTally:
        return UsageTally(
            agent=self.agent,
            model=self.model,
            sessions=self.sessions + other.sessions,
            ended_sessions=self.ended_sessions + other.ended_sessions,
            total_duration_seconds=self.total_duration_seconds + other.total_duration_seconds,
            missing_key_sessions=self.missing_key_sessions + other.missing_key_sessions,
        )


@dataclass(frozen=True)
class AgentShare:
    agent: str
    sessions: int
    percentage: Decimal
    avg_duration_seconds: Decimal | None  # None when none of the agent's sessions ended

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "sessions": self.sessions,
            "percentage": float(self.percentage),
            "avg_duration_seconds": None if self.avg_duration_seconds is None else float(self.avg_duration_seconds),
        }


@dataclass(frozen=True)
class ModelShare:
    model: str
    sessions: int

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "sessions": self.sessions}


@dataclass(frozen=True)
class AgentReport:
    period: Period
    total_sessions: int
    missing_key_sessions: int
    by_agent: tuple[AgentShare, ...]
    by_model: tuple[ModelShare, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period.label,
            "total_sessions": self.total_sessions,
            "missing_key_sessions": self.missing_key_sessions,
            "by_agent": [share.to_json() for share in self.by_agent],
            "by_model": [share.to_json() for share in self.by_model],
        }


@dataclass(frozen=True)
class RollupRun:
    """What one rollup run did: the days it recomputed and the watermark the next run starts from."""

    since: datetime | None
    days: tuple[date, ...]
    watermark: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "days_recomputed": len(self.days),
            "first_day": self.days[0].isoformat() if self.days else None,
            "last_day": self.days[-1].isoformat() if self.days else None,
            "watermark": self.watermark.isoformat(),
        }


def one_decimal(value: Decimal) -> Decimal:
    """Round half up to one decimal place, as reported."""
    return value.quantize(_TENTH, rounding=ROUND_HALF_UP)
