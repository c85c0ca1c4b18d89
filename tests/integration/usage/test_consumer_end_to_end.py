"""Kinesis (moto) → app.py's detector handler → usage rows on PostgreSQL and DynamoDB; leaks searched for."""
from __future__ import annotations

import base64
import json
import random
import re
import uuid

import boto3
import pytest
from chalice.test import Client

from chalicelib.usage.adapters.kinesis import KinesisChunkSink
from chalicelib.usage.publisher import TerminalChunkPublisher
from chalicelib.usage.replay import random_chunks
from tests.conftest import RECORDINGS_DIR, make_canary_key

pytestmark = pytest.mark.slow
RECORDINGS = sorted(RECORDINGS_DIR.glob("*.raw"))
STREAM = "terminal-chunks-test"


def invoke(event: dict) -> dict:
    from app import app

    with Client(app, stage_name="local") as client:
        return client.lambda_.invoke("detector", event).payload


def read_stream(kinesis) -> list[dict]:
    """Every record on the stream, as Lambda would hand them over (real sequence numbers)."""
    records = []
    for shard in kinesis.list_shards(StreamName=STREAM)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=STREAM, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            records += [
                {
                    "eventSource": "aws:kinesis",
                    "eventID": f"{shard['ShardId']}:{r['SequenceNumber']}",
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0", "partitionKey": r["PartitionKey"],
                        "sequenceNumber": r["SequenceNumber"], "data": base64.b64encode(r["Data"]).decode(),
                        "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"].timestamp(),
                    },
                }
                for r in page["Records"]
            ]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return records


def publish(streams: dict[str, bytes], user_id: str, project_id: str, seed: int) -> list[dict]:
    """Send each stream in random chunks through the real publisher to a moto Kinesis stream."""
    kinesis = boto3.client("kinesis", region_name="us-east-1")
    kinesis.create_stream(StreamName=STREAM, ShardCount=2)
    publisher = TerminalChunkPublisher(KinesisChunkSink(kinesis, STREAM), linger_seconds=0.0)
    for session_id, data in streams.items():
        for chunk in random_chunks(data, seed, max_size=700):
            publisher.publish(session_id, user_id, project_id, chunk)
            publisher.flush()  # one record per chunk: many batch boundaries inside each stream
    publisher.close()
    return read_stream(kinesis)


def batches(records: list[dict], size: int) -> list[dict]:
    return [{"Records": records[i : i + size]} for i in range(0, len(records), size)]


def test_recordings_end_to_end_redelivery_and_a_poison_record(backend, user_id):
    project_id = str(uuid.uuid4())
    sessions = {f"term-{uuid.uuid4()}": path for path in RECORDINGS}
    records = publish({sid: path.read_bytes() for sid, path in sessions.items()}, user_id, project_id, seed=7)
    poison = {**records[0], "kinesis": {**records[0]["kinesis"], "data": base64.b64encode(b"{oops").decode(),
                                          "sequenceNumber": "1" * 56}}
    events = batches(records, 5)
    events[0]["Records"].insert(1, poison)
    responses = [invoke(event) for event in events]
    assert responses[0] == {"batchItemFailures": [{"itemIdentifier": "1" * 56}]}
    assert all(response == {"batchItemFailures": []} for response in responses[1:])
    for session_id, path in sessions.items():
        truth = json.loads(path.with_suffix(".truth.json").read_text())
        rows = backend.rows(session_id)
        assert [row["agent"] for row in rows] == [s["agent"] for s in truth["sessions"]]
        for row, expected in zip(rows, truth["sessions"]):
            if expected["model_re"] is not None:  # null: any model, or none
                assert row["model"] is not None and re.search(expected["model_re"], row["model"], re.I)
            assert (row.get("ended_at") is not None) == expected["ended"]
            assert str(row["user_id"]) == user_id and str(row["project_id"]) == project_id
    before = backend.dump()
    for event in batches(records, 3) + events:  # redelivered, in other batch shapes too
        invoke(event)
    assert backend.dump() == before


def test_nothing_but_allow_listed_tokens_reaches_the_store_or_the_logs(backend, user_id, captured_logs):
    truth_secrets = json.loads(RECORDINGS[0].with_suffix(".truth.json").read_text())["secrets"]
    canaries = [make_canary_key(p) for p in ("anthropic", "openai", "gemini")] + truth_secrets
    email = "alice.canary@example.com"
    typed_prompt, argument_prompt = "refactor the payment module quickly", "fix the login bug"
    prompt = b"\x1b[?2004h" + f"{email.split('@')[0]}@ws:~/secret-project$ ".encode()
    enter = b"\r\n\x1b[?2004l\r"
    stream = b"".join([
        prompt, b"echo $ANTHROPIC_API_KEY", enter, canaries[0].encode(), b"\r\n",
        prompt, f'claude "{argument_prompt}"'.encode(), enter,
        b"\x1b]0;\xe2\x9c\xb3 Fix the login bug\x07\x1b]633;E;claude \"fix the login bug\"\x07",
        b"Detected a custom API key in your environment\r\nANTHROPIC_API_KEY: sk-ant-...", canaries[0][-20:].encode(),
        b"\r\n\x1b[38;5;246mOpus\x1b[1C4.6\x1b[1C\xc2\xb7\x1b[1C", email.encode(), b"'s\x1b[1COrganization\r\n",
        b"\x1b[?2004h\xe2\x9d\xaf\xc2\xa0", typed_prompt.encode(), b"\r\n", canaries[1].encode(), b" ", canaries[2].encode(),
        b"\r\n\x1b[?2004l", prompt, b"exit", enter,
    ] + [path.read_bytes() for path in RECORDINGS])
    session_id = f"term-{uuid.uuid4()}"
    records = publish({session_id: stream}, user_id, str(uuid.uuid4()), seed=11)
    for event in batches(records, 2):  # state is saved and reloaded between every two chunks
        assert invoke(event) == {"batchItemFailures": []}
    rows = backend.rows(session_id)
    assert rows[0]["agent"] == "claude" and rows[0]["model"] == "claude-opus-4-6"
    stored, logged = backend.dump(), captured_logs()
    assert session_id in stored and "claude" in logged  # the dumps are real
    for leaked in [*canaries, canaries[0][-20:], email, "alice.canary", "secret-project", typed_prompt,
                   argument_prompt, "payment", "Fix the login bug"]:
        assert leaked not in stored, leaked
        assert leaked not in logged, leaked
