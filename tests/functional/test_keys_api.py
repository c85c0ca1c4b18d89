"""The key routes through chalice.test.Client, on real PostgreSQL with the local keyring."""
from __future__ import annotations

import json
import time
import uuid

import jwt
import psycopg
import pytest
from chalice.test import Client

import app as app_module


@pytest.fixture
def client(local_env):
    with Client(app_module.app, stage_name="local") as test_client:
        yield test_client


def call(client, method, path, token=None, body=None, raw=None, headers=None):
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
    return getattr(client.http, method.lower())(path, headers=all_headers, body=payload)


def providers_of(response):
    return {entry["provider"]: entry for entry in response.json_body["providers"]}


def dump_api_keys(pg_url: str) -> str:
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("select * from api_keys").fetchall()
    return repr(rows) + "".join(bytes(v).decode("latin-1") for row in rows for v in row if isinstance(v, bytes))


def test_list_shows_every_provider_disconnected_for_a_new_user(client, token_for, user_id):
    response = call(client, "GET", "/user/api-keys", token_for(user_id))
    assert response.status_code == 200
    assert response.json_body == {
        "providers": [
            {"provider": "anthropic", "connected": False},
            {"provider": "openai", "connected": False},
            {"provider": "gemini", "connected": False},
        ]
    }


def test_connect_replace_and_disconnect(client, token_for, user_id, canary_key):
    token = token_for(user_id)
    first = call(client, "POST", "/user/api-keys", token, {"provider": "anthropic", "api_key": canary_key("anthropic")})
    assert first.status_code == 200
    assert first.json_body["connected"] is True
    assert first.json_body["hint"].startswith("sk-ant-…")
    listed = providers_of(call(client, "GET", "/user/api-keys", token))["anthropic"]
    assert listed["added_at"] == first.json_body["added_at"]
    assert listed["last_used_at"] is None

    replacement = canary_key("anthropic")
    time.sleep(0.01)
    second = call(client, "POST", "/user/api-keys", token, {"provider": "anthropic", "api_key": replacement})
    assert second.json_body["added_at"] == first.json_body["added_at"]
    assert second.json_body["updated_at"] > first.json_body["updated_at"]
    assert second.json_body["hint"] == f"sk-ant-…{replacement[-4:]}"

    assert call(client, "DELETE", "/user/api-keys/anthropic", token).status_code == 204
    assert providers_of(call(client, "GET", "/user/api-keys", token))["anthropic"] == {
        "provider": "anthropic",
        "connected": False,
    }
    # Disconnecting what is not connected is not an error.
    assert call(client, "DELETE", "/user/api-keys/anthropic", token).status_code == 204


def test_delete_unknown_provider_is_404(client, token_for, user_id):
    response = call(client, "DELETE", "/user/api-keys/mistral", token_for(user_id))
    assert response.status_code == 404
    assert response.json_body["Code"] == "unknown_provider"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"provider": "mistral", "api_key": "sk-" + "a" * 50}, 400, "unknown_provider"),
        ({"api_key": "sk-ant-api03-" + "a" * 50}, 400, "unknown_provider"),
        ({"provider": "anthropic"}, 400, "invalid_api_key"),
        ({"provider": "anthropic", "api_key": 12345}, 400, "invalid_api_key"),
        ({"provider": "anthropic", "api_key": "sk-ant-api03-" + "a" * 20 + " " + "b" * 20}, 400, "invalid_api_key"),
        ({"provider": "anthropic", "api_key": "sk-ant-api03-" + "a" * 40 + "\n"}, 400, "invalid_api_key"),
        ({"provider": "anthropic", "api_key": "sk-ant-api03-" + "a" * 40 + "\x07"}, 400, "invalid_api_key"),
        ({"provider": "anthropic", "api_key": "sk-ant-api03-" + "ä" * 40}, 400, "invalid_api_key"),
        ({"provider": "anthropic", "api_key": "sk-ant-api03-short"}, 400, "invalid_api_key"),
        ({"provider": "anthropic", "api_key": "sk-ant-api03-" + "a" * 600}, 400, "invalid_api_key"),
        ({"provider": "anthropic", "api_key": "sk-ant-admin01-" + "a" * 60}, 400, "invalid_api_key"),
        ({"provider": "anthropic", "api_key": "sk-proj-" + "a" * 60}, 400, "invalid_api_key"),
        ({"provider": "openai", "api_key": "sk-ant-api03-" + "a" * 60}, 400, "invalid_api_key"),
        ({"provider": "gemini", "api_key": "sk-proj-" + "a" * 60}, 400, "invalid_api_key"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_stores_nothing(client, token_for, user_id, pg_url, body, status, code):
    response = call(client, "POST", "/user/api-keys", token_for(user_id), body)
    assert response.status_code == status
    assert response.json_body["Code"] == code
    assert response.json_body["Message"]
    key = body.get("api_key")
    if isinstance(key, str):
        assert key not in response.body.decode()
    assert all(not p["connected"] for p in providers_of(call(client, "GET", "/user/api-keys", token_for(user_id))).values())


@pytest.mark.parametrize(
    ("raw", "status"),
    [("not json", 400), ("[1, 2]", 400), ("", 400), ("null", 400), (json.dumps({"provider": "anthropic", "api_key": "sk-ant-" + "a" * 17_000}), 413)],
)
def test_malformed_bodies_are_rejected(client, token_for, user_id, raw, status):
    response = call(client, "POST", "/user/api-keys", token_for(user_id), raw=raw)
    assert response.status_code == status
    assert "Code" in response.json_body


def _token(secret, **overrides):
    claims = {"sub": str(uuid.uuid4()), "aud": "authenticated", "exp": int(time.time()) + 600, **overrides}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, secret, algorithm="HS256")


