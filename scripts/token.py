"""`make token USER=<uuid> [ADMIN=1]`: a bearer token signed with the local stage's JWT secret."""
from __future__ import annotations

import argparse
import os
import uuid

from chalicelib.api.dev_tokens import DEV_USER_ID, mint_token
from scripts.devstack import prepare_local_secrets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--user", default="", help="user uuid (default: the dev user)")
    parser.add_argument("--admin", action="store_true")
    args = parser.parse_args()
    try:
        user_id = str(uuid.UUID(args.user))
    except ValueError:
        user_id = DEV_USER_ID  # `make token` without USER=: $USER is the login name, not a uuid
    prepare_local_secrets()
    print(mint_token(os.environ["SUPABASE_JWT_SECRET"], user_id, admin=args.admin))


if __name__ == "__main__":
    main()
