"""Structured logging and metrics shared by every capability."""
from chalicelib.observability.logging import RedactingFormatter, logger, redact

__all__ = ["RedactingFormatter", "logger", "redact"]
