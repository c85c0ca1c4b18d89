"""Producer used by the terminal proxy: never blocks the terminal, batches chunks into Kinesis PutRecords.

``publish`` only counts bytes and appends to a bounded queue; when the queue is full the chunk is
dropped and counted (the consumer sees the gap in the stream offsets). A background thread
coalesces each session's consecutive chunks into records, sends them in PutRecords batches
(≤ 500 records, ≤ 5 MiB) with at most one record per session per call so that retrying a failed
record can never reorder a session, and retries failed records with exponential backoff.
"""
from __future__ import annotations

import queue
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timezone

from tenacity import RetryError, Retrying, retry_if_result, stop_after_attempt, wait_exponential

from chalicelib.observability import logger
from chalicelib.usage.ports import ChunkSink, OutgoingRecord
from chalicelib.usage.records import MAX_CHUNK_BYTES, TerminalChunk, encode_chunk

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
_RECORD_OVERHEAD = 400  # JSON envelope + partition key, conservatively


@dataclass(frozen=True)
class _Pending:
    terminal_session_id: str
    user_id: str
    project_id: str
    offset: int
    at: float
    data: bytes


class TerminalChunkPublisher:
    """Thread-safe, non-blocking publisher of terminal output chunks."""

    def __init__(
        self,
        sink: ChunkSink,
        *,
        max_queued_chunks: int = 10_000,
        linger_seconds: float = 0.05,
        max_attempts: int = 5,
        backoff_seconds: float = 0.05,
    ) -> None:
        self._sink = sink
        self._queue: queue.Queue[_Pending | None] = queue.Queue(maxsize=max_queued_chunks)
        self._linger = linger_seconds
        self._retrying = Retrying(
            stop=stop_after_attempt(max_attempts),
            wait=wait_exponential(multiplier=backoff_seconds, max=2.0),
            retry=retry_if_result(bool),  # retried while some records are still unsent
        )
        self._lock = threading.Lock()
        self._offsets: dict[str, int] = {}  # next stream offset per session (dropped bytes count too)
        self._seqs: dict[str, int] = {}  # next record number per session (sender thread only)
        self.dropped_chunks = 0  # queue full
        self.failed_records = 0  # gave up after retries
        self.sent_records = 0
        self._thread = threading.Thread(target=self._run, name="terminal-chunk-publisher", daemon=True)
        self._thread.start()

    def publish(self, terminal_session_id: str, user_id: str, project_id: str, data: bytes) -> bool:
        """Queue ``data`` and return at once; False when the queue was full and the chunk was dropped."""
        at = time.time()
        with self._lock:
            offset = self._offsets.get(terminal_session_id, 0)
            self._offsets[terminal_session_id] = offset + len(data)
        try:
            self._queue.put_nowait(_Pending(terminal_session_id, user_id, project_id, offset, at, data))
            return True
        except queue.Full:
            with self._lock:
                self.dropped_chunks += 1
            return False

    def flush(self) -> None:
        """Block until everything queued so far has been sent or given up (tests, shutdown)."""
        self._queue.join()

    def close(self) -> None:
        """Send what is queued, then stop the background thread."""
        self._queue.put(None)
        self._thread.join()

    # -- background thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                self._queue.task_done()
                return
            batch = [first]
            deadline = time.monotonic() + self._linger
            stop = False
            while len(batch) < MAX_RECORDS_PER_CALL * 4:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            try:
                self._send(batch)
            except Exception:  # the sender thread must survive anything; the chunks are lost and counted
                logger.exception("terminal chunk publisher failed")
                with self._lock:
                    self.failed_records += len(batch)
            finally:
                for _ in range(len(batch) + stop):
                    self._queue.task_done()
            if stop:
                return

    def _send(self, batch: list[_Pending]) -> None:
        per_session: OrderedDict[str, deque[TerminalChunk]] = OrderedDict()
        for pending in batch:
            records = per_session.setdefault(pending.terminal_session_id, deque())
            last = records[-1] if records else None
            if last is not None and last.offset + len(last.data) == pending.offset and (
                len(last.data) + len(pending.data) <= MAX_CHUNK_BYTES
            ):
                records[-1] = TerminalChunk(
                    last.terminal_session_id, last.user_id, last.project_id, 0, last.offset, last.at,
                    last.data + pending.data,
                )
            else:
                for start in range(0, max(1, len(pending.data)), MAX_CHUNK_BYTES):
                    records.append(
                        TerminalChunk(
                            pending.terminal_session_id, pending.user_id, pending.project_id, 0,
                            pending.offset + start, datetime.fromtimestamp(pending.at, timezone.utc),
                            pending.data[start : start + MAX_CHUNK_BYTES],
                        )
                    )
        while per_session:
            call: list[OutgoingRecord] = []
            size = 0
            for session_id in list(per_session):
                chunk = per_session[session_id][0]
                if len(call) == MAX_RECORDS_PER_CALL or size + len(chunk.data) * 4 // 3 + _RECORD_OVERHEAD > MAX_BYTES_PER_CALL:
                    break
                per_session[session_id].popleft()
                if not per_session[session_id]:
                    del per_session[session_id]
                seq = self._seqs.get(session_id, 0)
                self._seqs[session_id] = seq + 1
                data = encode_chunk(
                    TerminalChunk(chunk.terminal_session_id, chunk.user_id, chunk.project_id, seq, chunk.offset,
                                  chunk.at, chunk.data)
                )
                call.append(OutgoingRecord(partition_key=session_id, data=data))
                size += len(data) + len(session_id)
            self._put_with_retries(call)

    def _put_with_retries(self, records: list[OutgoingRecord]) -> None:
        remaining = records

        def attempt() -> list[OutgoingRecord]:
            nonlocal remaining
            accepted = self._sink.put_records(remaining)
            remaining = [record for record, ok in zip(remaining, accepted) if not ok]
            return remaining

        try:
            self._retrying(attempt)
        except RetryError:
            logger.warning("terminal chunk records dropped after retries", extra={"count": len(remaining)})
        with self._lock:
            self.sent_records += len(records) - len(remaining)
            self.failed_records += len(remaining)