def _alg_none_token(user):
    header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    payload = jwt.utils.base64url_encode(
        json.dumps({"sub": user, "aud": "authenticated", "exp": int(time.time()) + 600}).encode()
    ).decode()
    return f"{header}.{payload}."


@pytest.mark.parametrize(
    "make_header",
    [
        lambda env: None,
        lambda env: "Bearer",
        lambda env: "Basic dXNlcjpwYXNz",
        lambda env: "Bearer not-a-jwt",
        lambda env: "Bearer " + _token(env["SUPABASE_JWT_SECRET"], exp=int(time.time()) - 10),
        lambda env: "Bearer " + _token(env["SUPABASE_JWT_SECRET"], exp=None),
        lambda env: "Bearer " + _token(env["SUPABASE_JWT_SECRET"], aud="anon"),
        lambda env: "Bearer " + _token(env["SUPABASE_JWT_SECRET"], sub="not-a-uuid"),
        lambda env: "Bearer " + _token("some-other-secret-of-sufficient-length"),
        lambda env: "Bearer " + _alg_none_token(str(uuid.uuid4())),
    ],
    ids=["missing", "empty-bearer", "basic", "malformed", "expired", "no-exp", "wrong-aud", "bad-sub", "wrong-signature", "alg-none"],
)
def test_invalid_credentials_get_401(client, local_env, make_header):
    header = make_header(local_env)
    headers = {"Authorization": header} if header is not None else {}
    for method, path in (("GET", "/user/api-keys"), ("POST", "/user/api-keys"), ("DELETE", "/user/api-keys/openai")):
        response = getattr(client.http, method.lower())(path, headers=headers, body=b"{}")
        assert response.status_code == 401, (method, path)


def test_other_users_token_never_reads_changes_or_deletes_your_keys(client, token_for, canary_key):
    alice, mallory = str(uuid.uuid4()), str(uuid.uuid4())
    key = canary_key("openai")
    assert call(client, "POST", "/user/api-keys", token_for(alice), {"provider": "openai", "api_key": key}).status_code == 200
    assert not providers_of(call(client, "GET", "/user/api-keys", token_for(mallory)))["openai"]["connected"]
    assert call(client, "DELETE", "/user/api-keys/openai", token_for(mallory)).status_code == 204
    call(client, "POST", "/user/api-keys", token_for(mallory), {"provider": "openai", "api_key": canary_key("openai")})
    alice_view = providers_of(call(client, "GET", "/user/api-keys", token_for(alice)))["openai"]
    assert alice_view["connected"] and alice_view["hint"].endswith(key[-4:])


def test_canary_keys_never_leave_the_request(client, token_for, user_id, canary_key, captured_logs, pg_url):
    token = token_for(user_id)
    canaries = {provider: canary_key(provider) for provider in ("anthropic", "openai", "gemini")}
    responses = []
    for provider, key in canaries.items():
        responses.append(call(client, "POST", "/user/api-keys", token, {"provider": provider, "api_key": key}))
        # A key posted under the wrong provider is refused without echoing it.
        wrong = "openai" if provider != "openai" else "anthropic"
        responses.append(call(client, "POST", "/user/api-keys", token, {"provider": wrong, "api_key": key}))
    responses.append(call(client, "GET", "/user/api-keys", token))
    evidence = "".join(r.body.decode() for r in responses) + json.dumps([dict(r.headers) for r in responses])
    evidence += captured_logs() + dump_api_keys(pg_url)
    for key in canaries.values():
        assert key not in evidence
        assert key[len("sk-ant-api03-"):][:24] not in evidence  # nor a recognisable fragment
