"""`make rotate-keys`: re-wrap every stored data key under the current KEK (KMS ReEncrypt or the newest local version).

With the local keyring from .aether/ it first adds a new master key version; with ENCRYPTION_MASTER_KEY
given by the operator (``v1:<hex>,v2:<hex>``, last is current) or KMS_KEY_ID it only re-wraps.
Safe to re-run: records already under the current KEK are left alone.
"""
from __future__ import annotations

import argparse
import os
import sys

from scripts.devstack import add_local_master_key_version, prepare_local_environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-new-version", action="store_true", help="only re-wrap; do not add a local key version")
    args = parser.parse_args()
    local_keyring = not os.environ.get("KMS_KEY_ID") and not os.environ.get("ENCRYPTION_MASTER_KEY")
    prepare_local_environment()
    if local_keyring and not args.no_new_version:
        print(f"added local master key version {add_local_master_key_version()}", file=sys.stderr)

    from chalicelib import wiring
    from chalicelib.keys import rewrap_all

    def progress(report) -> None:
        print(f"\rscanned {report.scanned}  rewrapped {report.rewrapped}", end="", file=sys.stderr, flush=True)

    report = rewrap_all(wiring.key_repository(), wiring.envelope(), on_progress=progress)
    print(file=sys.stderr)
    print(
        f"scanned={report.scanned} rewrapped={report.rewrapped} already_current={report.already_current} "
        f"skipped_changed={report.skipped_changed} failed={report.failed}"
    )
    sys.exit(1 if report.failed else 0)


if __name__ == "__main__":
    main()
