"""`make run`: the HTTP API on 127.0.0.1 (chalice local, stage `local`) on the embedded default.

Without FLY_API_TOKEN, project starts go to a local stand-in of the Fly Machines API (the fake the tests use,
validating every request against Fly's OpenAPI spec), so the whole start flow can be tried without a Fly account.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

from scripts.devstack import ROOT, prepare_local_environment


def _local_fly(stack: contextlib.ExitStack) -> str | None:
    """Start the Fly stand-in unless a real Fly is configured; returns its URL."""
    if os.environ.get("FLY_API_TOKEN"):
        return None
    from tests.fakes.fly_server import running_fake_fly

    fake = stack.enter_context(running_fake_fly(app_name="aether-local", token="local-dev-token"))
    os.environ.update(
        FLY_API_URL=fake.url, FLY_API_TOKEN=fake.token, FLY_APP_NAME=fake.app_name,
        FLY_MACHINE_IMAGE=os.environ.get("FLY_MACHINE_IMAGE", "registry.fly.io/aether-base:local"),
    )
    return fake.url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    prepare_local_environment()
    with contextlib.ExitStack() as stack:
        fly_url = _local_fly(stack)
        if fly_url:
            print(f"project VMs: local Fly Machines stand-in on {fly_url} (set FLY_API_TOKEN etc. for real Fly)")
        print(f"aether-agents API on http://{args.host}:{args.port}  (token: make token USER=<uuid>)", flush=True)
        os.chdir(ROOT)
        from chalice.cli import main as chalice_main  # in-process, so the stand-in's thread keeps serving

        sys.argv = ["chalice", "local", "--stage", "local", "--host", args.host, "--port", str(args.port),
                    "--no-autoreload"]
        chalice_main()


if __name__ == "__main__":
    main()
