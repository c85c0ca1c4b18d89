"""Bearer tokens for the local stage only (`make token`, the page's "Sign in as dev user"): HS256, Supabase-shaped."""
from __future__ import annotations

import time

import jwt

from chalicelib.api.auth import AUDIENCE

# The user `make token` and the dev sign-in act as when no user id is given.
DEV_USER_ID = "00000000-0000-4000-8000-00000000d0e0"
DEFAULT_TTL_SECONDS = 12 * 3600


def mint_token(secret: str, user_id: str, *, admin: bool = False, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> str:
    now = int(time.time())
    claims = {
        "sub": user_id,
        "aud": AUDIENCE,
        "role": "authenticated",
        "iat": now,
        "exp": now + ttl_seconds,
        "app_metadata": {"role": "admin"} if admin else {},
    }
    return jwt.encode(claims, secret, algorithm="HS256")
