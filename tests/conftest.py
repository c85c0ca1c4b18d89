"""Shared fixtures: real PostgreSQL (TEST_DATABASE_URL or the embedded server), moto, settings, canary keys."""
from __future__ import annotations

import os
import secrets
import string
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
# Raw terminal bytes from real agent CLIs with their expected detection (copied from shared/recordings).
RECORDINGS_DIR = ROOT / "tests" / "fixtures" / "recordings"

# moto and boto3 need a region and fake credentials; never touch a real account from tests.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ.pop("AWS_PROFILE", None)
os.environ["POWERTOOLS_METRICS_DISABLED"] = "1"
os.environ["POWERTOOLS_TRACE_DISABLED"] = "1"

_KEY_ALPHABET = string.ascii_letters + string.digits


def _random_tail(length: int) -> str:
    return "".join(secrets.choice(_KEY_ALPHABET) for _ in range(length))


def make_canary_key(provider: str) -> str:
    """A well-formed, unique, fake key for ``provider``; tests search every output for it."""
    if provider == "anthropic":
        return "sk-ant-api03-CANARY" + _random_tail(80)
    if provider == "openai":
        return "sk-proj-CANARY" + _random_tail(60)
    if provider == "gemini":
        return "AIzaCANARY" + _random_tail(29)
    raise ValueError(provider)


@pytest.fixture
def canary_key():
    return make_canary_key


@pytest.fixture
def user_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, migrated database (TEST_DATABASE_URL's server, else embedded), dropped afterwards.

    A new database per run means a migration edited during development is always applied as written.
    """
    from scripts.devstack import scratch_database

    with scratch_database() as url:
        yield url


@pytest.fixture(scope="session")
def pg_pool(pg_url: str):
    from chalicelib.store.postgres import connect_pool

    pool = connect_pool(pg_url, max_size=8)
    yield pool
    pool.close()


@pytest.fixture
def fake_fly():
    """A fake Fly Machines API on 127.0.0.1 (tests/fakes/fly_server.py): machines, leases, fault injection."""
    from tests.fakes.fly_server import running_fake_fly

    with running_fake_fly() as fake:
        yield fake


@pytest.fixture
def aws():
    """Every AWS service mocked by moto for the duration of a test."""
    from moto import mock_aws

    with mock_aws():
        yield


def reset_service_caches() -> None:
    """Forget cached settings and adapters so the next call re-reads the (patched) environment."""
    from chalicelib import settings as settings_module
    from chalicelib import wiring

    settings_module.settings.cache_clear()
    for builder in vars(wiring).values():
        if callable(getattr(builder, "cache_clear", None)):
            builder.cache_clear()


@pytest.fixture
def local_env(monkeypatch: pytest.MonkeyPatch, pg_url: str) -> Iterator[dict[str, str]]:
    """The local stage on the test database with a fresh local keyring and JWT secret."""
    env = {
        "AETHER_STAGE": "local",
        "STORAGE_BACKEND": "postgres",
        "DATABASE_URL": pg_url,
        "ENCRYPTION_MASTER_KEY": f"v1:{secrets.token_hex(32)}",
        "SUPABASE_JWT_SECRET": secrets.token_urlsafe(32),
    }
    for name in ("KMS_KEY_ID", "SUPABASE_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_service_caches()
    yield env
    from chalicelib import wiring

    if wiring.pg_pool.cache_info().currsize:
        wiring.pg_pool().close()
    reset_service_caches()


@pytest.fixture
def token_for(local_env: dict[str, str]):
    """Mint a valid local-stage bearer token for a user id (admin optional)."""
    from scripts.token import mint_token

    return lambda user_id, admin=False: mint_token(local_env["SUPABASE_JWT_SECRET"], user_id, admin=admin)


@pytest.fixture
def captured_logs(caplog: pytest.LogCaptureFixture):
    """Everything logged during the test at every level: the service's JSON lines and any library's records.

    Returns a function giving the captured text so far.
    """
    import io
    import logging

    from chalicelib.observability import logger

    buffer = io.StringIO()
    handlers = logger.handlers
    old_streams = [handler.setStream(buffer) for handler in handlers]
    old_level = logger.log_level
    logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    # moto is test scaffolding, not the service: its DEBUG lines dump whole state machines at every step.
    caplog.set_level(logging.INFO, logger="moto")
    try:
        yield lambda: buffer.getvalue() + "\n".join(
            f"{record.getMessage()} {record.__dict__}" for record in caplog.records
        )
    finally:
        for handler, stream in zip(handlers, old_streams):
            handler.setStream(stream)
        logger.setLevel(old_level)
