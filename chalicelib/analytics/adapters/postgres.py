"""Analytics on PostgreSQL: aggregates agent_usage in SQL and keeps rollups in agent_usage_rollups."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from psycopg_pool import ConnectionPool

from chalicelib.analytics.models import ONE_DAY, UsageTally, day_start

_DAY_OF = "(started_at at time zone 'UTC')::date"
_CHANGED_DAYS = f"select distinct {_DAY_OF} as day from agent_usage where updated_at >= %s"
_ALL_DAYS = f"select distinct {_DAY_OF} as day from agent_usage"
# A half-open started_at range, so the started_at index serves it.
_TALLY_DAY = """
select agent, model,
       count(*) as sessions,
       count(ended_at) as ended_sessions,
       coalesce(sum(extract(epoch from ended_at - started_at)), 0) as total_duration_seconds,
       count(*) filter (where missing_key) as missing_key_sessions
from agent_usage
where started_at >= %s and started_at < %s
group by agent, model
"""

_JOB = "agent_usage_rollups"
# Serialises concurrent runs (the hourly schedule and `make rollup`); any constant works.
_ROLLUP_LOCK_ID = 7_310_413
_LOCK = "select pg_advisory_xact_lock(%s)"
_DELETE_DAYS = "delete from agent_usage_rollups where day = any(%s)"
_INSERT_ROLLUP = """
insert into agent_usage_rollups
    (day, agent, model, sessions, ended_sessions, total_duration_seconds, missing_key_sessions)
values (%s, %s, %s, %s, %s, %s, %s)
"""
_GET_WATERMARK = "select watermark from analytics_watermarks where job = %s"
_SET_WATERMARK = """
insert into analytics_watermarks (job, watermark) values (%s, %s)
on conflict (job) do update set watermark = excluded.watermark, updated_at = now()
"""
_TALLIES_BETWEEN = """
select agent, model,
       sum(sessions)::bigint as sessions,
       sum(ended_sessions)::bigint as ended_sessions,
       sum(total_duration_seconds) as total_duration_seconds,
       sum(missing_key_sessions)::bigint as missing_key_sessions
from agent_usage_rollups
where day between %s and %s
group by agent, model
"""


def _tally(row: dict[str, Any]) -> UsageTally:
    return UsageTally(
        agent=row["agent"],
        model=row["model"],
        sessions=row["sessions"],
        ended_sessions=row["ended_sessions"],
        total_duration_seconds=row["total_duration_seconds"],
        missing_key_sessions=row["missing_key_sessions"],
    )


@dataclass(frozen=True)
class PostgresUsageSource:
    pool: ConnectionPool

    def changed_days(self, since: datetime | None) -> set[date]:
        with self.pool.connection() as conn:
            rows = conn.execute(_ALL_DAYS) if since is None else conn.execute(_CHANGED_DAYS, (since,))
            return {row["day"] for row in rows}

    def tally_day(self, day: date) -> list[UsageTally]:
        with self.pool.connection() as conn:
            return [_tally(row) for row in conn.execute(_TALLY_DAY, (day_start(day), day_start(day + ONE_DAY)))]


@dataclass(frozen=True)
class PostgresRollupStore:
    pool: ConnectionPool

    def watermark(self) -> datetime | None:
        with self.pool.connection() as conn:
            row = conn.execute(_GET_WATERMARK, (_JOB,)).fetchone()
        return row["watermark"] if row else None

    def replace_days(self, tallies_by_day: Mapping[date, list[UsageTally]], watermark: datetime) -> None:
        rows = [
            (day, t.agent, t.model, t.sessions, t.ended_sessions, t.total_duration_seconds, t.missing_key_sessions)
            for day, tallies in tallies_by_day.items()
            for t in tallies
        ]
        # One transaction: readers see each day either before or after, and the watermark moves with the rows.
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(_LOCK, (_ROLLUP_LOCK_ID,))
            conn.execute(_DELETE_DAYS, (list(tallies_by_day),))
            with conn.cursor() as cursor:
                cursor.executemany(_INSERT_ROLLUP, rows)
            conn.execute(_SET_WATERMARK, (_JOB, watermark))

    def tallies_between(self, first_day: date, last_day: date) -> list[UsageTally]:
        with self.pool.connection() as conn:
            return [_tally(row) for row in conn.execute(_TALLIES_BETWEEN, (first_day, last_day))]
