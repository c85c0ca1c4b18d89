"""UsageStore on PostgreSQL: ``agent_usage`` rows and ``usage_detector_state`` (migrations/0003)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from chalicelib.usage.errors import UsageStoreUnavailableError
from chalicelib.usage.ports import AgentUsage, SessionProgress

_INSERT_USAGE = """
insert into agent_usage (id, user_id, project_id, terminal_session_id, agent, model, missing_key, started_at)
values (%s, %s, %s, %s, %s, %s, %s, %s)
on conflict (id) do nothing
"""
# `is distinct from` guards keep a redelivered record from touching updated_at.
_SET_MODEL = "update agent_usage set model = %s where id = %s and model is distinct from %s"
_MARK_MISSING_KEY = "update agent_usage set missing_key = true where id = %s and not missing_key"
_END_USAGE = "update agent_usage set ended_at = %s where id = %s and ended_at is distinct from %s"
_LOAD_PROGRESS = """
select last_seq, state, open_usage_id::text as open_usage_id from usage_detector_state where terminal_session_id = %s
"""
_SAVE_PROGRESS = """
insert into usage_detector_state (terminal_session_id, last_seq, state, open_usage_id)
values (%s, %s, %s, %s)
on conflict (terminal_session_id) do update
set last_seq = excluded.last_seq, state = excluded.state, open_usage_id = excluded.open_usage_id, updated_at = now()
"""


@dataclass(frozen=True)
class PostgresUsageStore:
    pool: ConnectionPool

    def _execute(self, sql: str, params: tuple) -> list[dict]:
        try:
            with self.pool.connection() as conn:
                cursor = conn.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        except psycopg.Error as exc:
            raise UsageStoreUnavailableError("usage store unavailable") from exc

    def load_progress(self, terminal_session_id: str) -> SessionProgress | None:
        rows = self._execute(_LOAD_PROGRESS, (terminal_session_id,))
        if not rows:
            return None
        row = rows[0]
        return SessionProgress(terminal_session_id, row["last_seq"], row["state"], row["open_usage_id"])

    def save_progress(self, progress: SessionProgress) -> None:
        self._execute(
            _SAVE_PROGRESS,
            (progress.terminal_session_id, progress.last_seq, Jsonb(progress.state), progress.open_usage_id),
        )

    def start_usage(self, usage: AgentUsage) -> None:
        self._execute(
            _INSERT_USAGE,
            (usage.id, usage.user_id, usage.project_id, usage.terminal_session_id, usage.agent, usage.model,
             usage.missing_key, usage.started_at),
        )

    def set_model(self, usage_id: str, model: str) -> None:
        self._execute(_SET_MODEL, (model, usage_id, model))

    def mark_missing_key(self, usage_id: str) -> None:
        self._execute(_MARK_MISSING_KEY, (usage_id,))

    def end_usage(self, usage_id: str, ended_at: datetime) -> None:
        self._execute(_END_USAGE, (ended_at, usage_id, ended_at))
