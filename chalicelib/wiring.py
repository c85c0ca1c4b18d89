"""Composition root: builds adapters from Settings on first use. Only app.py and dev scripts import this."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from chalicelib.api.auth import TokenVerifier
from chalicelib.crypto import Envelope, KeyWrapper
from chalicelib.errors import ConfigError
from chalicelib.keys import KeyRepository, KeyVault
from chalicelib.settings import settings

if TYPE_CHECKING:  # the adapters themselves are imported on first use, so `import app` stays light
    from psycopg_pool import ConnectionPool

    from chalicelib.analytics import AgentAnalytics, RollupJob, RollupStore, UsageSource
    from chalicelib.machines import MachinesApi, ProjectStarter, StartRunner, StartTasks
    from chalicelib.projects import ProjectRepository, ProjectService
    from chalicelib.usage.ingest import UsageIngestor
    from chalicelib.usage.ports import UsageStore
    from chalicelib.usage.publisher import TerminalChunkPublisher


@functools.cache
def pg_pool() -> ConnectionPool:
    from chalicelib.store.postgres import connect_pool

    if not settings().database_url:
        raise ConfigError("DATABASE_URL is not set")
    return connect_pool(settings().database_url)


@functools.cache
def aws_client(service: str) -> Any:
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


# ---- projects and their machines (docs/vm-start.md) ----------------------------------------------------------
# Every project VM gets the same shape; only its env differs.
MACHINE_GUEST = {"cpu_kind": "shared", "cpus": 1, "memory_mb": 1024}
MACHINE_RESTART = {"policy": "on-failure", "max_retries": 3}


@functools.cache
def project_repository() -> ProjectRepository:
    if settings().storage_backend == "dynamodb":
        from chalicelib.projects.adapters.dynamodb import DynamoDbProjectRepository

        return DynamoDbProjectRepository(client=aws_client("dynamodb"), table_name=settings().projects_table)
    from chalicelib.projects.adapters.postgres import PostgresProjectRepository

    return PostgresProjectRepository(pool=pg_pool())


@functools.cache
def projects() -> ProjectService:
    from chalicelib.projects import ProjectService

    return ProjectService(project_repository())


@functools.cache
def machines_api() -> MachinesApi:
    import requests

    from chalicelib.machines.adapters.fly import FlyMachinesApi

    cfg = settings()
    if not cfg.fly_api_token or not cfg.fly_app_name:
        raise ConfigError("set FLY_API_TOKEN and FLY_APP_NAME to start project machines")
    return FlyMachinesApi(session=requests.Session(), base_url=cfg.fly_api_url, app_name=cfg.fly_app_name,
                          token=cfg.fly_api_token, region=cfg.fly_region)


def _env_digest_secret() -> bytes:
    cfg = settings()
    if cfg.env_digest_secret:
        return cfg.env_digest_secret
    if cfg.stage == "local" and cfg.master_keys:
        from chalicelib.machines.env import derived_digest_secret

        return derived_digest_secret(list(cfg.master_keys.values())[-1])
    raise ConfigError("set ENV_DIGEST_SECRET")


@functools.cache
def start_tasks() -> StartTasks:
    from chalicelib.keys import PROVIDERS
    from chalicelib.machines import MachineLauncher, StartTasks

    cfg = settings()
    if not cfg.fly_machine_image:
        raise ConfigError("set FLY_MACHINE_IMAGE to start project machines")
    base_config = {"image": cfg.fly_machine_image, "guest": MACHINE_GUEST, "restart": MACHINE_RESTART}
    return StartTasks(
        projects=projects(),
        keys=vault(),
        launcher=MachineLauncher(api=machines_api(), base_config=base_config),
        env_var_by_provider={provider.name: provider.env_var for provider in PROVIDERS},
        image=cfg.fly_machine_image,
        digest_secret=_env_digest_secret(),
        wait_timeout_s=cfg.fly_wait_timeout_s,
    )


@functools.cache
def start_runner() -> StartRunner:
    cfg = settings()
    if cfg.start_state_machine_arn:
        from chalicelib.machines.adapters.stepfunctions import StepFunctionsStartRunner

        return StepFunctionsStartRunner(client=aws_client("stepfunctions"), state_machine_arn=cfg.start_state_machine_arn)
    if cfg.stage != "local":
        raise ConfigError("set START_STATE_MACHINE_ARN")
    from chalicelib.machines import LocalStartRunner

    return LocalStartRunner(tasks=start_tasks)


@functools.cache
def project_starter() -> ProjectStarter:
    from chalicelib.machines import ProjectStarter

    return ProjectStarter(projects=projects(), runner=start_runner())


# ---- agent usage tracking (chalicelib/usage, docs/usage-tracking.md) ----------------------------------------
@functools.cache
def usage_store() -> UsageStore:
    """Usage rows and detector state on the configured backend."""
    cfg = settings()
    if cfg.storage_backend == "dynamodb":
        from chalicelib.usage.adapters.dynamodb import DynamoDbUsageStore

        return DynamoDbUsageStore(
            client=aws_client("dynamodb"), usage_table=cfg.usage_table, state_table=cfg.detector_state_table
        )
    from chalicelib.usage.adapters.postgres import PostgresUsageStore

    return PostgresUsageStore(pool=pg_pool())


@functools.cache
def usage_ingestor() -> UsageIngestor:
    from chalicelib.usage.ingest import UsageIngestor

    return UsageIngestor(store=usage_store())


@functools.cache
def terminal_chunk_publisher() -> TerminalChunkPublisher:
    """The terminal proxy's producer (a background thread per process)."""
    from chalicelib.usage.adapters.kinesis import KinesisChunkSink
    from chalicelib.usage.publisher import TerminalChunkPublisher

    sink = KinesisChunkSink(client=aws_client("kinesis"), stream_name=settings().terminal_stream_name)
    return TerminalChunkPublisher(sink)


# ---- agent analytics (chalicelib/analytics) ------------------------------------------------------------------
@functools.cache
def analytics_storage() -> tuple[UsageSource, RollupStore]:
    """The (usage source, rollup store) pair of the configured backend."""
    cfg = settings()
    if cfg.storage_backend == "dynamodb":
        from chalicelib.analytics.adapters.dynamodb import DynamoDbRollupStore, DynamoDbUsageSource

        client = aws_client("dynamodb")
        return (DynamoDbUsageSource(client=client, table_name=cfg.usage_table),
                DynamoDbRollupStore(client=client, table_name=cfg.usage_rollups_table))
    from chalicelib.analytics.adapters.postgres import PostgresRollupStore, PostgresUsageSource

    return PostgresUsageSource(pool=pg_pool()), PostgresRollupStore(pool=pg_pool())


@functools.cache
def agent_analytics() -> AgentAnalytics:
    from chalicelib.analytics import AgentAnalytics

    usage, rollups = analytics_storage()
    return AgentAnalytics(usage=usage, rollups=rollups)


@functools.cache
def analytics_rollup() -> RollupJob:
    from chalicelib.analytics import RollupJob

    usage, rollups = analytics_storage()
    return RollupJob(usage=usage, rollups=rollups)
