"""What usage ingestion needs from a store: agent usage rows and per-session detector state."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class AgentUsage:
    """One agent session (a row of ``agent_usage``)."""

    id: str
    user_id: str
    project_id: str
    terminal_session_id: str
    agent: str
    model: str | None
    missing_key: bool
    started_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True)
class SessionProgress:
    """Where ingestion of one terminal session stands: detector state, last record, open usage row."""

    terminal_session_id: str
    last_seq: int
    state: dict[str, Any]  # Detector.to_state(): allow-listed tokens, flags and offsets only
    open_usage_id: str | None = None


class UsageStore(Protocol):
    """Usage rows and detector state. Every write is idempotent: records may be delivered twice."""

    def load_progress(self, terminal_session_id: str) -> SessionProgress | None: ...

    def save_progress(self, progress: SessionProgress) -> None: ...

    def start_usage(self, usage: AgentUsage) -> None:
        """Insert the row unless a row with its id exists."""
        ...

    def set_model(self, usage_id: str, model: str) -> None: ...

    def mark_missing_key(self, usage_id: str) -> None: ...

    def end_usage(self, usage_id: str, ended_at: datetime) -> None: ...


@dataclass(frozen=True)
class OutgoingRecord:
    """One stream record on its way out: the partition key keeps a session's records in order."""

    partition_key: str
    data: bytes


class ChunkSink(Protocol):
    """Where the publisher sends batches of records (Kinesis PutRecords)."""

    def put_records(self, records: list[OutgoingRecord]) -> list[bool]:
        """Send the records; returns one flag per record, True when accepted."""
        ...
