"""Consumer logic on the in-memory store: rows from chunks, redelivery, gaps, poison and failing stores."""
from __future__ import annotations

import base64
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from chalicelib.usage.ingest import UsageIngestor, usage_id
from chalicelib.usage.records import TerminalChunk, encode_chunk
from chalicelib.usage.replay import kinesis_record
from tests.fakes.usage import InMemoryUsageStore

T0 = datetime(2026, 12, 3, 16, 31, tzinfo=timezone.utc)
PROMPT = b"\x1b[?2004hdev@ws:~/app$ "
ENTER = b"\r\n\x1b[?2004l\r"
STREAM = [
    PROMPT + b"claude --model claude-son",
    b"net-4-5" + ENTER + b"\x1b[?2004h tui \x1b[38;5;131mMissing\x1b[1CAPI\x1b[1Ckey\r\n",
    b"bye\x1b[?2004l\r\n",
    PROMPT,
    b"ls" + ENTER + b"a b c\r\n" + PROMPT,
]


def chunks(session_id: str, user: str, project: str, parts=STREAM) -> list[TerminalChunk]:
    result, offset = [], 0
    for seq, part in enumerate(parts):
        result.append(TerminalChunk(session_id, user, project, seq, offset, T0 + timedelta(seconds=seq), part))
        offset += len(part)
    return result


def run(store, records) -> dict:
    with UsageIngestor(store).batch() as batch:
        return process_partial_response(
            event={"Records": records}, record_handler=batch.handle,
            processor=BatchProcessor(event_type=EventType.KinesisDataStreams),
        )


def as_records(items: list[TerminalChunk], first_seq: int = 0) -> list[dict]:
    return [kinesis_record(encode_chunk(c), c.terminal_session_id, first_seq + i) for i, c in enumerate(items)]


@pytest.fixture
def ids():
    return f"term-{uuid.uuid4()}", str(uuid.uuid4()), str(uuid.uuid4())


def test_one_batch_gives_a_row_with_model_missing_key_and_chunk_times(ids):
    store = InMemoryUsageStore()
    assert run(store, as_records(chunks(*ids))) == {"batchItemFailures": []}
    [row] = store.rows.values()
    assert (row.agent, row.model, row.missing_key) == ("claude", "claude-sonnet-4-5", True)
    assert (row.user_id, row.project_id, row.terminal_session_id) == (ids[1], ids[2], ids[0])
    # Started with the chunk holding the Enter; ended when the next prompt was printed (not when used).
    assert row.started_at == T0 + timedelta(seconds=1) and row.ended_at == T0 + timedelta(seconds=3)
    assert row.id == usage_id(ids[0], len(STREAM[0]) + len(b"net-4-5\r\n"))


@pytest.mark.parametrize("batch_sizes", [[1, 1, 1, 1, 1], [2, 3], [3, 2], [1, 4]])
def test_batches_of_any_size_give_the_same_rows_and_redelivery_changes_nothing(ids, batch_sizes):
    whole = InMemoryUsageStore()
    run(whole, as_records(chunks(*ids)))
    split = InMemoryUsageStore()
    records = as_records(chunks(*ids))
    start = 0
    for size in batch_sizes:
        run(split, records[start : start + size])
        run(split, records[start : start + size])  # redelivered
        start += size
    writes = split.writes
    run(split, records)  # the whole stream again
    assert split.rows == whole.rows and split.writes == writes


def test_poison_record_is_reported_and_the_rest_are_processed(ids):
    store = InMemoryUsageStore()
    records = as_records(chunks(*ids))
    poison = kinesis_record(b"{not json", ids[0], 99)
    bad_base64 = {**kinesis_record(b"", "other", 98), "kinesis": {**poison["kinesis"], "data": "%%%", "sequenceNumber": "98"}}
    response = run(store, [records[0], poison, bad_base64, *records[1:]])
    assert response == {"batchItemFailures": [{"itemIdentifier": f"{99:056d}"}, {"itemIdentifier": "98"}]}
    [row] = store.rows.values()
    assert row.ended_at is not None


def test_a_failing_store_blocks_only_that_session_and_the_retry_completes(ids):
    other = (f"term-{uuid.uuid4()}", ids[1], ids[2])
    store = InMemoryUsageStore(fail_on={"end_usage"})
    mine = as_records(chunks(*ids, parts=[*STREAM, b"next output\r\n"]))  # the end is seen in mine[4]
    theirs = as_records(chunks(*other)[:2], first_seq=10)
    response = run(store, [*mine[:4], *theirs, *mine[4:]])
    failed = [item["itemIdentifier"] for item in response["batchItemFailures"]]
    assert failed == [mine[4]["kinesis"]["sequenceNumber"], mine[5]["kinesis"]["sequenceNumber"]]
    assert {row.terminal_session_id for row in store.rows.values()} == {ids[0], other[0]}
    store.fail_on.clear()
    assert run(store, mine[4:]) == {"batchItemFailures": []}  # Lambda retries from the lowest failed record
    [row] = [row for row in store.rows.values() if row.terminal_session_id == ids[0]]
    assert row.ended_at == T0 + timedelta(seconds=3)


def test_dropped_bytes_upstream_are_skipped_without_losing_the_session(ids):
    store = InMemoryUsageStore()
    items = chunks(*ids)
    del items[2]  # the producer dropped "bye...": offsets jump
    items[2] = TerminalChunk(*ids, 2, items[2].offset, items[2].at, items[2].data)
    run(store, as_records(items))
    [row] = store.rows.values()
    assert row.agent == "claude"
