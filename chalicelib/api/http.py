"""The one place where service errors become HTTP responses, and where request bodies are parsed."""
from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import Any

from chalice import Response

from chalicelib.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    ServiceError,
    UnauthorizedError,
    UpstreamError,
)
from chalicelib.observability import logger

MAX_BODY_BYTES = 16 * 1024

_STATUS: dict[type[ServiceError], int] = {
    PayloadTooLargeError: 413,
    InvalidInputError: 400,
    UnauthorizedError: 401,
    ForbiddenError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    UpstreamError: 502,
}


def error_response(exc: ServiceError) -> Response:
    status = next((_STATUS[cls] for cls in type(exc).__mro__ if cls in _STATUS), 500)
    return Response(body={"Code": exc.code, "Message": exc.public_message}, status_code=status)


def http_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ServiceErrors into JSON error responses; anything else stays Chalice's generic 500."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ServiceError as exc:
            if not isinstance(exc, (InvalidInputError, UnauthorizedError, ForbiddenError, NotFoundError)):
                logger.warning("request failed", extra={"error": exc.code})
            return error_response(exc)

    return wrapper


def parse_json_object(raw_body: bytes | None, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The request body as a JSON object; raises InvalidInputError (or PayloadTooLargeError)."""
    if raw_body is not None and len(raw_body) > max_bytes:
        raise PayloadTooLargeError(f"request body is larger than {max_bytes // 1024} KiB")
    if not raw_body:
        raise InvalidInputError("request body must be a JSON object")
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInputError("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidInputError("request body must be a JSON object")
    return body


def log_request(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice HTTP middleware: one structured line per request — route and status only, never headers or body."""
    started = time.perf_counter()
    response = get_response(event)
    logger.info(
        "request",
        extra={
            "method": event.method,
            "route": event.context.get("resourcePath"),
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
    return response
