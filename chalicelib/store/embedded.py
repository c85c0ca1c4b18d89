"""An embedded PostgreSQL (the pgserver wheel) for `make run` and tests when no server is configured."""
from __future__ import annotations

import warnings
from pathlib import Path


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) a PostgreSQL server whose data lives in ``data_dir``; returns its URI."""
    with warnings.catch_warnings():
        # platformdirs warns about XDG_RUNTIME_DIR on servers without a login session; pgserver does not use it.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        import pgserver  # dev-only dependency: imported here so Lambda never needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    return pgserver.get_server(data_dir, cleanup_mode=None).get_uri()
