"""Migrations apply once, in order, and api_keys is closed to Supabase's browser roles by row-level security."""
from __future__ import annotations

import uuid

import psycopg

from chalicelib.store.migrate import MIGRATIONS_DIR, apply_migrations


def test_migrations_are_recorded_and_not_applied_twice(pg_url):
    assert apply_migrations(pg_url) == []
    with psycopg.connect(pg_url) as conn:
        recorded = [row[0] for row in conn.execute("select name from schema_migrations order by name")]
    assert recorded == sorted(path.name for path in MIGRATIONS_DIR.glob("*.sql"))


def test_row_level_security_hides_api_keys_from_other_roles(pg_url):
    role = f"rls_probe_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("select relrowsecurity from pg_class where relname = 'api_keys'").fetchone() == (True,)
        conn.execute(
            "insert into api_keys (user_id, provider, ciphertext, nonce, wrapped_key, kek_id, hint)"
            " values (%s, 'openai', '\\x00', '\\x00', '\\x00', 'local:v1', 'sk-…abcd')",
            (str(uuid.uuid4()),),
        )
        conn.execute(f"create role {role}")
        try:
            # Even with a table grant (which anon/authenticated never get), RLS without policies returns nothing.
            conn.execute(f"grant select on api_keys to {role}")
            conn.execute(f"set role {role}")
            assert conn.execute("select count(*) from api_keys").fetchone() == (0,)
            conn.execute("reset role")
        finally:
            conn.execute(f"revoke all on api_keys from {role}")
            conn.execute(f"drop role {role}")
