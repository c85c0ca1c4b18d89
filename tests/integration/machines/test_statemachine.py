"""infra/statemachine.asl.json: valid ASL, same steps as the local runner, and executed by moto with the real
Chalice task handlers against the fake Fly (the deployed path: POST .../start → StartExecution → tasks)."""
from __future__ import annotations

import json
import re
import subprocess
import time
import traceback
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

import app as app_module
from chalicelib.machines import STEP_NAMES
from tests.conftest import ROOT, reset_service_caches
from tests.functional.test_projects_api import IMAGE, Api, connect, new_project

ASL_PATH = ROOT / "infra" / "statemachine.asl.json"
ASL_VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"
ACCOUNT = "123456789012"
# The Chalice function behind each ${...} of the definition (CloudFormation fills these in at deploy time).
FUNCTIONS = {
    "LoadProjectFunctionArn": "start_load_project",
    "LaunchMachineFunctionArn": "start_launch_machine",
    "WaitForMachineFunctionArn": "start_wait_for_machine",
    "RecordStartedFunctionArn": "start_record_started",
    "RecordFailureFunctionArn": "start_record_failure",
}


def definition() -> str:
    def arn(match: re.Match) -> str:
        return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{FUNCTIONS[match[1]]}"

    return re.sub(r"\$\{(\w+)\}", arn, ASL_PATH.read_text())


def test_the_definition_passes_asl_validator(tmp_path: Path):
    assert ASL_VALIDATOR.exists(), "run `make node-tools` (npm ci) first"
    filled = tmp_path / "statemachine.json"
    filled.write_text(definition())
    result = subprocess.run([str(ASL_VALIDATOR), "--json-path", str(filled)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_substitution_names_a_chalice_lambda_function():
    names = set(re.findall(r"\$\{(\w+)\}", ASL_PATH.read_text()))
    assert names == set(FUNCTIONS)
    assert set(FUNCTIONS.values()) <= set(app_module.app.handler_map)


def test_the_local_runner_runs_the_task_states_in_the_same_order():
    states = json.loads(ASL_PATH.read_text())["States"]
    name, order = json.loads(ASL_PATH.read_text())["StartAt"], []
    while name:
        order.append(FUNCTIONS[states[name]["Parameters"]["FunctionName"][2:-1]])
        name = states[name].get("Next")
    assert tuple(f.removeprefix("start_") for f in order) == STEP_NAMES


def invoke_chalice_handler(self, function_name, qualifier, body, headers, response_headers):
    """moto's Lambda without Docker echoes payloads: run the real handler and answer as Lambda would."""
    handler = app_module.app.handler_map[function_name.rsplit(":", 1)[-1]]
    try:
        result = handler(json.loads(body), None)
    except Exception as exc:  # noqa: BLE001 - mirrors the Lambda runtime's error payload
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__,
                           "stackTrace": traceback.format_tb(exc.__traceback__)}).encode()
    return json.dumps(result).encode()


