"""ChunkSink on Kinesis Data Streams: one PutRecords call per batch, per-record failures reported back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.observability import logger
from chalicelib.usage.ports import OutgoingRecord


@dataclass(frozen=True)
class KinesisChunkSink:
    client: Any  # boto3 Kinesis client
    stream_name: str

    def put_records(self, records: list[OutgoingRecord]) -> list[bool]:
        """Send up to 500 records; returns, per record, whether Kinesis accepted it."""
        try:
            response = self.client.put_records(
                StreamName=self.stream_name,
                Records=[{"Data": record.data, "PartitionKey": record.partition_key} for record in records],
            )
        except (ClientError, BotoCoreError) as exc:
            # The whole call failed (throttled, network): every record is retried by the publisher.
            logger.warning("kinesis put_records failed", extra={"error": type(exc).__name__})
            return [False] * len(records)
        return ["ErrorCode" not in result for result in response["Records"]]
