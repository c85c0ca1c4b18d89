"""In-memory ProjectRepository: the PostgreSQL/DynamoDB contract with a dict instead of a table."""
from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.projects.models import MachineStatus, Project


@dataclass
class InMemoryProjectRepository:
    rows: dict[str, Project] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, project: Project) -> None:
        with self.lock:
            self.rows[project.id] = project

    def get(self, project_id: str) -> Project | None:
        return self.rows.get(project_id)

    def replace_env(self, project_id: str, owner_id: str, env: Mapping[str, str]) -> bool:
        with self.lock:
            project = self.rows.get(project_id)
            if project is None or project.owner_id != owner_id:
                return False
            self.rows[project_id] = dataclasses.replace(project, env=dict(env))
            return True

    def claim_start(self, project_id: str, owner_id: str, start_id: str, now: datetime, stale_before: datetime) -> bool:
        with self.lock:
            project = self.rows.get(project_id)
            if project is None or project.owner_id != owner_id:
                return False
            machine = project.machine
            if machine.state == "starting" and machine.updated_at and machine.updated_at >= stale_before:
                return False
            claimed = dataclasses.replace(machine, state="starting", error_code=None, start_id=start_id,
                                          updated_at=now)
            self.rows[project_id] = dataclasses.replace(project, machine=claimed)
            return True

    def record_machine(self, project_id: str, status: MachineStatus) -> bool:
        with self.lock:
            project = self.rows.get(project_id)
            if project is None or project.machine.start_id != status.start_id:
                return False
            recorded = dataclasses.replace(status, machine_id=status.machine_id or project.machine.machine_id)
            self.rows[project_id] = dataclasses.replace(project, machine=recorded)
            return True
