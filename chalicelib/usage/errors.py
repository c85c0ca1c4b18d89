"""Errors raised while ingesting terminal chunks and recording agent usage."""
from chalicelib.errors import InvalidInputError, UpstreamError


class InvalidChunkError(InvalidInputError):
    """Raised when a stream record is not a well-formed terminal chunk (a poison record)."""

    code = "invalid_terminal_chunk"


class UsageStoreUnavailableError(UpstreamError):
    """Raised when the usage store (PostgreSQL, DynamoDB) fails; the record is retried."""

    code = "usage_store_unavailable"


class SessionBlockedError(UpstreamError):
    """Raised for a record whose session failed earlier in the batch: it must be retried in order."""

    code = "session_blocked"
