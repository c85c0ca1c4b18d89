"""The page routes and the local-only routes through chalice.test.Client."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from chalice import Chalice
from chalice.test import Client

import app as app_module
from chalicelib.api.auth import TokenVerifier
from chalicelib.api.dev_tokens import DEV_USER_ID
from chalicelib.api.local_dev import local_dev_routes
from chalicelib.keys import PROVIDERS
from tests.conftest import ROOT

LOCAL_ONLY_ROUTES = {"/", "/dev/token", "/docs/guides/{name}"}
PAGE_ROUTES = {"/settings/connected-accounts", "/settings/assets/{name}", "/providers"}


@pytest.fixture
def client(local_env):
    with Client(app_module.app, stage_name="local") as test_client:
        yield test_client


@pytest.fixture
def local_client(local_env):
    """An app with only the local-stage blueprint, whatever stage this test process imported app.py in."""
    local_app = Chalice(app_name="local-dev-routes-under-test")
    local_app.register_blueprint(local_dev_routes)
    with Client(local_app, stage_name="local") as test_client:
        yield test_client


def routes_in_stage(stage: str | None) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "AETHER_STAGE"}
    if stage is not None:
        env["AETHER_STAGE"] = stage
    listing = subprocess.run(
        [sys.executable, "-c", "import json, app; print(json.dumps(sorted(app.app.routes)))"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )
    return set(json.loads(listing.stdout))


@pytest.mark.parametrize("path", ["/settings/connected-accounts", "/settings/assets/connected-accounts.js"])
def test_page_and_assets_need_no_token_and_carry_the_security_headers(client, path):
    response = client.http.get(path)
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_unknown_asset_is_a_json_404(client):
    response = client.http.get("/settings/assets/pages.py")
    assert response.status_code == 404
    assert response.json_body["Code"] == "asset_not_found"


def test_providers_needs_a_token(client):
    assert client.http.get("/providers").status_code == 401


def test_providers_lists_every_registry_entry_for_the_page(client, token_for, user_id):
    response = client.http.get("/providers", headers={"Authorization": f"Bearer {token_for(user_id)}"})
    assert response.status_code == 200
    listed = {entry["provider"]: entry for entry in response.json_body["providers"]}
    assert list(listed) == [provider.name for provider in PROVIDERS]
    for provider in PROVIDERS:
        assert listed[provider.name]["display_name"] == provider.display_name
        assert listed[provider.name]["console_url"] == provider.console_url
        assert listed[provider.name]["env_var"] == provider.env_var


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["dev", "prod", None])
def test_local_only_routes_do_not_exist_outside_the_local_stage(stage):
    routes = routes_in_stage(stage)
    assert PAGE_ROUTES <= routes
    assert not LOCAL_ONLY_ROUTES & routes


@pytest.mark.slow
def test_local_stage_has_the_local_only_routes():
    assert LOCAL_ONLY_ROUTES <= routes_in_stage("local")


def test_dev_token_signs_in_as_the_dev_user(local_client, local_env):
    response = local_client.http.post("/dev/token")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    caller = TokenVerifier(hs256_secret=local_env["SUPABASE_JWT_SECRET"]).verify(response.json_body["access_token"])
    assert caller.user_id == DEV_USER_ID and not caller.is_admin


def test_home_redirects_to_the_page_relative_to_the_api_root(local_client):
    response = local_client.http.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "settings/connected-accounts"


@pytest.mark.parametrize("name", ["..%2F..%2Fapp.py", "connected-accounts.html", "missing.md"])
def test_guide_route_serves_only_markdown_guides(local_client, name):
    assert local_client.http.get(f"/docs/guides/{name}").status_code == 404
