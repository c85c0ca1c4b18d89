"""UsageStore on DynamoDB: a usage table (GSI by start day) and a detector-state table."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.usage.errors import UsageStoreUnavailableError
from chalicelib.usage.ports import AgentUsage, SessionProgress

# The tables' shapes in one place: tests create them from here, and so does infra.
USAGE_TABLE_SCHEMA: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [
        {"AttributeName": "id", "AttributeType": "S"},
        {"AttributeName": "started_day", "AttributeType": "S"},
        {"AttributeName": "started_at", "AttributeType": "S"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by_started_day",
            "KeySchema": [
                {"AttributeName": "started_day", "KeyType": "HASH"},
                {"AttributeName": "started_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
DETECTOR_STATE_TABLE_SCHEMA: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "terminal_session_id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "terminal_session_id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, the form every timestamp attribute uses (sorts as text)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class DynamoDbUsageStore:
    client: Any  # boto3 DynamoDB client
    usage_table: str
    state_table: str
    clock: Callable[[], datetime] = _utc_now

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any] | None:
        """Run a client call; a failed condition means "already so" and returns None."""
        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise UsageStoreUnavailableError("usage store unavailable") from exc
        except BotoCoreError as exc:
            raise UsageStoreUnavailableError("usage store unavailable") from exc

    def load_progress(self, terminal_session_id: str) -> SessionProgress | None:
        response = self._call(
            "get_item", TableName=self.state_table, Key={"terminal_session_id": {"S": terminal_session_id}},
            ConsistentRead=True,
        )
        item = response.get("Item") if response else None
        if item is None:
            return None
        return SessionProgress(
            terminal_session_id=terminal_session_id,
            last_seq=int(item["last_seq"]["N"]),
            state=json.loads(item["state"]["S"]),
            open_usage_id=item["open_usage_id"]["S"] if "open_usage_id" in item else None,
        )

    def save_progress(self, progress: SessionProgress) -> None:
        item = {
            "terminal_session_id": {"S": progress.terminal_session_id},
            "last_seq": {"N": str(progress.last_seq)},
            "state": {"S": json.dumps(progress.state, separators=(",", ":"))},
            "updated_at": {"S": iso_utc(self.clock())},
        }
        if progress.open_usage_id:
            item["open_usage_id"] = {"S": progress.open_usage_id}
        self._call("put_item", TableName=self.state_table, Item=item)

    def start_usage(self, usage: AgentUsage) -> None:
        started_at = iso_utc(usage.started_at)
        item = {
            "id": {"S": usage.id},
            "user_id": {"S": usage.user_id},
            "project_id": {"S": usage.project_id},
            "terminal_session_id": {"S": usage.terminal_session_id},
            "agent": {"S": usage.agent},
            "missing_key": {"BOOL": usage.missing_key},
            "started_at": {"S": started_at},
            "started_day": {"S": started_at[:10]},
            "created_at": {"S": iso_utc(self.clock())},
            "updated_at": {"S": iso_utc(self.clock())},
        }
        if usage.model is not None:
            item["model"] = {"S": usage.model}
        if usage.ended_at is not None:
            item["ended_at"] = {"S": iso_utc(usage.ended_at)}
        self._call("put_item", TableName=self.usage_table, Item=item, ConditionExpression="attribute_not_exists(id)")

    def _update(self, usage_id: str, assignment: str, condition: str, values: dict[str, Any]) -> None:
        self._call(
            "update_item",
            TableName=self.usage_table,
            Key={"id": {"S": usage_id}},
            UpdateExpression=f"SET {assignment}, updated_at = :now",
            ConditionExpression=f"attribute_exists(id) AND ({condition})",
            ExpressionAttributeValues={**values, ":now": {"S": iso_utc(self.clock())}},
        )

    def set_model(self, usage_id: str, model: str) -> None:
        self._update(usage_id, "model = :v", "attribute_not_exists(model) OR model <> :v", {":v": {"S": model}})

    def mark_missing_key(self, usage_id: str) -> None:
        self._update(usage_id, "missing_key = :v", "missing_key <> :v", {":v": {"BOOL": True}})

    def end_usage(self, usage_id: str, ended_at: datetime) -> None:
        value = {":v": {"S": iso_utc(ended_at)}}
        self._update(usage_id, "ended_at = :v", "attribute_not_exists(ended_at) OR ended_at <> :v", value)
