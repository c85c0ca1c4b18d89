"""Shared fixtures: real PostgreSQL (TEST_DATABASE_URL or the embedded server), moto, settings, canary keys,
and the real dev server for browser and end-to-end tests."""
from __future__ import annotations

import os
import secrets
import socket
import string
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

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


# ---- the real dev server, for browser and end-to-end tests ----------------------------------------
OUTPUT_DIR = ROOT / "test-output"
PAGE_PATH = "/settings/connected-accounts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    jwt_secret: str
    log_path: Path

    def token(self, user_id: str) -> str:
        from chalicelib.api.dev_tokens import mint_token

        return mint_token(self.jwt_secret, user_id)

    def api(self, method: str, path: str, user_id: str, **kwargs) -> requests.Response:
        """Ask the API directly, as the test's independent witness of what the page did."""
        headers = {"Authorization": f"Bearer {self.token(user_id)}"}
        return requests.request(method, self.base_url + path, headers=headers, timeout=10, **kwargs)

    def key_status(self, user_id: str, provider: str) -> dict:
        response = self.api("GET", "/user/api-keys", user_id)
        response.raise_for_status()
        return next(p for p in response.json()["providers"] if p["provider"] == provider)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def live_server(pg_url: str) -> Iterator[LiveServer]:
    """`make run`'s server process (chalice local, stage local) against the test database."""
    port = _free_port()
    jwt_secret = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "AETHER_STAGE": "local",
        "STORAGE_BACKEND": "postgres",
        "DATABASE_URL": pg_url,
        "ENCRYPTION_MASTER_KEY": f"v1:{secrets.token_hex(32)}",
        "SUPABASE_JWT_SECRET": jwt_secret,
        "LOG_LEVEL": "DEBUG",
    }
    for name in ("KMS_KEY_ID", "SUPABASE_JWKS_URL", "USING_AGENTS_GUIDE_URL"):
        env.pop(name, None)
    OUTPUT_DIR.mkdir(exist_ok=True)
    log_path = OUTPUT_DIR / "devserver.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "scripts.devserver", "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    server = LiveServer(base_url=f"http://127.0.0.1:{port}", jwt_secret=jwt_secret, log_path=log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"dev server exited with {process.returncode}:\n{server.log_text()}")
            try:
                if requests.get(server.base_url + PAGE_PATH, timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"dev server did not answer within 60 s:\n{server.log_text()}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
