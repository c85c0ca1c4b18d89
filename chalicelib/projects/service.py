"""Project use cases: create, replace env, read, and the bookkeeping of machine starts."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from chalicelib.projects.errors import InvalidProjectError, ProjectNotFoundError, StartInProgressError
from chalicelib.projects.models import MachineStatus, Project
from chalicelib.projects.ports import ProjectRepository
from chalicelib.projects.validation import validate_env, validate_project_name

# A start still "starting" after this long is considered dead (its execution failed to record anything).
START_STALE_AFTER = timedelta(minutes=15)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ProjectService:
    repository: ProjectRepository
    clock: Callable[[], datetime] = utc_now

    def create(self, owner_id: str, name: object, env: object) -> Project:
        project = Project(id=str(uuid.uuid4()), owner_id=owner_id, name=validate_project_name(name),
                          env=validate_env(env))
        self.repository.add(project)
        return project

    def replace_env(self, owner_id: str, project_id: str, env: object) -> Project:
        """Replace the whole env; raises InvalidProjectError before changing anything, or ProjectNotFoundError."""
        if env is None:
            raise InvalidProjectError("'env' is required: an object of NAME: value strings")
        valid_env = validate_env(env)
        self.get_owned(owner_id, project_id)
        if not self.repository.replace_env(project_id, owner_id, valid_env):
            raise ProjectNotFoundError("project not found")
        return self.get_owned(owner_id, project_id)

    def get_owned(self, owner_id: str, project_id: str) -> Project:
        """The owner's project; another user's project is "not found" too."""
        project = self.repository.get(project_id) if _is_uuid(project_id) else None
        if project is None or project.owner_id != owner_id:
            raise ProjectNotFoundError("project not found")
        return project

    def begin_start(self, owner_id: str, project_id: str) -> str:
        """Claim the project for a new start and return its id; raises StartInProgressError."""
        self.get_owned(owner_id, project_id)
        start_id = str(uuid.uuid4())
        now = self.clock()
        if not self.repository.claim_start(project_id, owner_id, start_id, now, now - START_STALE_AFTER):
            raise StartInProgressError("this project is already starting")
        return start_id

    def record_machine(self, project_id: str, start_id: str, state: str, *, machine_id: str | None = None,
                       error_code: str | None = None) -> None:
        self.repository.record_machine(project_id, MachineStatus(
            state=state, machine_id=machine_id, error_code=error_code, start_id=start_id, updated_at=self.clock()))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True
