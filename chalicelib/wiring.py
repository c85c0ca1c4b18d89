"""Composition root: builds adapters from Settings on first use. Only app.py (and dev scripts) import this."""
from __future__ import annotations

import functools

from chalicelib.settings import Settings, settings


@functools.cache
def pg_pool():
    from chalicelib.store.postgres import connect_pool

    cfg = settings()
    if not cfg.database_url:
        from chalicelib.errors import ConfigError

        raise ConfigError("DATABASE_URL is not set")
    return connect_pool(cfg.database_url)


@functools.cache
def aws_client(service: str):
    import boto3

    return boto3.client(service, region_name=settings().aws_region)


def current_settings() -> Settings:
    return settings()
