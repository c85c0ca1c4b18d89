"""The key repository port: one record per (user, provider)."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Protocol

from chalicelib.crypto import SealedSecret
from chalicelib.keys.models import StoredKey


class KeyRepository(Protocol):
    def upsert(self, record: StoredKey) -> StoredKey:
        """Insert or replace the (user, provider) record atomically, keeping an existing ``added_at``."""
        ...

    def list_for_user(self, user_id: str) -> list[StoredKey]: ...

    def delete(self, user_id: str, provider: str) -> bool: ...

    def mark_used(self, user_id: str, providers: Iterable[str], at: datetime) -> None: ...

    def scan(self) -> Iterator[StoredKey]:
        """Every record, for maintenance jobs such as key rotation."""
        ...

    def replace_sealed(self, record: StoredKey, sealed: SealedSecret) -> bool:
        """Swap in ``sealed`` only if the record still holds ``record.sealed``; False when it changed meanwhile."""
        ...
