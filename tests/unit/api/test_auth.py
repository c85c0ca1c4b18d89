"""JWT verification: HS256 with the shared secret, ES256/RS256 through a JWKS served over HTTP."""
from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from chalicelib.api.auth import TokenVerifier, bearer_token
from chalicelib.errors import ForbiddenError, UnauthorizedError

SECRET = "a-shared-secret-that-is-long-enough-for-hs256"


def claims(**overrides):
    base = {"sub": str(uuid.uuid4()), "aud": "authenticated", "exp": int(time.time()) + 300}
    return {**base, **overrides}


@pytest.fixture(scope="module")
def jwks():
    """A JWKS endpoint on 127.0.0.1 publishing one EC and one RSA key, as Supabase does."""
    keys = {"ec-1": ec.generate_private_key(ec.SECP256R1()), "rsa-1": rsa.generate_private_key(65537, 2048)}
    document = json.dumps(
        {"keys": [{**json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key())), "kid": kid, "alg": alg}
                  for (kid, key), alg in zip(keys.items(), ("ES256", "RS256"))]}
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield keys, f"http://127.0.0.1:{server.server_address[1]}/auth/v1/.well-known/jwks.json"
    server.shutdown()


def test_hs256_token_names_the_caller_and_admin_role():
    verifier = TokenVerifier(hs256_secret=SECRET)
    user = str(uuid.uuid4())
    caller = verifier.verify(jwt.encode(claims(sub=user, app_metadata={"role": "admin"}), SECRET, algorithm="HS256"))
    assert (caller.user_id, caller.is_admin) == (user, True)
    plain = verifier.verify(jwt.encode(claims(user_metadata={"role": "admin"}), SECRET, algorithm="HS256"))
    assert plain.is_admin is False  # only app_metadata (set by the server) can grant admin
    with pytest.raises(ForbiddenError):
        plain.require_admin()


@pytest.mark.parametrize(("kid", "alg"), [("ec-1", "ES256"), ("rsa-1", "RS256")])
def test_asymmetric_tokens_verify_against_the_jwks(jwks, kid, alg):
    keys, url = jwks
    verifier = TokenVerifier(hs256_secret=None, jwks_client=jwt.PyJWKClient(url))
    user = str(uuid.uuid4())
    token = jwt.encode(claims(sub=user), keys[kid], algorithm=alg, headers={"kid": kid})
    assert verifier.verify(token).user_id == user


def test_asymmetric_token_signed_by_an_unknown_key_is_refused(jwks):
    _, url = jwks
    verifier = TokenVerifier(hs256_secret=SECRET, jwks_client=jwt.PyJWKClient(url))
    stranger = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(UnauthorizedError):
        verifier.verify(jwt.encode(claims(), stranger, algorithm="ES256", headers={"kid": "ec-1"}))


def test_hs256_is_refused_when_only_a_jwks_is_configured(jwks):
    """Algorithm confusion: an HS256 token must not be checked against a public key."""
    _, url = jwks
    verifier = TokenVerifier(hs256_secret=None, jwks_client=jwt.PyJWKClient(url))
    with pytest.raises(UnauthorizedError):
        verifier.verify(jwt.encode(claims(), SECRET, algorithm="HS256"))


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer  ", "Token abc", "bearer"])
def test_bearer_token_requires_the_bearer_scheme(header):
    with pytest.raises(UnauthorizedError):
        bearer_token(header)


def test_bearer_scheme_is_case_insensitive():
    assert bearer_token("bearer abc.def.ghi") == "abc.def.ghi"
