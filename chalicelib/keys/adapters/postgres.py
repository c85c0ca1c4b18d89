"""KeyRepository on PostgreSQL: one row per (user, provider) in api_keys."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg_pool import ConnectionPool

from chalicelib.crypto import SealedSecret, WrappedKey
from chalicelib.keys.models import StoredKey

_COLUMNS = "user_id, provider, ciphertext, nonce, wrapped_key, kek_id, hint, added_at, updated_at, last_used_at"

# One statement, so concurrent saves of the same provider serialise on the row and the last commit wins.
_UPSERT = f"""
insert into api_keys ({_COLUMNS})
values (%(user_id)s, %(provider)s, %(ciphertext)s, %(nonce)s, %(wrapped_key)s, %(kek_id)s, %(hint)s,
        %(added_at)s, %(updated_at)s, null)
on conflict (user_id, provider) do update set
    ciphertext = excluded.ciphertext, nonce = excluded.nonce, wrapped_key = excluded.wrapped_key,
    kek_id = excluded.kek_id, hint = excluded.hint, updated_at = excluded.updated_at
returning {_COLUMNS}
"""
_LIST = f"select {_COLUMNS} from api_keys where user_id = %s order by provider"
_DELETE = "delete from api_keys where user_id = %s and provider = %s"
_MARK_USED = "update api_keys set last_used_at = %s where user_id = %s and provider = any(%s)"
_SCAN = f"select {_COLUMNS} from api_keys order by user_id, provider"
_REPLACE_SEALED = """
update api_keys set wrapped_key = %(wrapped_key)s, kek_id = %(kek_id)s
where user_id = %(user_id)s and provider = %(provider)s and nonce = %(old_nonce)s and wrapped_key = %(old_wrapped_key)s
"""


def _record(row: dict[str, Any]) -> StoredKey:
    return StoredKey(
        user_id=str(row["user_id"]),
        provider=row["provider"],
        sealed=SealedSecret(
            ciphertext=bytes(row["ciphertext"]),
            nonce=bytes(row["nonce"]),
            wrapped_key=WrappedKey(blob=bytes(row["wrapped_key"]), kek_id=row["kek_id"]),
        ),
        hint=row["hint"],
        added_at=row["added_at"],
        updated_at=row["updated_at"],
        last_used_at=row["last_used_at"],
    )


@dataclass(frozen=True)
class PostgresKeyRepository:
    pool: ConnectionPool

    def upsert(self, record: StoredKey) -> StoredKey:
        params = {
            "user_id": record.user_id,
            "provider": record.provider,
            "ciphertext": record.sealed.ciphertext,
            "nonce": record.sealed.nonce,
            "wrapped_key": record.sealed.wrapped_key.blob,
            "kek_id": record.sealed.wrapped_key.kek_id,
            "hint": record.hint,
            "added_at": record.added_at,
            "updated_at": record.updated_at,
        }
        with self.pool.connection() as conn:
            return _record(conn.execute(_UPSERT, params).fetchone())

    def list_for_user(self, user_id: str) -> list[StoredKey]:
        with self.pool.connection() as conn:
            return [_record(row) for row in conn.execute(_LIST, (user_id,))]

    def delete(self, user_id: str, provider: str) -> bool:
        with self.pool.connection() as conn:
            return conn.execute(_DELETE, (user_id, provider)).rowcount == 1

    def mark_used(self, user_id: str, providers: Iterable[str], at: datetime) -> None:
        with self.pool.connection() as conn:
            conn.execute(_MARK_USED, (at, user_id, list(providers)))

    def scan(self) -> Iterator[StoredKey]:
        # A server-side cursor streams the table instead of loading it whole.
        with self.pool.connection() as conn, conn.transaction(), conn.cursor(name="api_keys_scan") as cursor:
            cursor.execute(_SCAN)
            for row in cursor:
                yield _record(row)

    def replace_sealed(self, record: StoredKey, sealed: SealedSecret) -> bool:
        params = {
            "user_id": record.user_id,
            "provider": record.provider,
            "wrapped_key": sealed.wrapped_key.blob,
            "kek_id": sealed.wrapped_key.kek_id,
            "old_nonce": record.sealed.nonce,
            "old_wrapped_key": record.sealed.wrapped_key.blob,
        }
        with self.pool.connection() as conn:
            return conn.execute(_REPLACE_SEALED, params).rowcount == 1
