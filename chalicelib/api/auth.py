"""Supabase-style JWT authentication (PyJWT): HS256 with a shared secret or ES256/RS256 from a JWKS."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from chalicelib.errors import ForbiddenError, UnauthorizedError

AUDIENCE = "authenticated"
_ASYMMETRIC = ("ES256", "RS256")


@dataclass(frozen=True)
class Caller:
    user_id: str
    is_admin: bool

    def require_admin(self) -> None:
        if not self.is_admin:
            raise ForbiddenError("this route is for administrators")


@dataclass(frozen=True)
class TokenVerifier:
    hs256_secret: str | None
    jwks_client: jwt.PyJWKClient | None = None

    def verify(self, token: str) -> Caller:
        """The caller a token names; raises UnauthorizedError for any token that is not valid."""
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            key: Any
            if algorithm == "HS256" and self.hs256_secret:
                key = self.hs256_secret
            elif algorithm in _ASYMMETRIC and self.jwks_client is not None:
                key = self.jwks_client.get_signing_key_from_jwt(token).key
            else:
                raise UnauthorizedError("unsupported token algorithm")
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=AUDIENCE,
                options={"require": ["exp", "sub", "aud"]},
            )
            user_id = str(uuid.UUID(claims["sub"]))
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            raise UnauthorizedError("invalid or expired token") from None
        app_metadata = claims.get("app_metadata") or {}
        return Caller(user_id=user_id, is_admin=isinstance(app_metadata, dict) and app_metadata.get("role") == "admin")


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("expected 'Authorization: Bearer <token>'")
    return token.strip()


def caller_from_context(authorizer_context: dict[str, Any] | None) -> Caller:
    """The caller the authorizer admitted (API Gateway passes its context to the view)."""
    context = authorizer_context or {}
    if not context.get("principalId"):
        raise UnauthorizedError("not authenticated")
    return Caller(user_id=context["principalId"], is_admin=str(context.get("is_admin")) == "true")


def unauthorized_exception() -> Exception:
    """What an authorizer raises to answer 401.

    API Gateway maps an authorizer's ``Exception("Unauthorized")`` to 401. Chalice's local gateway
    (chalice local and chalice.test.Client) only turns its own NotAuthorizedError into a 401, and
    chalice.local is not shipped to Lambda, so use it where it exists.
    """
    try:
        from chalice.local import NotAuthorizedError
    except ImportError:
        return Exception("Unauthorized")
    return NotAuthorizedError({"x-amzn-ErrorType": "UnauthorizedException"}, b'{"message":"Unauthorized"}')
