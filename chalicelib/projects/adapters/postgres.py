"""ProjectRepository on PostgreSQL: one row per project in projects."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from chalicelib.projects.models import MachineStatus, Project

_COLUMNS = "id, owner_id, name, env, machine_state, machine_id, machine_error, start_id, machine_updated_at"
_INSERT = "insert into projects (id, owner_id, name, env) values (%s, %s, %s, %s)"
_GET = f"select {_COLUMNS} from projects where id = %s"
_REPLACE_ENV = "update projects set env = %s, updated_at = now() where id = %s and owner_id = %s"
# One conditional UPDATE: two concurrent starts cannot both claim the project.
_CLAIM_START = """
update projects set machine_state = 'starting', machine_error = null, start_id = %(start_id)s,
                    machine_updated_at = %(now)s
where id = %(id)s and owner_id = %(owner_id)s
  and (machine_state <> 'starting' or machine_updated_at < %(stale_before)s)
"""
_RECORD_MACHINE = """
update projects set machine_state = %(state)s, machine_id = coalesce(%(machine_id)s, machine_id),
                    machine_error = %(error)s, machine_updated_at = %(at)s
where id = %(id)s and start_id = %(start_id)s
"""


def _project(row: dict[str, Any]) -> Project:
    return Project(
        id=str(row["id"]),
        owner_id=str(row["owner_id"]),
        name=row["name"],
        env=dict(row["env"]),
        machine=MachineStatus(
            state=row["machine_state"],
            machine_id=row["machine_id"],
            error_code=row["machine_error"],
            start_id=str(row["start_id"]) if row["start_id"] else None,
            updated_at=row["machine_updated_at"],
        ),
    )


@dataclass(frozen=True)
class PostgresProjectRepository:
    pool: ConnectionPool

    def add(self, project: Project) -> None:
        with self.pool.connection() as conn:
            conn.execute(_INSERT, (project.id, project.owner_id, project.name, Jsonb(dict(project.env))))

    def get(self, project_id: str) -> Project | None:
        with self.pool.connection() as conn:
            row = conn.execute(_GET, (project_id,)).fetchone()
        return _project(row) if row else None

    def replace_env(self, project_id: str, owner_id: str, env: Mapping[str, str]) -> bool:
        with self.pool.connection() as conn:
            return conn.execute(_REPLACE_ENV, (Jsonb(dict(env)), project_id, owner_id)).rowcount == 1

    def claim_start(self, project_id: str, owner_id: str, start_id: str, now: datetime, stale_before: datetime) -> bool:
        params = {"id": project_id, "owner_id": owner_id, "start_id": start_id, "now": now,
                  "stale_before": stale_before}
        with self.pool.connection() as conn:
            return conn.execute(_CLAIM_START, params).rowcount == 1

    def record_machine(self, project_id: str, status: MachineStatus) -> bool:
        params = {"id": project_id, "start_id": status.start_id, "state": status.state,
                  "machine_id": status.machine_id, "error": status.error_code, "at": status.updated_at}
        with self.pool.connection() as conn:
            return conn.execute(_RECORD_MACHINE, params).rowcount == 1
