"""`make rollup`: run the hourly agent-usage rollup now (``--full`` recomputes every day, e.g. after rows were deleted).

Uses the same settings as the service (STORAGE_BACKEND, DATABASE_URL or the embedded PostgreSQL, table names).
Safe to re-run: each run replaces the rollups of the days it recomputes.
"""
from __future__ import annotations

import argparse
import json

from scripts.devstack import prepare_local_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="recompute every day, ignoring the watermark")
    args = parser.parse_args()
    prepare_local_environment()

    from chalicelib import wiring

    print(json.dumps(wiring.analytics_rollup().run(full=args.full).to_json()))


if __name__ == "__main__":
    main()
