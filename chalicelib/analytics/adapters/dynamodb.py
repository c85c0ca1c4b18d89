"""Analytics on DynamoDB: reads the usage table (GSI by_started_day), keeps rollups in their own table.

Rollup table: ``pk`` "daily" with ``sk`` "<YYYY-MM-DD>#<json [agent, model]>" (one small partition, so a
period is one Query), and ``pk`` "watermark" / ``sk`` "agent_usage_rollups" for the last run's watermark.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from chalicelib.analytics.errors import RollupWriteThrottledError
from chalicelib.analytics.models import ONE_DAY, Session, UsageTally
from chalicelib.analytics.rollups import tally_sessions

ROLLUP_TABLE_SCHEMA: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
STARTED_DAY_INDEX = "by_started_day"
_DAILY = {"S": "daily"}
_WATERMARK_KEY = {"pk": {"S": "watermark"}, "sk": {"S": "agent_usage_rollups"}}
_BATCH_LIMIT = 25  # BatchWriteItem's maximum
_WRITE_ATTEMPTS = 8  # for items BatchWriteItem leaves unprocessed (throttling)


def _iso(moment: datetime) -> str:
    """The usage table's timestamp form (UTC, microseconds, Z), so string comparisons order by time."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _session(item: dict[str, Any]) -> Session:
    return Session(
        agent=item["agent"]["S"],
        model=item["model"]["S"] if "model" in item else None,
        started_at=datetime.fromisoformat(item["started_at"]["S"]),
        ended_at=datetime.fromisoformat(item["ended_at"]["S"]) if "ended_at" in item else None,
        missing_key=item.get("missing_key", {}).get("BOOL", False),
    )


def _rollup_item(day: date, tally: UsageTally) -> dict[str, Any]:
    item = {
        "pk": _DAILY,
        "sk": {"S": f"{day.isoformat()}#{json.dumps([tally.agent, tally.model])}"},
        "agent": {"S": tally.agent},
        "sessions": {"N": str(tally.sessions)},
        "ended_sessions": {"N": str(tally.ended_sessions)},
        "total_duration_seconds": {"N": format(tally.total_duration_seconds, "f")},
        "missing_key_sessions": {"N": str(tally.missing_key_sessions)},
    }
    if tally.model is not None:
        item["model"] = {"S": tally.model}
    return item


def _tally(item: dict[str, Any]) -> UsageTally:
    return UsageTally(
        agent=item["agent"]["S"],
        model=item["model"]["S"] if "model" in item else None,
        sessions=int(item["sessions"]["N"]),
        ended_sessions=int(item["ended_sessions"]["N"]),
        total_duration_seconds=Decimal(item["total_duration_seconds"]["N"]),
        missing_key_sessions=int(item["missing_key_sessions"]["N"]),
    )


@dataclass(frozen=True)
class DynamoDbUsageSource:
    client: Any  # boto3 DynamoDB client
    table_name: str

    def changed_days(self, since: datetime | None) -> set[date]:
        # The usage table has no index on updated_at, so this is a Scan reading only started_day
        # (and updated_at to filter): its cost grows with the table, once per run, never per request.
        request: dict[str, Any] = {"TableName": self.table_name, "ProjectionExpression": "started_day"}
        if since is not None:
            request.update(
                FilterExpression="updated_at >= :since", ExpressionAttributeValues={":since": {"S": _iso(since)}}
            )
        pages = self.client.get_paginator("scan").paginate(**request)
        return {date.fromisoformat(item["started_day"]["S"]) for page in pages for item in page["Items"]}

    def tally_day(self, day: date) -> list[UsageTally]:
        return tally_sessions(_session(item) for item in self._sessions_of(day))

    def _sessions_of(self, day: date) -> Iterator[dict[str, Any]]:
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table_name,
            IndexName=STARTED_DAY_INDEX,
            KeyConditionExpression="started_day = :day",
            ProjectionExpression="#agent, #model, missing_key, started_at, ended_at",
            ExpressionAttributeNames={"#agent": "agent", "#model": "model"},
            ExpressionAttributeValues={":day": {"S": day.isoformat()}},
        )
        for page in pages:
            yield from page["Items"]


@dataclass(frozen=True)
class DynamoDbRollupStore:
    client: Any  # boto3 DynamoDB client
    table_name: str

    def watermark(self) -> datetime | None:
        item = self.client.get_item(TableName=self.table_name, Key=_WATERMARK_KEY, ConsistentRead=True).get("Item")
        return datetime.fromisoformat(item["watermark"]["S"]) if item else None

    def replace_days(self, tallies_by_day: Mapping[date, list[UsageTally]], watermark: datetime) -> None:
        # Not one transaction (a day can outgrow TransactWriteItems): puts overwrite, stale pairs are deleted,
        # so a re-run converges on the same items; the watermark is written last, only after every day.
        requests: list[dict[str, Any]] = []
        for day, tallies in tallies_by_day.items():
            fresh = [_rollup_item(day, tally) for tally in tallies]
            fresh_keys = {item["sk"]["S"] for item in fresh}
            requests += [{"PutRequest": {"Item": item}} for item in fresh]
            requests += [
                {"DeleteRequest": {"Key": {"pk": _DAILY, "sk": {"S": sk}}}}
                for sk in self._rollup_keys(day)
                if sk not in fresh_keys
            ]
        for start in range(0, len(requests), _BATCH_LIMIT):
            self._batch_write(requests[start : start + _BATCH_LIMIT])
        self.client.put_item(
            TableName=self.table_name, Item={**_WATERMARK_KEY, "watermark": {"S": _iso(watermark)}}
        )

    def tallies_between(self, first_day: date, last_day: date) -> list[UsageTally]:
        # Sort keys start with the day, and no key is a bare date, so this range is exactly those days.
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table_name,
            KeyConditionExpression="pk = :daily AND sk BETWEEN :first AND :after_last",
            ExpressionAttributeValues={
                ":daily": _DAILY,
                ":first": {"S": first_day.isoformat()},
                ":after_last": {"S": (last_day + ONE_DAY).isoformat()},
            },
            ConsistentRead=True,
        )
        return [_tally(item) for page in pages for item in page["Items"]]

    def _rollup_keys(self, day: date) -> Iterator[str]:
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table_name,
            KeyConditionExpression="pk = :daily AND begins_with(sk, :day)",
            ExpressionAttributeValues={":daily": _DAILY, ":day": {"S": f"{day.isoformat()}#"}},
            ProjectionExpression="sk",
            ConsistentRead=True,
        )
        for page in pages:
            yield from (item["sk"]["S"] for item in page["Items"])

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {self.table_name: requests}

        def write_pending() -> None:
            nonlocal pending
            pending = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if pending:
                raise RollupWriteThrottledError("DynamoDB left rollup writes unprocessed")

        Retrying(
            stop=stop_after_attempt(_WRITE_ATTEMPTS),
            wait=wait_random_exponential(multiplier=0.05, max=5),
            retry=retry_if_exception_type(RollupWriteThrottledError),
            reraise=True,
        )(write_pending)
