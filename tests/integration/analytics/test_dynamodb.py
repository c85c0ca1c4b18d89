"""DynamoDB specifics: BatchWriteItem's unprocessed items are retried until written."""
from __future__ import annotations

import dataclasses
import random
from collections import Counter

import pytest

from chalicelib.analytics.adapters.dynamodb import DynamoDbRollupStore
from tests.integration.analytics.conftest import dynamodb_backend
from tests.integration.analytics.sessions import far_future_now, random_sessions, record

pytestmark = pytest.mark.slow


class ThrottledBatchWrites:
    """The moto client, except that the first BatchWriteItem calls write only half and return the rest unprocessed."""

    def __init__(self, client, throttled_calls: int) -> None:
        self.client, self.throttled_calls, self.batch_calls = client, throttled_calls, 0

    def __getattr__(self, name):
        return getattr(self.client, name)

    def batch_write_item(self, RequestItems):
        self.batch_calls += 1
        if self.batch_calls > self.throttled_calls:
            return self.client.batch_write_item(RequestItems=RequestItems)
        (table, requests), = RequestItems.items()
        self.client.batch_write_item(RequestItems={table: requests[: len(requests) // 2]})
        return {"UnprocessedItems": {table: requests[len(requests) // 2 :]}}


def test_unprocessed_rollup_writes_are_retried(aws):
    backend = dynamodb_backend()
    throttled = ThrottledBatchWrites(backend.rollups.client, throttled_calls=3)
    backend = dataclasses.replace(backend, rollups=DynamoDbRollupStore(client=throttled, table_name="rollups-test"))
    now = far_future_now()
    sessions = random_sessions(random.Random(5), now, 60, days_back=6)
    record(backend.store, sessions)

    backend.rollup()

    assert throttled.batch_calls > 3
    report = backend.report(now, "7d")
    assert {s.agent: s.sessions for s in report.by_agent} == Counter(s.agent for s in sessions)
