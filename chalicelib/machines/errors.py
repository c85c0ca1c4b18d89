"""Errors raised while starting a project's machine; each carries one stable code for the caller."""
from __future__ import annotations

from chalicelib.errors import UpstreamError


class FlyUnavailableError(UpstreamError):
    """Raised when Fly did not answer usefully in time (timeouts, 408/429/5xx, a held lease); worth a retry."""

    code = "fly_unavailable"


class CreateOutcomeUnknownError(FlyUnavailableError):
    """Raised when a create request may or may not have made a machine (408, 5xx, a dropped connection)."""


class FlyCapacityError(UpstreamError):
    """Raised when Fly has no capacity for the machine in the region."""

    code = "fly_capacity"


class FlyRejectedError(UpstreamError):
    """Raised when Fly refused the request (bad config, token or app) and a retry would not help."""

    code = "fly_rejected"


class MachineRolledBackError(FlyRejectedError):
    """Raised when Fly silently kept the previous machine version after an update."""
