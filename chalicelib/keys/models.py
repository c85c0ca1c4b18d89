"""What the vault stores and what it shows."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.crypto import SealedSecret


@dataclass(frozen=True)
class StoredKey:
    """One (user, provider) record as the repository keeps it: sealed, never plaintext."""

    user_id: str
    provider: str
    sealed: SealedSecret
    hint: str
    added_at: datetime
    updated_at: datetime
    last_used_at: datetime | None = None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


@dataclass(frozen=True)
class KeySummary:
    """A provider's status as callers see it: never the key, never the ciphertext."""

    provider: str
    connected: bool
    added_at: datetime | None = None
    updated_at: datetime | None = None
    last_used_at: datetime | None = None
    hint: str | None = None

    @classmethod
    def of(cls, stored: StoredKey) -> KeySummary:
        return cls(
            provider=stored.provider,
            connected=True,
            added_at=stored.added_at,
            updated_at=stored.updated_at,
            last_used_at=stored.last_used_at,
            hint=stored.hint,
        )

    def to_json(self) -> dict[str, Any]:
        if not self.connected:
            return {"provider": self.provider, "connected": False}
        return {
            "provider": self.provider,
            "connected": True,
            "added_at": _iso(self.added_at),
            "updated_at": _iso(self.updated_at),
            "last_used_at": _iso(self.last_used_at),
            "hint": self.hint,
        }


@dataclass(frozen=True)
class RotationReport:
    scanned: int = 0
    rewrapped: int = 0
    already_current: int = 0
    skipped_changed: int = 0
    failed: int = 0
