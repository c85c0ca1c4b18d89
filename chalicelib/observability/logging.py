"""Powertools JSON logger whose formatter masks secrets passed to it by mistake."""
from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

MASK = "*****"
# Field names whose values are never logged, whatever they hold.
SENSITIVE_FIELDS = frozenset(
    {"api_key", "apikey", "authorization", "token", "access_token", "plaintext", "secret", "password",
     "data_key", "env", "master_key"}
)
# Values that look like provider keys or bearer tokens are masked wherever they appear.
_SECRET_PATTERNS = re.compile(
    r"sk-[A-Za-z0-9_\-]{8,}"  # Anthropic / OpenAI
    r"|AIza[0-9A-Za-z_\-]{20,}"  # Google
    r"|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"  # JWTs
    r"|(?i:bearer|flyv1)\s+[A-Za-z0-9_\-.=+/,]{8,}"
)


def redact(value: Any) -> Any:
    """Return ``value`` with sensitive fields and secret-looking substrings masked."""
    if isinstance(value, dict):
        return {k: MASK if str(k).lower() in SENSITIVE_FIELDS else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    # Anything else (exceptions in stack traces, datetimes...) is logged as its text: redact that text.
    return _SECRET_PATTERNS.sub(MASK, str(value))


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter with every record passed through :func:`redact`."""

    def serialize(self, log: dict[str, Any]) -> str:
        return self.json_serializer(redact(log))


# Service name differs from the Chalice app name so lines are not printed twice (see docs/architecture.md).
logger = Logger(service="aether-agents-svc", logger_formatter=RedactingFormatter())
