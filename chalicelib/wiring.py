"""Composition root: builds adapters from Settings on first use. Only app.py and dev scripts import this."""
from __future__ import annotations

import functools

from chalicelib.api.auth import TokenVerifier
from chalicelib.crypto import Envelope, KeyWrapper
from chalicelib.errors import ConfigError
from chalicelib.keys import KeyRepository, KeyVault
from chalicelib.settings import settings


@functools.cache
def pg_pool():
    from chalicelib.store.postgres import connect_pool

    if not settings().database_url:
        raise ConfigError("DATABASE_URL is not set")
    return connect_pool(settings().database_url)


@functools.cache
def aws_client(service: str):
    import boto3

    return boto3.client(service, region_name=settings().aws_region)


@functools.cache
def key_wrapper() -> KeyWrapper:
    cfg = settings()
    if cfg.kms_key_id:
        from chalicelib.crypto.adapters.kms import KmsKeyWrapper

        return KmsKeyWrapper(kms=aws_client("kms"), key_id=cfg.kms_key_id)
    from chalicelib.crypto.adapters.local import LocalKeyring

    return LocalKeyring(master_keys=cfg.master_keys)


@functools.cache
def key_repository() -> KeyRepository:
    if settings().storage_backend == "dynamodb":
        from chalicelib.keys.adapters.dynamodb import DynamoDbKeyRepository

        return DynamoDbKeyRepository(client=aws_client("dynamodb"), table_name=settings().api_keys_table)
    from chalicelib.keys.adapters.postgres import PostgresKeyRepository

    return PostgresKeyRepository(pool=pg_pool())


@functools.cache
def envelope() -> Envelope:
    return Envelope(key_wrapper())


@functools.cache
def vault() -> KeyVault:
    return KeyVault(repository=key_repository(), envelope=envelope())


@functools.cache
def token_verifier() -> TokenVerifier:
    cfg = settings()
    if not cfg.jwt_secret and not cfg.jwks_url:
        raise ConfigError("set SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL")
    jwks_client = None
    if cfg.jwks_url:
        import jwt

        jwks_client = jwt.PyJWKClient(cfg.jwks_url, cache_keys=True, timeout=5)
    return TokenVerifier(hs256_secret=cfg.jwt_secret, jwks_client=jwks_client)
