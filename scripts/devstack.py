"""The embedded default for `make run` and friends: secrets and an embedded PostgreSQL under .aether/."""
from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATE_DIR = ROOT / ".aether"
MASTER_KEYS_FILE = STATE_DIR / "master-keys"
JWT_SECRET_FILE = STATE_DIR / "jwt-secret"


def _secret_file(path: Path, make: str) -> str:
    """Read a generated secret, creating it (0600) the first time."""
    if not path.exists():
        STATE_DIR.mkdir(exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(make)
    return path.read_text().strip()


def add_local_master_key_version() -> str:
    """Append a new master key version to the local keyring; returns its id."""
    current = _secret_file(MASTER_KEYS_FILE, f"v1:{secrets.token_hex(32)}")
    version = f"v{len(current.split(',')) + 1}"
    MASTER_KEYS_FILE.write_text(f"{current},{version}:{secrets.token_hex(32)}")
    os.environ["ENCRYPTION_MASTER_KEY"] = MASTER_KEYS_FILE.read_text().strip()
    return version


def prepare_local_secrets() -> None:
    """Fill in the secrets the caller did not give, from .aether/ (created on first use)."""
    os.environ.setdefault("AETHER_STAGE", "local")
    if not os.environ.get("KMS_KEY_ID"):
        os.environ.setdefault("ENCRYPTION_MASTER_KEY", _secret_file(MASTER_KEYS_FILE, f"v1:{secrets.token_hex(32)}"))
    if not os.environ.get("SUPABASE_JWKS_URL"):
        os.environ.setdefault("SUPABASE_JWT_SECRET", _secret_file(JWT_SECRET_FILE, secrets.token_urlsafe(48)))


def prepare_local_environment() -> None:
    """Secrets as above, plus the database: DATABASE_URL or an embedded PostgreSQL, migrated."""
    prepare_local_secrets()
    if os.environ.get("STORAGE_BACKEND", "postgres") == "postgres":
        if not os.environ.get("DATABASE_URL"):
            from chalicelib.store.embedded import start_embedded_postgres

            os.environ["DATABASE_URL"] = start_embedded_postgres(STATE_DIR / "pgdata")
        from chalicelib.store.migrate import apply_migrations

        apply_migrations(os.environ["DATABASE_URL"])


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A fresh, migrated database for a test run or a benchmark, dropped afterwards.

    It lives on TEST_DATABASE_URL's server when set, else on an embedded server under .aether/.
    """
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from chalicelib.store.migrate import apply_migrations

    server_url = os.environ.get("TEST_DATABASE_URL")
    if not server_url:
        from chalicelib.store.embedded import start_embedded_postgres

        server_url = start_embedded_postgres(STATE_DIR / "test-pgdata")
    name = f"aether_scratch_{secrets.token_hex(6)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = make_conninfo(**{**conninfo_to_dict(server_url), "dbname": name})
    try:
        apply_migrations(url)
        yield url
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')
