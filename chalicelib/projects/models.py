"""Projects as this service needs them: an owner, a name, env vars and the last known machine."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class MachineStatus:
    """The last known state of a project's machine, as recorded by the start flow."""

    state: str = "none"  # none | starting | started | failed
    machine_id: str | None = None
    error_code: str | None = None
    start_id: str | None = None
    updated_at: datetime | None = None

    def to_json(self, project_id: str) -> dict[str, Any]:
        return {
            "project_id": project_id,
            "machine_id": self.machine_id,
            "state": self.state,
            "error": self.error_code,
            "start_id": self.start_id,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


@dataclass(frozen=True)
class Project:
    id: str
    owner_id: str
    name: str
    # Project vars may be secrets of their own: kept out of repr.
    env: Mapping[str, str] = field(repr=False)
    machine: MachineStatus = MachineStatus()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "env": dict(self.env)}
