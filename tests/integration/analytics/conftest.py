"""Analytics on each backend: usage tracking's store to write sessions, analytics' adapters to read and roll up."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytest

from chalicelib.analytics import AgentAnalytics, RollupJob, RollupStore, UsageSource
from chalicelib.analytics.adapters.dynamodb import ROLLUP_TABLE_SCHEMA, DynamoDbRollupStore, DynamoDbUsageSource
from chalicelib.analytics.adapters.postgres import PostgresRollupStore, PostgresUsageSource
from chalicelib.usage.adapters.dynamodb import DETECTOR_STATE_TABLE_SCHEMA, USAGE_TABLE_SCHEMA, DynamoDbUsageStore
from chalicelib.usage.adapters.postgres import PostgresUsageStore


@dataclass(frozen=True)
class Backend:
    name: str
    store: Any  # usage tracking's UsageStore: how sessions get written in production
    usage: UsageSource
    rollups: RollupStore

    def rollup(self, **kwargs):
        return RollupJob(self.usage, self.rollups).run(**kwargs)

    def report(self, now: datetime, period: str | None = None):
        return AgentAnalytics(self.usage, self.rollups, clock=lambda: now).report(period)


def postgres_backend(pool) -> Backend:
    return Backend("postgres", PostgresUsageStore(pool), PostgresUsageSource(pool), PostgresRollupStore(pool))


def dynamodb_backend() -> Backend:
    """Tables created in the current moto context."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName="usage-test", **USAGE_TABLE_SCHEMA)
    client.create_table(TableName="usage-state-test", **DETECTOR_STATE_TABLE_SCHEMA)
    client.create_table(TableName="rollups-test", **ROLLUP_TABLE_SCHEMA)
    return Backend(
        "dynamodb",
        DynamoDbUsageStore(client=client, usage_table="usage-test", state_table="usage-state-test"),
        DynamoDbUsageSource(client=client, table_name="usage-test"),
        DynamoDbRollupStore(client=client, table_name="rollups-test"),
    )


@pytest.fixture(params=["postgres", "dynamodb"])
def backend(request) -> Backend:
    if request.param == "postgres":
        return postgres_backend(request.getfixturevalue("pg_pool"))
    request.getfixturevalue("aws")
    return dynamodb_backend()
