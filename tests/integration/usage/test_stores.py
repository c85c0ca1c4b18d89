"""UsageStore contract on PostgreSQL, DynamoDB (moto) and the in-memory fake."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from chalicelib.usage.adapters.dynamodb import DETECTOR_STATE_TABLE_SCHEMA, USAGE_TABLE_SCHEMA, DynamoDbUsageStore
from chalicelib.usage.adapters.postgres import PostgresUsageStore
from chalicelib.usage.ports import AgentUsage, SessionProgress
from tests.fakes.usage import InMemoryUsageStore

T0 = datetime(2026, 12, 3, 23, 59, 59, tzinfo=timezone.utc)


@pytest.fixture(params=["postgres", "dynamodb", "fake"])
def store(request):
    if request.param == "postgres":
        return PostgresUsageStore(request.getfixturevalue("pg_pool"))
    if request.param == "dynamodb":
        request.getfixturevalue("aws")
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="usage", **USAGE_TABLE_SCHEMA)
        client.create_table(TableName="state", **DETECTOR_STATE_TABLE_SCHEMA)
        return DynamoDbUsageStore(client=client, usage_table="usage", state_table="state")
    return InMemoryUsageStore()


def usage(**overrides) -> AgentUsage:
    values = dict(
        id=str(uuid.uuid4()), user_id=str(uuid.uuid4()), project_id=str(uuid.uuid4()),
        terminal_session_id=f"t-{uuid.uuid4()}", agent="claude", model=None, missing_key=False, started_at=T0,
    )
    return AgentUsage(**{**values, **overrides})


def test_progress_round_trips_and_is_replaced(store):
    assert store.load_progress("nobody") is None
    first = SessionProgress("t1", 3, {"offset": 10, "session": None, "tail": ""}, None)
    store.save_progress(first)
    assert store.load_progress("t1") == first
    second = SessionProgress("t1", 4, {"offset": 20, "session": {"agent": "codex"}, "tail": "eA=="}, str(uuid.uuid4()))
    store.save_progress(second)
    assert store.load_progress("t1") == second


def test_writes_are_idempotent(store):
    row = usage()
    store.start_usage(row)
    store.start_usage(usage(id=row.id, agent="codex"))  # a redelivered start never replaces the row
    store.set_model(row.id, "claude-opus-4-6")
    store.set_model(row.id, "claude-opus-4-6")
    store.mark_missing_key(row.id)
    store.mark_missing_key(row.id)
    store.end_usage(row.id, T0 + timedelta(minutes=5))
    store.end_usage(row.id, T0 + timedelta(minutes=5))
    store.set_model(str(uuid.uuid4()), "gpt-5")  # unknown ids change nothing and do not fail


def test_postgres_row_shape_and_updated_at_moves_only_on_real_changes(pg_pool):
    store = PostgresUsageStore(pg_pool)
    row = usage()
    store.start_usage(row)
    read = "select *, clock_timestamp() as now from agent_usage where id = %s"
    with pg_pool.connection() as conn:
        inserted = conn.execute(read, (row.id,)).fetchone()
        store.set_model(row.id, "claude-opus-4-6")
        changed = conn.execute(read, (row.id,)).fetchone()
        store.set_model(row.id, "claude-opus-4-6")
        unchanged = conn.execute(read, (row.id,)).fetchone()
    assert (inserted["model"], inserted["ended_at"], inserted["missing_key"]) == (None, None, False)
    assert inserted["started_at"] == T0 and inserted["created_at"] is not None
    assert changed["updated_at"] > inserted["updated_at"] and unchanged["updated_at"] == changed["updated_at"]


def test_dynamodb_item_shape_and_day_index(aws):
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName="usage", **USAGE_TABLE_SCHEMA)
    client.create_table(TableName="state", **DETECTOR_STATE_TABLE_SCHEMA)
    store = DynamoDbUsageStore(client=client, usage_table="usage", state_table="state")
    row = usage()
    store.start_usage(row)
    item = client.get_item(TableName="usage", Key={"id": {"S": row.id}})["Item"]
    assert "model" not in item and "ended_at" not in item and item["missing_key"] == {"BOOL": False}
    assert item["started_at"] == {"S": "2026-12-03T23:59:59.000000Z"} and item["started_day"] == {"S": "2026-12-03"}
    before = item["updated_at"]["S"]
    store.end_usage(row.id, T0 + timedelta(seconds=2))
    item = client.get_item(TableName="usage", Key={"id": {"S": row.id}})["Item"]
    assert item["ended_at"] == {"S": "2026-12-04T00:00:01.000000Z"} and item["updated_at"]["S"] >= before
    by_day = client.query(
        TableName="usage", IndexName="by_started_day", KeyConditionExpression="started_day = :d",
        ExpressionAttributeValues={":d": {"S": "2026-12-03"}},
    )["Items"]
    assert [i["id"]["S"] for i in by_day] == [row.id]
