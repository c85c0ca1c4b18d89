"""Routes of the local stage only (`make run`). app.py registers this blueprint only when
``settings.local_dev_routes_enabled()``, so in dev/prod these paths are not part of the API at all."""
from __future__ import annotations

from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.api.dev_tokens import DEFAULT_TTL_SECONDS, DEV_USER_ID, mint_token
from chalicelib.api.http import http_errors
from chalicelib.errors import ConfigError, NotFoundError
from chalicelib.settings import settings
from chalicelib.web import SECURITY_HEADERS

# The repository checkout `make run` serves from; guides are not part of the Lambda package.
_GUIDES = Path(__file__).resolve().parents[2] / "docs" / "guides"

local_dev_routes = Blueprint(__name__)


@local_dev_routes.route("/")
def home():
    return Response(body="", status_code=302, headers={"Location": "settings/connected-accounts"})


@local_dev_routes.route("/dev/token", methods=["POST"])
@http_errors
def dev_token():
    secret = settings().jwt_secret
    if not secret:
        raise ConfigError("dev sign-in needs SUPABASE_JWT_SECRET (make run sets one)")
    return Response(
        body={"access_token": mint_token(secret, DEV_USER_ID), "token_type": "bearer", "expires_in": DEFAULT_TTL_SECONDS},
        headers={"Cache-Control": "no-store"},
    )


@local_dev_routes.route("/docs/guides/{name}")
@http_errors
def guide(name):
    path = _GUIDES / name
    if path.suffix != ".md" or path.parent != _GUIDES or not path.is_file():
        raise NotFoundError("no such guide")
    return Response(body=path.read_text(encoding="utf-8"),
                    headers={**SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8"})
