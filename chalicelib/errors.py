"""Error categories shared by every capability; only chalicelib.api maps them to HTTP statuses."""
from __future__ import annotations


class ServiceError(Exception):
    """Base of every error the service raises on purpose.

    ``code`` is a stable machine-readable name and ``public_message`` is safe to show a caller:
    neither ever holds key material.
    """

    code = "internal_error"

    def __init__(self, public_message: str, *, code: str | None = None) -> None:
        super().__init__(public_message)
        self.public_message = public_message
        if code is not None:
            self.code = code


class InvalidInputError(ServiceError):
    """Raised when a caller's input is malformed or not allowed."""

    code = "invalid_input"


class PayloadTooLargeError(InvalidInputError):
    """Raised when a request body is over its size limit."""

    code = "payload_too_large"


class UnauthorizedError(ServiceError):
    """Raised when a request carries no valid credentials."""

    code = "unauthorized"


class ForbiddenError(ServiceError):
    """Raised when a valid caller may not use this route (e.g. admin routes)."""

    code = "forbidden"


class NotFoundError(ServiceError):
    """Raised when a resource does not exist or belongs to someone else."""

    code = "not_found"


class ConflictError(ServiceError):
    """Raised when a write loses a race it cannot resolve by itself."""

    code = "conflict"


class UpstreamError(ServiceError):
    """Raised when a dependency (KMS, Fly, a database) fails; usually worth a retry."""

    code = "upstream_error"


class IntegrityError(ServiceError):
    """Raised when stored data fails an integrity check (e.g. a tampered ciphertext)."""

    code = "integrity_error"


class ConfigError(ServiceError):
    """Raised when the service is misconfigured."""

    code = "config_error"
