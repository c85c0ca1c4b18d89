"""KeyRepository on DynamoDB: one item per (user_id, provider), conditional writes."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.crypto import SealedSecret, WrappedKey
from chalicelib.keys.models import StoredKey

# The table's shape, reused by tests and mirrored in infra/merge.yaml.
TABLE_SCHEMA: dict[str, Any] = {
    "KeySchema": [
        {"AttributeName": "user_id", "KeyType": "HASH"},
        {"AttributeName": "provider", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "user_id", "AttributeType": "S"},
        {"AttributeName": "provider", "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _record(item: dict[str, Any]) -> StoredKey:
    return StoredKey(
        user_id=item["user_id"]["S"],
        provider=item["provider"]["S"],
        sealed=SealedSecret(
            ciphertext=item["ciphertext"]["B"],
            nonce=item["nonce"]["B"],
            wrapped_key=WrappedKey(blob=item["wrapped_key"]["B"], kek_id=item["kek_id"]["S"]),
        ),
        hint=item["hint"]["S"],
        added_at=datetime.fromisoformat(item["added_at"]["S"]),
        updated_at=datetime.fromisoformat(item["updated_at"]["S"]),
        last_used_at=datetime.fromisoformat(item["last_used_at"]["S"]) if "last_used_at" in item else None,
    )


def _key(user_id: str, provider: str) -> dict[str, Any]:
    return {"user_id": {"S": user_id}, "provider": {"S": provider}}


@dataclass(frozen=True)
class DynamoDbKeyRepository:
    client: Any  # boto3 DynamoDB client
    table_name: str

    def upsert(self, record: StoredKey) -> StoredKey:
        # One UpdateItem: atomic per item; if_not_exists keeps the first added_at across replacements.
        response = self.client.update_item(
            TableName=self.table_name,
            Key=_key(record.user_id, record.provider),
            UpdateExpression=(
                "SET ciphertext = :ct, nonce = :nonce, wrapped_key = :wk, kek_id = :kek, hint = :hint,"
                " updated_at = :now, added_at = if_not_exists(added_at, :now)"
            ),
            ExpressionAttributeValues={
                ":ct": {"B": record.sealed.ciphertext},
                ":nonce": {"B": record.sealed.nonce},
                ":wk": {"B": record.sealed.wrapped_key.blob},
                ":kek": {"S": record.sealed.wrapped_key.kek_id},
                ":hint": {"S": record.hint},
                ":now": {"S": _iso(record.updated_at)},
            },
            ReturnValues="ALL_NEW",
        )
        return _record(response["Attributes"])

    def list_for_user(self, user_id: str) -> list[StoredKey]:
        paginator = self.client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table_name,
            KeyConditionExpression="user_id = :u",
            ExpressionAttributeValues={":u": {"S": user_id}},
            ConsistentRead=True,
        )
        return [_record(item) for page in pages for item in page["Items"]]

    def delete(self, user_id: str, provider: str) -> bool:
        response = self.client.delete_item(
            TableName=self.table_name, Key=_key(user_id, provider), ReturnValues="ALL_OLD"
        )
        return "Attributes" in response

    def mark_used(self, user_id: str, providers: Iterable[str], at: datetime) -> None:
        for provider in providers:
            try:
                self.client.update_item(
                    TableName=self.table_name,
                    Key=_key(user_id, provider),
                    UpdateExpression="SET last_used_at = :at",
                    ConditionExpression="attribute_exists(user_id)",  # never resurrect a deleted key
                    ExpressionAttributeValues={":at": {"S": _iso(at)}},
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise

    def scan(self) -> Iterator[StoredKey]:
        for page in self.client.get_paginator("scan").paginate(TableName=self.table_name, ConsistentRead=True):
            yield from (_record(item) for item in page["Items"])

    def replace_sealed(self, record: StoredKey, sealed: SealedSecret) -> bool:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_key(record.user_id, record.provider),
                UpdateExpression="SET wrapped_key = :wk, kek_id = :kek",
                ConditionExpression="nonce = :old_nonce AND wrapped_key = :old_wk",
                ExpressionAttributeValues={
                    ":wk": {"B": sealed.wrapped_key.blob},
                    ":kek": {"S": sealed.wrapped_key.kek_id},
                    ":old_nonce": {"B": record.sealed.nonce},
                    ":old_wk": {"B": record.sealed.wrapped_key.blob},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
