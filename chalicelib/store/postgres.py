"""PostgreSQL connection pool shared by every PostgreSQL adapter."""
from __future__ import annotations

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool


def connect_pool(conninfo: str, *, max_size: int = 4) -> ConnectionPool:
    """Open a small pool (a Lambda container serves one request at a time) with dict rows."""
    return ConnectionPool(
        conninfo,
        min_size=1,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "autocommit": True},
        open=True,
        timeout=10,
    )
