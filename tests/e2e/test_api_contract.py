"""The running API (make run's server) against docs/openapi.yaml: real responses conform, fuzzing finds no 5xx."""
from __future__ import annotations

import uuid

import jsonschema
import pytest
import requests
import schemathesis
from schemathesis.checks import positive_data_acceptance, unsupported_method
import yaml
from hypothesis import HealthCheck, settings

from tests.conftest import ROOT, make_canary_key

SPEC_PATH = ROOT / "docs" / "openapi.yaml"
schema = schemathesis.openapi.from_path(SPEC_PATH)
pytestmark = pytest.mark.slow
API_GATEWAY_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


def _response_schema(spec: dict, path: str, method: str, status: int) -> dict:
    response = spec["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return {**response["content"]["application/json"]["schema"], "components": spec["components"]}


def test_real_responses_match_the_documented_shapes(live_server):
    spec = yaml.safe_load(SPEC_PATH.read_text())
    user = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {live_server.token(user)}"}
    base = live_server.base_url

    def check(response, path, method):
        body = response.json()
        jsonschema.validate(body, _response_schema(spec, path, method, response.status_code))
        return body

    check(requests.get(f"{base}/user/api-keys", headers=headers, timeout=10), "/user/api-keys", "get")
    saved = requests.post(
        f"{base}/user/api-keys", headers=headers, json={"provider": "gemini", "api_key": make_canary_key("gemini")}, timeout=10
    )
    assert saved.status_code == 200
    check(saved, "/user/api-keys", "post")
    listed = check(requests.get(f"{base}/user/api-keys", headers=headers, timeout=10), "/user/api-keys", "get")
    assert any(p["connected"] for p in listed["providers"])
    bad = requests.post(f"{base}/user/api-keys", headers=headers, json={"provider": "gemini", "api_key": "x"}, timeout=10)
    assert bad.status_code == 400
    check(bad, "/user/api-keys", "post")
    assert requests.get(f"{base}/user/api-keys", timeout=10).status_code == 401
    missing = requests.delete(f"{base}/user/api-keys/nope", headers=headers, timeout=10)
    assert missing.status_code == 404
    check(missing, "/user/api-keys/{provider}", "delete")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzzed_requests_never_get_a_server_error(case, live_server):
    if case.method.upper() not in API_GATEWAY_METHODS:
        return  # chalice local's own HTTP server answers these (501); API Gateway never passes them to us
    token = live_server.token(str(uuid.uuid4()))
    case.call_and_validate(
        base_url=live_server.base_url,
        headers={"Authorization": f"Bearer {token}"},
        # API Gateway answers an undeclared method with 403 "Missing Authentication Token", not 405; and
        # schemathesis' coverage phase sends strings its own check calls schema-valid though they break a
        # documented `pattern` (e.g. a control character in a project name), which we rightly refuse.
        excluded_checks=[unsupported_method, positive_data_acceptance],
    )


def test_fifty_concurrent_saves_and_deletes_over_http_lose_nothing(live_server):
    """Per provider, an ordered stream of saves/deletes; the three streams race each other. No 5xx, last write wins."""
    from concurrent.futures import ThreadPoolExecutor

    user = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {live_server.token(user)}"}
    plans = {
        provider: [("put", make_canary_key(provider)) if i % 3 else ("delete", None) for i in range(17)]
        for provider in ("anthropic", "openai", "gemini")
    }
    plans["gemini"][-1] = ("delete", None)

    def run(provider):
        statuses = []
        with requests.Session() as session:
            for action, key in plans[provider]:
                if action == "put":
                    response = session.post(f"{live_server.base_url}/user/api-keys", headers=headers,
                                            json={"provider": provider, "api_key": key}, timeout=30)
                else:
                    response = session.delete(f"{live_server.base_url}/user/api-keys/{provider}", headers=headers, timeout=30)
                statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=3) as pool:
        statuses = [s for result in pool.map(run, plans) for s in result]
    assert sum(len(p) for p in plans.values()) >= 50
    assert set(statuses) <= {200, 204}
    final = {p["provider"]: p for p in requests.get(f"{live_server.base_url}/user/api-keys", headers=headers, timeout=10).json()["providers"]}
    for provider, plan in plans.items():
        action, key = plan[-1]
        assert final[provider]["connected"] is (action == "put")
        if key:
            assert final[provider]["hint"].endswith(key[-4:])
