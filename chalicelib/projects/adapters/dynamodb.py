"""ProjectRepository on DynamoDB: one item per project (key ``id``), conditional writes."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.errors import UpstreamError
from chalicelib.projects.models import MachineStatus, Project

# The table's shape, reused by tests and the deployment template.
TABLE_SCHEMA: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def _project(item: dict[str, Any]) -> Project:
    def text(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    updated = text("machine_updated_at")
    return Project(
        id=item["id"]["S"],
        owner_id=item["owner_id"]["S"],
        name=item["name"]["S"],
        env={name: value["S"] for name, value in item["env"]["M"].items()},
        machine=MachineStatus(
            state=text("machine_state") or "none",
            machine_id=text("machine_id"),
            error_code=text("machine_error"),
            start_id=text("start_id"),
            updated_at=datetime.fromisoformat(updated) if updated else None,
        ),
    )


def _env_attribute(env: Mapping[str, str]) -> dict[str, Any]:
    return {"M": {name: {"S": value} for name, value in env.items()}}


@dataclass(frozen=True)
class DynamoDbProjectRepository:
    client: Any  # boto3 DynamoDB client
    table_name: str

    def add(self, project: Project) -> None:
        self._conditional(
            "put_item",
            Item={"id": {"S": project.id}, "owner_id": {"S": project.owner_id}, "name": {"S": project.name},
                  "env": _env_attribute(project.env), "machine_state": {"S": "none"}},
            ConditionExpression="attribute_not_exists(id)",
        )

    def get(self, project_id: str) -> Project | None:
        item = self.client.get_item(TableName=self.table_name, Key={"id": {"S": project_id}},
                                    ConsistentRead=True).get("Item")
        return _project(item) if item else None

    def replace_env(self, project_id: str, owner_id: str, env: Mapping[str, str]) -> bool:
        return self._conditional(
            "update_item",
            Key={"id": {"S": project_id}},
            UpdateExpression="SET env = :env",
            ConditionExpression="owner_id = :owner",
            ExpressionAttributeValues={":env": _env_attribute(env), ":owner": {"S": owner_id}},
        )

    def claim_start(self, project_id: str, owner_id: str, start_id: str, now: datetime, stale_before: datetime) -> bool:
        return self._conditional(
            "update_item",
            Key={"id": {"S": project_id}},
            UpdateExpression="SET machine_state = :starting, start_id = :start, machine_updated_at = :now "
                             "REMOVE machine_error",
            # ISO 8601 UTC timestamps compare correctly as strings.
            ConditionExpression="owner_id = :owner AND (machine_state <> :starting OR machine_updated_at < :stale)",
            ExpressionAttributeValues={":starting": {"S": "starting"}, ":start": {"S": start_id},
                                       ":now": {"S": now.isoformat()}, ":owner": {"S": owner_id},
                                       ":stale": {"S": stale_before.isoformat()}},
        )

    def record_machine(self, project_id: str, status: MachineStatus) -> bool:
        values: dict[str, Any] = {":state": {"S": status.state}, ":start": {"S": status.start_id or ""},
                                  ":at": {"S": status.updated_at.isoformat() if status.updated_at else ""}}
        sets = ["machine_state = :state", "machine_updated_at = :at"]
        if status.machine_id:
            sets.append("machine_id = :machine")
            values[":machine"] = {"S": status.machine_id}
        if status.error_code:
            sets.append("machine_error = :error")
            values[":error"] = {"S": status.error_code}
        expression = "SET " + ", ".join(sets) + ("" if status.error_code else " REMOVE machine_error")
        return self._conditional("update_item", Key={"id": {"S": project_id}}, UpdateExpression=expression,
                                 ConditionExpression="start_id = :start", ExpressionAttributeValues=values)

    def _conditional(self, operation: str, **kwargs: Any) -> bool:
        """Run a conditional write; False when its condition (or the item) is missing."""
        try:
            getattr(self.client, operation)(TableName=self.table_name, **kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise UpstreamError("the projects table is unavailable") from None
        return True
