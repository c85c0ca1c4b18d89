"""Structured logging and metrics shared by every capability."""
from chalicelib.observability.logging import RedactingFormatter, logger, redact
from chalicelib.observability.metrics import count, flush_after

__all__ = ["RedactingFormatter", "count", "flush_after", "logger", "redact"]
