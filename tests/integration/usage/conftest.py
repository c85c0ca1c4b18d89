"""The usage store on each backend, configured the way the deployed handler reads it, plus table dumps."""
from __future__ import annotations

import json
import uuid

import boto3
import pytest

from chalicelib.usage.adapters.dynamodb import DETECTOR_STATE_TABLE_SCHEMA, USAGE_TABLE_SCHEMA
from tests.conftest import reset_service_caches


class Backend:
    """What a test needs to see of a backend: its usage rows and a text dump of everything stored."""

    def __init__(self, name: str, pool=None, client=None, tables=()):
        self.name, self.pool, self.client, self.tables = name, pool, client, tables

    def rows(self, terminal_session_id: str) -> list[dict]:
        if self.pool is not None:
            with self.pool.connection() as conn:
                return conn.execute(
                    "select * from agent_usage where terminal_session_id = %s order by started_at",
                    (terminal_session_id,),
                ).fetchall()
        items = self.client.scan(TableName=self.tables[0])["Items"]
        rows = [{k: next(iter(v.values())) for k, v in item.items()} for item in items]
        return sorted((r for r in rows if r["terminal_session_id"] == terminal_session_id), key=lambda r: r["started_at"])

    def dump(self) -> str:
        """Every row of every usage table, as text, for leak searches."""
        if self.pool is not None:
            with self.pool.connection() as conn:
                return "\n".join(
                    json.dumps(row, default=str)
                    for table in ("agent_usage", "usage_detector_state")
                    for row in conn.execute(f"select * from {table}").fetchall()  # noqa: S608 - fixed names
                )
        return "\n".join(json.dumps(self.client.scan(TableName=table)["Items"]) for table in self.tables)


@pytest.fixture(params=["postgres", "dynamodb"])
def backend(request, monkeypatch, pg_url, pg_pool, aws):
    monkeypatch.setenv("AETHER_STAGE", "local")
    monkeypatch.setenv("STORAGE_BACKEND", request.param)
    monkeypatch.setenv("DATABASE_URL", pg_url)
    if request.param == "postgres":
        reset_service_caches()
        yield Backend("postgres", pool=pg_pool)
    else:
        suffix = uuid.uuid4().hex[:8]
        tables = (f"usage-{suffix}", f"detector-state-{suffix}")
        monkeypatch.setenv("USAGE_TABLE", tables[0])
        monkeypatch.setenv("DETECTOR_STATE_TABLE", tables[1])
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName=tables[0], **USAGE_TABLE_SCHEMA)
        client.create_table(TableName=tables[1], **DETECTOR_STATE_TABLE_SCHEMA)
        reset_service_caches()
        yield Backend("dynamodb", client=client, tables=tables)
    from chalicelib import wiring

    if wiring.pg_pool.cache_info().currsize:
        wiring.pg_pool().close()
    reset_service_caches()
