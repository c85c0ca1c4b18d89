"""Errors of the projects capability."""
from __future__ import annotations

from chalicelib.errors import ConflictError, InvalidInputError, NotFoundError


class InvalidProjectError(InvalidInputError):
    """Raised when a project name or env var is malformed or uses a reserved name."""

    code = "invalid_project"


class ProjectNotFoundError(NotFoundError):
    """Raised when a project does not exist or belongs to another user (the two are indistinguishable)."""

    code = "project_not_found"


class StartInProgressError(ConflictError):
    """Raised when a start is requested while another start of the same project is still running."""

    code = "start_in_progress"
