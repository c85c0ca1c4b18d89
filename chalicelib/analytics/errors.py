"""Errors raised by agent analytics."""
from chalicelib.errors import InvalidInputError, UpstreamError


class InvalidPeriodError(InvalidInputError):
    """Raised when ``period`` is not ``<N>d`` with 1 <= N <= 365; the message says what is accepted."""

    code = "invalid_period"


class RollupWriteThrottledError(UpstreamError):
    """Raised when DynamoDB still leaves rollup writes unprocessed after every retry; the next run redoes them."""

    code = "rollup_write_throttled"
