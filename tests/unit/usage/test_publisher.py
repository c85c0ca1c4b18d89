"""Publisher: non-blocking, bounded, ordered per session, retries failed records, counts drops."""
from __future__ import annotations

import threading
from collections import defaultdict

from chalicelib.usage.publisher import TerminalChunkPublisher
from chalicelib.usage.records import decode_chunk
from tests.fakes.usage import InMemoryChunkSink

USER, PROJECT = "7c12734d-a09b-4c3c-b437-453813ca3411", "1c12d286-ea3f-4368-8c1a-50d52de6a1c0"


def streams_of(sink: InMemoryChunkSink) -> dict[str, bytes]:
    """Per partition key, the bytes in arrival order, checking sequence numbers and offsets line up."""
    seen: dict[str, list] = defaultdict(list)
    for record in sink.received:
        chunk = decode_chunk(record.data)
        assert record.partition_key == chunk.terminal_session_id
        seen[chunk.terminal_session_id].append(chunk)
    streams = {}
    for session, chunks in seen.items():
        assert [c.seq for c in chunks] == list(range(len(chunks)))
        offset = 0
        for chunk in chunks:
            assert chunk.offset == offset
            offset += len(chunk.data)
        streams[session] = b"".join(c.data for c in chunks)
    return streams


def test_chunks_arrive_in_order_per_session_even_when_records_fail_at_first():
    # Every record fails on its first attempt, some on their second too.
    sink = InMemoryChunkSink(reject=lambda record, attempt: attempt == 0 or (attempt == 1 and len(record.data) % 2))
    publisher = TerminalChunkPublisher(sink, linger_seconds=0.001, backoff_seconds=0.001)
    expected = defaultdict(bytes)
    for i in range(300):
        session = f"s{i % 3}"
        data = f"line {i} \x1b[1C".encode() * (i % 5 + 1)
        assert publisher.publish(session, USER, PROJECT, data)
        expected[session] += data
    publisher.close()
    assert streams_of(sink) == dict(expected)
    assert publisher.failed_records == publisher.dropped_chunks == 0
    assert max(sink.calls) <= 500


def test_a_full_queue_drops_and_counts_without_blocking_and_the_gap_shows_in_offsets():
    release = threading.Event()

    def blocked(record, attempt):
        release.wait()
        return False

    sink = InMemoryChunkSink(reject=blocked)
    publisher = TerminalChunkPublisher(sink, max_queued_chunks=2, linger_seconds=0.0)
    results = [publisher.publish("s", USER, PROJECT, b"x" * 10) for _ in range(50)]
    assert results.count(False) == publisher.dropped_chunks >= 45
    release.set()
    publisher.flush()
    assert publisher.publish("s", USER, PROJECT, b"after")
    publisher.close()
    chunks = [decode_chunk(r.data) for r in sink.received]
    assert sum(len(c.data) for c in chunks[:-1]) == 10 * results.count(True)
    assert (chunks[-1].offset, chunks[-1].data) == (500, b"after")  # the consumer sees the dropped bytes as a gap


def test_records_that_keep_failing_are_given_up_and_counted():
    sink = InMemoryChunkSink(reject=lambda record, attempt: True)
    publisher = TerminalChunkPublisher(sink, linger_seconds=0.0, max_attempts=3, backoff_seconds=0.001)
    publisher.publish("s", USER, PROJECT, b"hello")
    publisher.close()
    assert publisher.failed_records == 1 and sink.calls == [1, 1, 1]
