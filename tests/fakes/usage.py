"""In-memory UsageStore and ChunkSink: the same contracts as the PostgreSQL/DynamoDB/Kinesis adapters."""
from __future__ import annotations

import dataclasses
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.usage.ports import AgentUsage, OutgoingRecord, SessionProgress


@dataclass
class InMemoryUsageStore:
    rows: dict[str, AgentUsage] = field(default_factory=dict)
    progress: dict[str, str] = field(default_factory=dict)  # JSON, like the real tables
    writes: int = 0  # row writes that changed something (a redelivery must add none)
    fail_on: set[str] = field(default_factory=set)  # method names that raise, to test failure paths

    def _maybe_fail(self, method: str) -> None:
        if method in self.fail_on:
            from chalicelib.usage.errors import UsageStoreUnavailableError

            raise UsageStoreUnavailableError("usage store unavailable")

    def load_progress(self, terminal_session_id: str) -> SessionProgress | None:
        stored = self.progress.get(terminal_session_id)
        return SessionProgress(**json.loads(stored)) if stored else None

    def save_progress(self, progress: SessionProgress) -> None:
        self._maybe_fail("save_progress")
        self.progress[progress.terminal_session_id] = json.dumps(dataclasses.asdict(progress))

    def start_usage(self, usage: AgentUsage) -> None:
        self._maybe_fail("start_usage")
        if usage.id not in self.rows:
            self.rows[usage.id] = usage
            self.writes += 1

    def _change(self, usage_id: str, **values) -> None:
        row = self.rows.get(usage_id)
        if row is not None and any(getattr(row, name) != value for name, value in values.items()):
            self.rows[usage_id] = dataclasses.replace(row, **values)
            self.writes += 1

    def set_model(self, usage_id: str, model: str) -> None:
        self._change(usage_id, model=model)

    def mark_missing_key(self, usage_id: str) -> None:
        self._change(usage_id, missing_key=True)

    def end_usage(self, usage_id: str, ended_at: datetime) -> None:
        self._maybe_fail("end_usage")
        self._change(usage_id, ended_at=ended_at)


@dataclass
class InMemoryChunkSink:
    """Accepts records like Kinesis; ``reject`` decides per record whether this attempt fails."""

    received: list[OutgoingRecord] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)  # records per call
    reject: object = None  # callable(record, attempt) -> bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    _attempts: dict[bytes, int] = field(default_factory=dict)

    def put_records(self, records: list[OutgoingRecord]) -> list[bool]:
        accepted = []
        with self.lock:
            self.calls.append(len(records))
            for record in records:
                attempt = self._attempts.get(record.data, 0)
                self._attempts[record.data] = attempt + 1
                ok = not (self.reject and self.reject(record, attempt))
                if ok:
                    self.received.append(record)
                accepted.append(ok)
        return accepted
