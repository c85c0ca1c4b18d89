"""The agent analytics report: whole days from the rollups, today from the raw rows, shaped as the product spec says."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from chalicelib.analytics.models import (
    ONE_DAY,
    AgentReport,
    AgentShare,
    ModelShare,
    Period,
    UsageTally,
    one_decimal,
    utc_day,
    utc_now,
)
from chalicelib.analytics.period import parse_period
from chalicelib.analytics.ports import RollupStore, UsageSource
from chalicelib.analytics.rollups import combine

_TENTHS_IN_WHOLE = 1000  # percentages are reported in tenths of a percent


def _tenths_of_percent(counts: list[int]) -> list[int]:
    """Largest-remainder apportionment of 100.0% in tenths: each share is within 0.1 of exact and they sum to 100.0.

    ``counts`` come in report order, which also breaks ties between equal remainders.
    """
    total = sum(counts)
    floors = [count * _TENTHS_IN_WHOLE // total for count in counts]
    leftover = _TENTHS_IN_WHOLE - sum(floors)
    by_remainder = sorted(range(len(counts)), key=lambda i: -(counts[i] * _TENTHS_IN_WHOLE % total))
    for index in by_remainder[:leftover]:
        floors[index] += 1
    return floors


def build_report(period: Period, tallies: Iterable[UsageTally]) -> AgentReport:
    """Shape tallies of the period's sessions into the report: sorted by sessions desc, then by name."""
    sessions: dict[str, int] = defaultdict(int)
    ended: dict[str, int] = defaultdict(int)
    duration: dict[str, Decimal] = defaultdict(Decimal)
    model_sessions: dict[str, int] = defaultdict(int)
    missing_key = 0
    for tally in combine(tallies):
        sessions[tally.agent] += tally.sessions
        ended[tally.agent] += tally.ended_sessions
        duration[tally.agent] += tally.total_duration_seconds
        missing_key += tally.missing_key_sessions
        if tally.model is not None:
            model_sessions[tally.model] += tally.sessions
    agents = sorted(sessions, key=lambda agent: (-sessions[agent], agent))
    tenths = _tenths_of_percent([sessions[agent] for agent in agents]) if agents else []
    return AgentReport(
        period=period,
        total_sessions=sum(sessions.values()),
        missing_key_sessions=missing_key,
        by_agent=tuple(
            AgentShare(
                agent=agent,
                sessions=sessions[agent],
                percentage=Decimal(share).scaleb(-1),
                avg_duration_seconds=one_decimal(duration[agent] / ended[agent]) if ended[agent] else None,
            )
            for agent, share in zip(agents, tenths)
        ),
        by_model=tuple(
            ModelShare(model=model, sessions=count)
            for model, count in sorted(model_sessions.items(), key=lambda item: (-item[1], item[0]))
        ),
    )


@dataclass(frozen=True)
class AgentAnalytics:
    """``GET /admin/analytics/agents``: its cost depends on days and distinct agents/models, not on sessions."""

    usage: UsageSource
    rollups: RollupStore
    clock: Callable[[], datetime] = utc_now

    def report(self, period_text: str | None) -> AgentReport:
        """The report for ``period_text`` (``<N>d``, default 30d); raises InvalidPeriodError."""
        period = parse_period(period_text)
        today = utc_day(self.clock())
        first_day = period.first_day(today)
        # Today is still changing, so it comes from the raw rows; earlier days from the hourly rollups.
        tallies = list(self.usage.tally_day(today))
        if first_day < today:
            tallies.extend(self.rollups.tallies_between(first_day, today - ONE_DAY))
        return build_report(period, tallies)
