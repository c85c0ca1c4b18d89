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


def test_every_service_table_is_closed_to_the_browser(pg_url):
    with psycopg.connect(pg_url) as conn:
        open_tables = conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'public' and c.relkind = 'r' and c.relname <> 'schema_migrations'"
            " and not c.relrowsecurity"
        ).fetchall()
    assert open_tables == []


def test_closing_a_table_revokes_what_supabase_roles_were_granted(pg_url):
    table = f"probe_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        created = [
            role for role in ("anon", "authenticated")
            if not conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
        ]
        for role in created:
            conn.execute(f"create role {role}")
        try:
            conn.execute(f"create table {table} (x int)")
            conn.execute(f"grant select, insert on {table} to anon, authenticated")
            conn.execute("select aether_close_to_browser(%s)", (table,))
            for role in ("anon", "authenticated"):
                assert conn.execute(
                    "select has_table_privilege(%s, %s, 'select')", (role, table)
                ).fetchone() == (False,)
        finally:
            conn.execute(f"drop table if exists {table}")
            for role in created:
                conn.execute(f"drop role {role}")
