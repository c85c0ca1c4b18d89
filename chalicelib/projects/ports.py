"""Storage the projects service needs, in its own words."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from chalicelib.projects.models import MachineStatus, Project


class ProjectRepository(Protocol):
    def add(self, project: Project) -> None: ...

    def get(self, project_id: str) -> Project | None: ...

    def replace_env(self, project_id: str, owner_id: str, env: Mapping[str, str]) -> bool:
        """Replace the env of the owner's project; False if there is no such project."""

    def claim_start(self, project_id: str, owner_id: str, start_id: str, now: datetime, stale_before: datetime) -> bool:
        """Mark the project "starting" under ``start_id`` unless another start began after ``stale_before``."""

    def record_machine(self, project_id: str, status: MachineStatus) -> bool:
        """Store the outcome of the start named by ``status.start_id``; False if a newer start superseded it."""
