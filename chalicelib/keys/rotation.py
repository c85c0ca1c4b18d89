"""Re-wrap every stored data key under the current KEK without opening the API keys themselves."""
from __future__ import annotations

from collections.abc import Callable

from chalicelib.crypto import EncryptionContext, Envelope
from chalicelib.errors import ServiceError
from chalicelib.keys.models import RotationReport
from chalicelib.keys.ports import KeyRepository
from chalicelib.observability import logger


def rewrap_all(
    repository: KeyRepository,
    envelope: Envelope,
    on_progress: Callable[[RotationReport], None] | None = None,
) -> RotationReport:
    """Safe to re-run: records already under the current KEK are counted and left alone."""
    counts = dict.fromkeys(RotationReport.__dataclass_fields__, 0)
    for record in repository.scan():
        counts["scanned"] += 1
        if not envelope.needs_rewrap(record.sealed):
            counts["already_current"] += 1
        else:
            context = EncryptionContext(user_id=record.user_id, provider=record.provider)
            try:
                rewrapped = envelope.rewrap(record.sealed, context)
            except ServiceError as exc:
                counts["failed"] += 1
                logger.warning("rewrap failed", extra={"provider": record.provider, "error": exc.code})
            else:
                # A key replaced by its owner meanwhile is already under the current KEK.
                counts["rewrapped" if repository.replace_sealed(record, rewrapped) else "skipped_changed"] += 1
        if on_progress is not None:
            on_progress(RotationReport(**counts))
    return RotationReport(**counts)
