"""Key vault: cold-start proxy (import time of app vs boto3 alone) and add/list/delete latency via chalice.test.Client."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import uuid

from bench.stats import percentiles, report, time_calls
from scripts.devstack import ROOT, scratch_database
from scripts.token import mint_token

IMPORT_RUNS = 7
REQUEST_RUNS = 200


def _import_ms(module: str) -> float:
    """Median wall time of a fresh interpreter importing ``module``, minus a bare interpreter start."""

    def run(code: str) -> float:
        out = subprocess.run(
            [sys.executable, "-c", f"import time; t=time.perf_counter(); {code}; print(time.perf_counter()-t)"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )
        return float(out.stdout) * 1000

    return percentiles([run(f"import {module}") for _ in range(IMPORT_RUNS)])[0]


def _requests() -> None:
    from chalice.test import Client

    with scratch_database() as url:
        secret = secrets.token_urlsafe(32)
        os.environ.update(
            AETHER_STAGE="local", STORAGE_BACKEND="postgres", DATABASE_URL=url,
            ENCRYPTION_MASTER_KEY=f"v1:{secrets.token_hex(32)}", SUPABASE_JWT_SECRET=secret,
        )
        os.environ.pop("KMS_KEY_ID", None)
        import app as app_module
        from chalicelib import wiring

        headers = {"Authorization": f"Bearer {mint_token(secret, str(uuid.uuid4()))}", "Content-Type": "application/json"}
        body = json.dumps({"provider": "anthropic", "api_key": "sk-ant-api03-" + "b" * 80})
        with Client(app_module.app, stage_name="local") as client:
            client.http.get("/user/api-keys", headers=headers)  # warm the pool and caches
            report("add (POST /user/api-keys)", time_calls(lambda: client.http.post("/user/api-keys", headers=headers, body=body), REQUEST_RUNS))
            report("list (GET /user/api-keys)", time_calls(lambda: client.http.get("/user/api-keys", headers=headers), REQUEST_RUNS))
            report("delete (DELETE /user/api-keys/anthropic)", time_calls(lambda: client.http.delete("/user/api-keys/anthropic", headers=headers), REQUEST_RUNS))
        wiring.pg_pool().close()


def main() -> None:
    print("== key vault ==")
    boto3_ms, app_ms = _import_ms("boto3"), _import_ms("app")
    print(f"  import boto3 alone   {boto3_ms:8.1f} ms")
    print(f"  import app           {app_ms:8.1f} ms   ratio app/boto3 = {app_ms / boto3_ms:.2f}x")
    print("  request latency, local keyring, real PostgreSQL, chalice.test.Client:")
    _requests()


if __name__ == "__main__":
    main()
