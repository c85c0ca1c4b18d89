"""Consumer side: terminal chunks from Kinesis → detector → usage rows, idempotent under redelivery."""
from __future__ import annotations

import binascii
import copy
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any

from chalicelib.observability import logger
from chalicelib.usage.detector import AgentEnded, AgentStarted, Detector, DetectorEvent, MissingKeyDetected, ModelDetected
from chalicelib.usage.errors import InvalidChunkError, SessionBlockedError
from chalicelib.usage.ports import AgentUsage, SessionProgress, UsageStore
from chalicelib.usage.records import TerminalChunk, decode_chunk

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

# Usage ids are derived, not random: the same start seen twice maps to the same row.
_USAGE_NAMESPACE = uuid.UUID("5b0c7a52-3f0e-4f43-9a55-6f2d0d6b7c11")


def usage_id(terminal_session_id: str, started_offset: int) -> str:
    """The row id of the agent session that started at ``started_offset`` of this terminal's stream."""
    return str(uuid.uuid5(_USAGE_NAMESPACE, f"{terminal_session_id}:{started_offset}"))


@dataclass
class _Session:
    progress: SessionProgress
    detector: Detector
    failed: bool = False
    advanced: bool = False  # a new record was applied: the progress must be saved


@dataclass
class IngestBatch:
    """One Lambda invocation: each session's progress is loaded on first use and saved once, on exit.

    Use as a context manager around Powertools' batch processing; ``handle`` is its record handler.
    """

    store: UsageStore
    _sessions: dict[str, _Session] = field(default_factory=dict)

    def __enter__(self) -> IngestBatch:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is not None:
            return  # nothing saved: the whole batch is redelivered and replays idempotently
        for session in self._sessions.values():
            if not session.advanced:
                continue  # only redeliveries: saving would change nothing but updated_at
            self.store.save_progress(
                SessionProgress(
                    terminal_session_id=session.progress.terminal_session_id,
                    last_seq=session.progress.last_seq,
                    state=session.detector.to_state(),
                    open_usage_id=session.progress.open_usage_id,
                )
            )

    def handle(self, record: KinesisStreamRecord) -> None:
        """Process one stream record; raising reports it in ``batchItemFailures``."""
        try:
            chunk = decode_chunk(record.kinesis.data_as_bytes())
        except (InvalidChunkError, binascii.Error, ValueError):
            # A poison record never decodes: report it, but let the rest of its session go on.
            logger.warning("terminal chunk rejected", extra={"sequence_number": record.kinesis.sequence_number})
            raise InvalidChunkError("malformed terminal chunk record") from None
        self.ingest(chunk)

    def ingest(self, chunk: TerminalChunk) -> None:
        """Feed one chunk to its session's detector and apply what it detects to the store."""
        session = self._session(chunk.terminal_session_id)
        if session.failed:
            # An earlier record of this session failed: later ones must wait for it, in order.
            raise SessionBlockedError("an earlier record of this terminal session failed")
        progress = session.progress
        if chunk.seq <= progress.last_seq:
            return  # redelivered
        detector = session.detector
        before = (copy.copy(detector), progress)
        data = chunk.data
        if chunk.offset > detector.offset:
            detector.skip(chunk.offset - detector.offset)  # the producer dropped bytes
        elif chunk.offset < detector.offset:
            data = data[detector.offset - chunk.offset :]  # overlaps what was already fed
        try:
            open_id = progress.open_usage_id
            for event in detector.feed(data, at=chunk.at.timestamp()):
                open_id = self._apply(chunk, open_id, event)
        except Exception:
            session.detector, session.progress = before
            session.failed = True
            raise
        session.progress = SessionProgress(chunk.terminal_session_id, chunk.seq, {}, open_id)
        session.advanced = True

    def _session(self, terminal_session_id: str) -> _Session:
        session = self._sessions.get(terminal_session_id)
        if session is None:
            stored = self.store.load_progress(terminal_session_id)
            if stored is None:
                stored = SessionProgress(terminal_session_id, last_seq=-1, state={})
                detector = Detector()
            else:
                detector = Detector.from_state(stored.state)
            session = self._sessions[terminal_session_id] = _Session(stored, detector)
        return session

    def _apply(self, chunk: TerminalChunk, open_id: str | None, event: DetectorEvent) -> str | None:
        at = datetime.fromtimestamp(event.at, timezone.utc)
        if isinstance(event, AgentStarted):
            if open_id is not None:  # a start without a seen end: the old row keeps ended_at null
                logger.info("agent session replaced without an end", extra={"agent": event.agent})
            open_id = usage_id(chunk.terminal_session_id, event.offset)
            self.store.start_usage(
                AgentUsage(
                    id=open_id,
                    user_id=chunk.user_id,
                    project_id=chunk.project_id,
                    terminal_session_id=chunk.terminal_session_id,
                    agent=event.agent,
                    model=event.model,
                    missing_key=False,
                    started_at=at,
                )
            )
            logger.info("agent started", extra={"agent": event.agent, "model": event.model, "usage_id": open_id})
        elif open_id is None:
            return None  # an end/model for a session whose start this consumer never saw
        elif isinstance(event, ModelDetected):
            self.store.set_model(open_id, event.model)
        elif isinstance(event, MissingKeyDetected):
            self.store.mark_missing_key(open_id)
        elif isinstance(event, AgentEnded):
            self.store.end_usage(open_id, at)
            logger.info("agent ended", extra={"usage_id": open_id})
            open_id = None
        return open_id


@dataclass(frozen=True)
class UsageIngestor:
    """Builds one ``IngestBatch`` per invocation over a usage store."""

    store: UsageStore

    def batch(self) -> IngestBatch:
        return IngestBatch(self.store)

    def process_kinesis_event(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """Process one Kinesis event as a batch; returns ``{"batchItemFailures": [...]}`` for Lambda."""
        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

        with self.batch() as batch:
            return process_partial_response(
                event=event, record_handler=batch.handle,
                processor=BatchProcessor(event_type=EventType.KinesisDataStreams), context=context,
            )
