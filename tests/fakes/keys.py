"""In-memory KeyRepository: the same contract as the PostgreSQL and DynamoDB adapters, a dict instead of a table."""
from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.crypto import SealedSecret
from chalicelib.keys.models import StoredKey


@dataclass
class InMemoryKeyRepository:
    rows: dict[tuple[str, str], StoredKey] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def upsert(self, record: StoredKey) -> StoredKey:
        with self.lock:
            existing = self.rows.get((record.user_id, record.provider))
            if existing is not None:
                record = dataclasses.replace(record, added_at=existing.added_at, last_used_at=existing.last_used_at)
            self.rows[(record.user_id, record.provider)] = record
            return record

    def list_for_user(self, user_id: str) -> list[StoredKey]:
        return sorted((r for (u, _), r in self.rows.items() if u == user_id), key=lambda r: r.provider)

    def delete(self, user_id: str, provider: str) -> bool:
        with self.lock:
            return self.rows.pop((user_id, provider), None) is not None

    def mark_used(self, user_id: str, providers: Iterable[str], at: datetime) -> None:
        with self.lock:
            for provider in providers:
                if (user_id, provider) in self.rows:
                    self.rows[(user_id, provider)] = dataclasses.replace(self.rows[(user_id, provider)], last_used_at=at)

    def scan(self) -> Iterator[StoredKey]:
        yield from list(self.rows.values())

    def replace_sealed(self, record: StoredKey, sealed: SealedSecret) -> bool:
        with self.lock:
            current = self.rows.get((record.user_id, record.provider))
            if current is None or current.sealed != record.sealed:
                return False
            self.rows[(record.user_id, record.provider)] = dataclasses.replace(current, sealed=sealed)
            return True