@pytest.fixture
def deployed(local_env, fake_fly, monkeypatch):
    """The dev-stage path under moto: a state machine executing the real task handlers."""
    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke_chalice_handler)
    # Skip the ASL retry intervals. Replace the module's `time` name, not time.sleep itself: that would also
    # turn this test's own polling into a busy loop that starves the execution thread.
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=lambda seconds: None))
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = sfn.create_state_machine(name="aether-start-project", definition=definition(),
                                       roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn")["stateMachineArn"]
        for name, value in {"FLY_API_URL": fake_fly.url, "FLY_API_TOKEN": fake_fly.token,
                            "FLY_APP_NAME": fake_fly.app_name, "FLY_MACHINE_IMAGE": IMAGE,
                            "FLY_WAIT_TIMEOUT": "1", "START_STATE_MACHINE_ARN": arn}.items():
            monkeypatch.setenv(name, value)
        reset_service_caches()
        with Client(app_module.app, stage_name="local") as client:
            yield client, sfn, arn


def finished(sfn, arn: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        [execution] = sfn.list_executions(stateMachineArn=arn)["executions"] or [None]
        if execution and execution["status"] != "RUNNING":
            return sfn.describe_execution(executionArn=execution["executionArn"])
        time.sleep(0.05)
    raise AssertionError("the execution did not finish")


def everything_recorded(sfn, execution: dict) -> str:
    history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)
    return json.dumps(execution, default=str) + json.dumps(history, default=str)


def start_through_the_api(deployed, token_for, user_id, canary_key, fault=None, fake_fly=None):
    client, sfn, arn = deployed
    api = Api(client, token_for(user_id))
    keys = [canary_key("anthropic"), canary_key("gemini")]
    connect(api, "anthropic", keys[0])
    connect(api, "gemini", keys[1])
    project_id = new_project(api, {"APP_MODE": "dev"})
    if fault:
        fault(fake_fly)
    accepted = api("POST", f"/projects/{project_id}/start")
    assert accepted.status_code == 202 and accepted.json_body["state"] == "starting"
    execution = finished(sfn, arn)
    status = api("GET", f"/projects/{project_id}/machine").json_body
    return api, keys, project_id, execution, status


@pytest.mark.slow
def test_an_execution_starts_the_machine_and_no_key_reaches_the_history(
        deployed, token_for, user_id, canary_key, fake_fly, captured_logs):
    api, keys, project_id, execution, status = start_through_the_api(deployed, token_for, user_id, canary_key)
    assert execution["status"] == "SUCCEEDED", execution
    [machine] = fake_fly.machines_for(project_id)
    assert machine.config["env"] == {"ANTHROPIC_API_KEY": keys[0], "GEMINI_API_KEY": keys[1], "APP_MODE": "dev"}
    assert status["state"] == "started" and status["machine_id"] == machine.id
    assert json.loads(execution["output"])["machine_id"] == machine.id
    evidence = everything_recorded(deployed[1], execution) + captured_logs() + "\n".join(api.bodies)
    assert all(key not in evidence for key in keys)


@pytest.mark.slow
def test_transient_fly_errors_are_retried_by_the_state_machine(
        deployed, token_for, user_id, canary_key, fake_fly):
    # More 503s than one task's own retries absorb: the LaunchMachine state's Retry takes over.
    api, keys, project_id, execution, status = start_through_the_api(
        deployed, token_for, user_id, canary_key, fault=lambda fly: fly.faults.fail("list", 503, 6), fake_fly=fake_fly)
    assert execution["status"] == "SUCCEEDED"
    history = deployed[1].get_execution_history(executionArn=execution["executionArn"])["events"]
    failed = [e["taskFailedEventDetails"]["error"] for e in history if e["type"] == "TaskFailed"]
    assert failed == ["FlyUnavailableError"]
    assert status["state"] == "started" and len(fake_fly.machines_for(project_id)) == 1


@pytest.mark.slow
@pytest.mark.parametrize(("fault", "code"), [
    (lambda fly: fly.faults.fail("list", 503, 100), "fly_unavailable"),
    (lambda fly: fly.faults.fail("create", 422, 1, body={"error": "bad image"}), "fly_rejected"),
    (lambda fly: fly.faults.fail("create", 503, 1, body={"status": "insufficient_capacity"}), "fly_capacity"),
], ids=["fly down", "rejected", "no capacity"])
def test_a_failed_start_ends_in_the_fail_state_with_its_code_and_no_key_in_the_history(
        deployed, token_for, user_id, canary_key, fake_fly, captured_logs, fault, code):
    api, keys, project_id, execution, status = start_through_the_api(
        deployed, token_for, user_id, canary_key, fault=fault, fake_fly=fake_fly)
    assert execution["status"] == "FAILED"
    assert execution["error"] == code and execution["cause"]
    assert status["state"] == "failed" and status["error"] == code
    assert len(fake_fly.machines_for(project_id)) <= 1 and fake_fly.active_leases() == []
    evidence = everything_recorded(deployed[1], execution) + captured_logs() + "\n".join(api.bodies)
    assert all(key not in evidence for key in keys)
