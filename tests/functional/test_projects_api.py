"""Project routes and the VM start, end to end: Chalice test client, real PostgreSQL and vault, fake Fly.

The local stage runs the start flow in-process (the same steps as the state machine), so after POST .../start
the project holds the final outcome.
"""
from __future__ import annotations

import json
import uuid

import jsonschema
import psycopg
import pytest
import yaml
from chalice.test import Client

import app as app_module
from tests.conftest import ROOT, reset_service_caches

IMAGE = "registry.fly.io/aether-base:test"
OPENAPI = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())


def conforms(body, schema_name: str) -> None:
    """``body`` matches the named schema of docs/openapi.yaml."""
    jsonschema.validate(body, {"$ref": f"#/components/schemas/{schema_name}", "components": OPENAPI["components"]})


@pytest.fixture
def client(local_env, fake_fly, monkeypatch):
    for name, value in {"FLY_API_URL": fake_fly.url, "FLY_API_TOKEN": fake_fly.token,
                        "FLY_APP_NAME": fake_fly.app_name, "FLY_MACHINE_IMAGE": IMAGE,
                        "FLY_WAIT_TIMEOUT": "1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("START_STATE_MACHINE_ARN", raising=False)
    reset_service_caches()
    with Client(app_module.app, stage_name="local") as test_client:
        yield test_client


class Api:
    """Calls as one user, recording every response body for the canary search."""

    def __init__(self, client, token):
        self.client, self.token, self.bodies = client, token, []

    def __call__(self, method, path, body=None):
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        response = getattr(self.client.http, method.lower())(
            path, headers=headers, body=json.dumps(body) if body is not None else None)
        self.bodies.append(response.body.decode() if isinstance(response.body, bytes) else str(response.body))
        return response


@pytest.fixture
def api(client, token_for, user_id):
    return Api(client, token_for(user_id))


def connect(api, provider, key):
    assert api("POST", "/user/api-keys", {"provider": provider, "api_key": key}).status_code == 200


def new_project(api, env):
    response = api("POST", "/projects", {"name": "demo", "env": env})
    assert response.status_code == 201, response.json_body
    conforms(response.json_body, "Project")
    return response.json_body["id"]


def start(api, project_id):
    response = api("POST", f"/projects/{project_id}/start")
    assert response.status_code == 202, response.json_body
    return response.json_body


def the_machine(fake_fly, project_id):
    [machine] = fake_fly.machines_for(project_id)
    return machine


def test_fresh_start_injects_keys_and_project_vars_with_project_winning(api, fake_fly, canary_key):
    keys = {"anthropic": canary_key("anthropic"), "openai": canary_key("openai")}
    for provider, key in keys.items():
        connect(api, provider, key)
    project_id = new_project(api, {"OPENAI_API_KEY": "project-override", "APP_MODE": "dev"})

    started = start(api, project_id)

    machine = the_machine(fake_fly, project_id)
    assert started["state"] == "started" and started["machine_id"] == machine.id
    conforms(started, "MachineStatus")
    conforms(api("GET", f"/projects/{project_id}/machine").json_body, "MachineStatus")
    assert machine.state == "started" and machine.config["image"] == IMAGE
    assert machine.config["env"] == {"ANTHROPIC_API_KEY": keys["anthropic"], "OPENAI_API_KEY": "project-override",
                                     "APP_MODE": "dev"}
    assert api("GET", f"/projects/{project_id}/machine").json_body | {"updated_at": None} == {
        "project_id": project_id, "machine_id": machine.id, "state": "started", "error": None,
        "start_id": started["start_id"], "updated_at": None}
    used = {p["provider"]: p.get("last_used_at") for p in api("GET", "/user/api-keys").json_body["providers"]}
    assert used["anthropic"] is not None and used["openai"] is None  # the project var replaced the openai key
    assert fake_fly.schema_errors == [] and fake_fly.active_leases() == []


def test_restart_after_adding_changing_and_deleting_keys_has_exactly_the_current_env(api, fake_fly, canary_key):
    connect(api, "anthropic", canary_key("anthropic"))
    connect(api, "openai", (old_openai := canary_key("openai")))
    project_id = new_project(api, {"APP_MODE": "dev"})
    start(api, project_id)
    fake_fly.stop_machine(the_machine(fake_fly, project_id).id)

    new_openai, gemini = canary_key("openai"), canary_key("gemini")
    connect(api, "openai", new_openai)
    connect(api, "gemini", gemini)
    assert api("DELETE", "/user/api-keys/anthropic").status_code == 204
    assert api("PUT", f"/projects/{project_id}/env", {"env": {"APP_MODE": "prod"}}).status_code == 200
    start(api, project_id)

    machine = the_machine(fake_fly, project_id)
    assert machine.state == "started"
    assert machine.config["env"] == {"OPENAI_API_KEY": new_openai, "GEMINI_API_KEY": gemini, "APP_MODE": "prod"}
    assert old_openai not in json.dumps(machine.config)
    assert len(fake_fly.calls("POST", "machines")) == 1  # one create, then an update


def test_restart_with_nothing_changed_skips_the_update(api, fake_fly, canary_key):
    connect(api, "anthropic", canary_key("anthropic"))
    project_id = new_project(api, {"APP_MODE": "dev"})
    first = start(api, project_id)
    fake_fly.stop_machine(first["machine_id"])
    second = start(api, project_id)
    assert second["state"] == "started" and second["machine_id"] == first["machine_id"]
    assert fake_fly.calls("POST", "machine") == []  # no update call at all
    assert len(fake_fly.calls("POST", "start")) == 1


def inject(fake_fly, fault):
    faults = fake_fly.faults
    if fault == "429 burst":
        faults.throttle("create", 2, retry_after="1")
        faults.throttle("list", 1, retry_after="1")
    elif fault == "5xx":
        faults.fail("list", 503, 2)
        faults.fail("create", 502, 1)
    elif fault == "408 after create":
        faults.timeouts_after_create = 1
    elif fault == "412 on start":
        faults.fail("start", 412, 2)
    elif fault == "slow wait":
        faults.slow_waits, faults.slow_wait_s = 1, 5.0  # the first /wait times out (408), the retry succeeds
    elif fault == "rollback":
        faults.rollback_updates = 1
    elif fault == "fly down":
        faults.fail("list", 503, 50)
    elif fault == "no capacity":
        faults.fail("create", 503, 1, body={"error": "no capacity", "status": "insufficient_capacity"})


FAULTS = ["429 burst", "5xx", "408 after create", "412 on start", "slow wait", "rollback", "fly down", "no capacity"]
EXPECTED_ERROR = {"rollback": "fly_rejected", "fly down": "fly_unavailable", "no capacity": "fly_capacity"}


@pytest.mark.slow
@pytest.mark.parametrize("fault", FAULTS)
def test_under_each_fault_one_machine_and_either_started_or_a_clear_code_and_no_canary_anywhere(
        api, fake_fly, canary_key, captured_logs, pg_url, fault):
    keys = [canary_key("anthropic"), canary_key("openai")]
    connect(api, "anthropic", keys[0])
    connect(api, "openai", keys[1])
    project_id = new_project(api, {"APP_MODE": "dev"})
    if fault in ("412 on start", "rollback"):  # faults of a restart: first a clean start, then a changed env
        start(api, project_id)
        fake_fly.stop_machine(the_machine(fake_fly, project_id).id)
        api("PUT", f"/projects/{project_id}/env", {"env": {"APP_MODE": "prod"}})
    inject(fake_fly, fault)

    outcome = start(api, project_id)
    status = api("GET", f"/projects/{project_id}/machine").json_body

    assert len(fake_fly.machines_for(project_id)) <= 1
    if fault in EXPECTED_ERROR:
        assert status["state"] == "failed" and status["error"] == EXPECTED_ERROR[fault]
    else:
        assert status["state"] == "started" and status["error"] is None
        assert the_machine(fake_fly, project_id).state == "started"
    assert outcome["state"] == status["state"]
    if fault == "slow wait":
        assert [r.status for r in fake_fly.calls("GET", "wait")] == [408, 200]
    assert fake_fly.active_leases() == []
    with psycopg.connect(pg_url) as conn:
        tables = repr(conn.execute("select * from projects").fetchall())
    evidence = "\n".join(api.bodies) + captured_logs() + tables
    for key in keys:
        assert key not in evidence


def test_another_user_can_neither_start_nor_inspect_nor_change_your_project(client, api, token_for, fake_fly):
    project_id = new_project(api, {"A": "1"})
    stranger = Api(client, token_for(str(uuid.uuid4())))
    assert stranger("POST", f"/projects/{project_id}/start").status_code == 404
    assert stranger("GET", f"/projects/{project_id}/machine").status_code == 404
    assert stranger("PUT", f"/projects/{project_id}/env", {"env": {"A": "2"}}).status_code == 404
    assert stranger("GET", "/projects/not-a-uuid/machine").status_code == 404
    assert stranger("PUT", "/projects/not-a-uuid/env", {"env": {}}).status_code == 404
    assert api("PUT", f"/projects/{project_id}/env", {"env": None}).status_code == 400
    assert fake_fly.requests == []
    assert api("GET", f"/projects/{project_id}/machine").json_body["state"] == "none"


@pytest.mark.parametrize("env", [{"PATH": "/tmp"}, {"LD_PRELOAD": "x.so"}, {"1BAD": "x"}, {"A-B": "x"},
                                 {"OK": 5}, ["A=B"]])
def test_reserved_or_invalid_env_is_400_and_changes_nothing(api, env, pg_url):
    project_id = new_project(api, {"KEEP": "1"})
    response = api("PUT", f"/projects/{project_id}/env", {"env": env})
    assert response.status_code == 400 and response.json_body["Code"] == "invalid_project"
    assert api("POST", "/projects", {"name": "bad", "env": env}).status_code == 400
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("select env from projects where id = %s", (project_id,)).fetchone()[0] == {"KEEP": "1"}
        assert conn.execute("select count(*) from projects where name = 'bad'").fetchone()[0] == 0


def test_a_second_start_while_one_is_running_is_409(api, pg_url):
    project_id = new_project(api, {})
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("update projects set machine_state = 'starting', machine_updated_at = now() where id = %s",
                     (project_id,))
    response = api("POST", f"/projects/{project_id}/start")
    assert response.status_code == 409 and response.json_body["Code"] == "start_in_progress"
