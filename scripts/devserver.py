"""`make run`: the HTTP API on 127.0.0.1 (chalice local, stage `local`) on the embedded default."""
from __future__ import annotations

import argparse
import os
import sys

from scripts.devstack import ROOT, prepare_local_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    prepare_local_environment()
    print(f"aether-agents API on http://{args.host}:{args.port}  (token: make token USER=<uuid>)", flush=True)
    chalice = os.path.join(os.path.dirname(sys.executable), "chalice")
    os.chdir(ROOT)
    os.execv(chalice, [chalice, "local", "--stage", "local", "--host", args.host, "--port", str(args.port),
                       "--no-autoreload"])


if __name__ == "__main__":
    main()
