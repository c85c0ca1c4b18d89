"""`make package`: the packaged template lints clean, its state machine passes asl-validator, and it holds the
deployment's security properties under each way of deploying it (DynamoDB or PostgreSQL, HS256 secret or JWKS)."""
from __future__ import annotations

import copy
import importlib
import json
import pkgutil
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from chalice.app import KinesisEventConfig
from chalice.utils import to_cfn_resource_name

import app as app_module
import chalicelib
from chalicelib.crypto.envelope import PURPOSE
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

ASL_VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"
DATA_SERVICES = {"kms", "dynamodb", "kinesis", "sqs", "secretsmanager", "ssm", "states"}
KMS_USE_ACTIONS = {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"}
# What chalicelib/settings.py resolves from <NAME>_ARN: in AWS only the ARN may appear in a function's env.
SECRET_SETTINGS = {"DATABASE_URL", "SUPABASE_JWT_SECRET", "FLY_API_TOKEN", "ENV_DIGEST_SECRET", "ENCRYPTION_MASTER_KEY"}
NO_VALUE = {"Ref": "AWS::NoValue"}


def _secret_arn(name: str) -> str:
    return f"arn:aws:secretsmanager:us-east-1:123456789012:secret:aether/{name}-AbCdEf"


SCENARIOS = {
    "dynamodb-hs256": {"StorageBackend": "dynamodb", "SupabaseJwtSecretArn": _secret_arn("jwt"),
                       "KeyOperatorArn": "arn:aws:iam::123456789012:role/key-operator"},
    "postgres-jwks": {"StorageBackend": "postgres", "DatabaseUrlSecretArn": _secret_arn("database-url"),
                      "SupabaseJwksUrl": "https://example.supabase.co/auth/v1/.well-known/jwks.json",
                      "StreamShardCount": 2, "FlyRegion": "ams"},
}


# ---- packaging and resolving the template ------------------------------------------------------------------
@pytest.fixture(scope="module")
def package_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package") / "prod"
    result = subprocess.run(["make", "package", "STAGE=prod", f"PACKAGE_DIR={out}"], cwd=ROOT, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out


@pytest.fixture(scope="module")
def template(package_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((package_dir / "sam.yaml").read_text())


def _condition_values(template: dict[str, Any], overrides: dict[str, Any]) -> dict[str, bool]:
    params = {name: overrides.get(name, spec.get("Default")) for name, spec in template["Parameters"].items()}
    conditions = template.get("Conditions", {})

    def evaluate(expr: Any) -> Any:
        if not isinstance(expr, dict):
            return expr
        ((fn, arg),) = expr.items()
        operations = {
            "Ref": lambda: params[arg],
            "Condition": lambda: evaluate(conditions[arg]),
            "Fn::Equals": lambda: str(evaluate(arg[0])) == str(evaluate(arg[1])),
            "Fn::Not": lambda: not evaluate(arg[0]),
            "Fn::And": lambda: all(evaluate(item) for item in arg),
            "Fn::Or": lambda: any(evaluate(item) for item in arg),
        }
        return operations[fn]()

    return {name: evaluate(expr) for name, expr in conditions.items()}


def _choose_branches(node: Any, conditions: dict[str, bool]) -> Any:
    """The template as CloudFormation sees it for one set of condition values: Fn::If chosen, NoValue dropped."""
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, when_true, when_false = node["Fn::If"]
            return _choose_branches(when_true if conditions[name] else when_false, conditions)
        chosen = {key: _choose_branches(value, conditions) for key, value in node.items()}
        return {key: value for key, value in chosen.items() if value != NO_VALUE}
    if isinstance(node, list):
        return [item for item in (_choose_branches(item, conditions) for item in node) if item != NO_VALUE]
    return node


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def deployed(request: pytest.FixtureRequest, template: dict[str, Any]) -> dict[str, Any]:
    """The resources that exist for one scenario's parameters, with SAM Globals merged into each function."""
    conditions = _condition_values(template, SCENARIOS[request.param])
    resolved = _choose_branches(copy.deepcopy(template), conditions)
    global_env = resolved.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    resources = {name: res for name, res in resolved["Resources"].items()
                 if conditions.get(res.get("Condition"), True)}
    for res in resources.values():
        if res["Type"] == "AWS::Serverless::Function":
            env = res["Properties"].setdefault("Environment", {}).setdefault("Variables", {})
            res["Properties"]["Environment"]["Variables"] = {**global_env, **env}
    return resources


def _of_type(resources: dict[str, Any], *types: str) -> dict[str, Any]:
    return {name: res for name, res in resources.items() if res["Type"] in types}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(resources: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(resource name, policy document, statement) for every policy in the template."""
    for name, res in resources.items():
        props = res.get("Properties", {})
        documents = [policy["PolicyDocument"] for policy in props.get("Policies", [])]
        documents += [props[key] for key in ("PolicyDocument", "KeyPolicy") if key in props]
        for document in documents:
            for statement in document["Statement"]:
                yield name, document, statement


def _role_grants(resources: dict[str, Any], role_name: str) -> list[tuple[str, Any]]:
    """(action, resource) pairs a role's own and attached managed policies allow."""
    role = resources[role_name]["Properties"]
    documents = [policy["PolicyDocument"] for policy in role.get("Policies", [])]
    documents += [resources[arn["Ref"]]["Properties"]["PolicyDocument"]
                  for arn in role.get("ManagedPolicyArns", []) if isinstance(arn, dict) and "Ref" in arn]
    return [(action, target) for document in documents for statement in document["Statement"]
            if statement["Effect"] == "Allow"
            for action in _as_list(statement["Action"]) for target in _as_list(statement["Resource"])]


def _role_of(function: dict[str, Any]) -> str:
    return function["Properties"]["Role"]["Fn::GetAtt"][0]


# ---- the tools: cfn-lint and asl-validator -----------------------------------------------------------------
def test_cfn_lint_finds_no_errors(package_dir: Path):
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(package_dir / "sam.yaml")], capture_output=True, text=True,
                            timeout=300)
    # Exit code bits: 2 errors, 4 warnings, 8 informational; anything else is a crash.
    assert result.returncode & ~(4 | 8) == 0, result.stdout + result.stderr


def test_state_machine_definitions_pass_asl_validator(template: dict[str, Any], package_dir: Path,
                                                      tmp_path: Path):
    assert ASL_VALIDATOR.exists(), "run `make node-tools` (npm ci) first"
    functions = _of_type(template["Resources"], "AWS::Serverless::Function")
    machines = _of_type(template["Resources"], "AWS::Serverless::StateMachine")
    assert machines
    for name, machine in machines.items():
        props = machine["Properties"]
        text = (package_dir / props["DefinitionUri"]).read_text()
        arns = {}
        for key, value in props["DefinitionSubstitutions"].items():
            function, attribute = value["Fn::GetAtt"]
            assert function in functions and attribute == "Arn", key
            arns[key] = f"arn:aws:lambda:us-east-1:123456789012:function:{function}"
        filled = re.sub(r"\$\{(\w+)\}", lambda match: arns[match[1]], text)
        assert "${" not in filled
        path = tmp_path / f"{name}.json"
        path.write_text(filled)
        result = subprocess.run([str(ASL_VALIDATOR), "--json-path", str(path)], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr


# ---- functions and their roles -----------------------------------------------------------------------------
def test_every_function_runs_as_its_own_role_from_the_merge_template(template: dict[str, Any]):
    resources = template["Resources"]
    functions = _of_type(resources, "AWS::Serverless::Function")
    roles = [_role_of(function) for function in functions.values()]
    assert all(resources[role]["Type"] == "AWS::IAM::Role" for role in roles)
    assert len(set(roles)) == len(roles)
    placeholder = json.loads((ROOT / ".chalice" / "config.json").read_text())["iam_role_arn"]
    assert placeholder not in json.dumps(template)


def test_every_app_handler_is_packaged(template: dict[str, Any]):
    handlers = {to_cfn_resource_name(name) for name in app_module.app.handler_map if name not in
                {route.view_name for routes in app_module.app.routes.values() for route in routes.values()}}
    packaged = set(_of_type(template["Resources"], "AWS::Serverless::Function"))
    assert handlers | {"APIHandler"} == packaged


# ---- API key encryption ------------------------------------------------------------------------------------
def test_api_key_kek_rotates_and_only_service_roles_use_it_for_api_keys(deployed: dict[str, Any]):
    functions = _of_type(deployed, "AWS::Serverless::Function")
    key_ref = functions["APIHandler"]["Properties"]["Environment"]["Variables"]["KMS_KEY_ID"]["Fn::GetAtt"][0]
    key = deployed[key_ref]["Properties"]
    assert key["EnableKeyRotation"] is True
    function_roles = {_role_of(function) for function in functions.values()}
    users: dict[str, set[str]] = {}
    for statement in key["KeyPolicy"]["Statement"]:
        uses = set(_as_list(statement["Action"])) & KMS_USE_ACTIONS
        assert not any("*" in action for action in _as_list(statement["Action"]))
        if not uses:
            continue
        assert statement["Condition"] == {"StringEquals": {"kms:EncryptionContext:purpose": PURPOSE}}
        principal = statement["Principal"]["AWS"]
        if principal == {"Ref": "KeyOperatorArn"}:
            continue
        assert principal["Fn::GetAtt"][0] in function_roles
        users.setdefault(principal["Fn::GetAtt"][0], set()).update(uses)
    # The two code paths that touch key material: the API seals, the launch step opens.
    assert "kms:GenerateDataKey" in users[_role_of(functions["APIHandler"])]
    assert "kms:Decrypt" in users[_role_of(functions["StartLaunchMachine"])]


# ---- Kinesis consumer --------------------------------------------------------------------------------------
def _kinesis_consumers() -> list[str]:
    return [to_cfn_resource_name(source.name) for source in app_module.app.event_sources
            if isinstance(source, KinesisEventConfig)]


@pytest.mark.parametrize("consumer", _kinesis_consumers())
def test_kinesis_consumer_never_lets_a_poison_record_block_its_shard(deployed: dict[str, Any], consumer: str):
    function = deployed[consumer]
    (event,) = [e["Properties"] for e in function["Properties"]["Events"].values() if e["Type"] == "Kinesis"]
    assert "ReportBatchItemFailures" in event["FunctionResponseTypes"]
    assert event["BisectBatchOnFunctionError"] is True
    assert 0 <= event["MaximumRetryAttempts"] <= 10  # -1 (the default) retries until the record expires
    destination = event["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert deployed[destination]["Type"] == "AWS::SQS::Queue"
    assert ("sqs:SendMessage", {"Fn::GetAtt": [destination, "Arn"]}) in _role_grants(deployed, _role_of(function))


@pytest.mark.parametrize("consumer", _kinesis_consumers())
def test_kinesis_consumer_reads_a_kms_encrypted_stream_created_first(deployed: dict[str, Any], consumer: str):
    function = deployed[consumer]
    (event,) = [e["Properties"] for e in function["Properties"]["Events"].values() if e["Type"] == "Kinesis"]
    stream_name = event["Stream"]["Fn::Sub"].rsplit("/", 1)[1]
    (stream,) = [name for name, res in _of_type(deployed, "AWS::Kinesis::Stream").items()
                 if res["Properties"]["Name"] == stream_name]
    assert deployed[stream]["Properties"]["StreamEncryption"]["EncryptionType"] == "KMS"
    assert stream in _as_list(function.get("DependsOn", []))
    granted = {action for action, target in _role_grants(deployed, _role_of(function))
               if target == {"Fn::GetAtt": [stream, "Arn"]}}
    assert {"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListShards"} <= granted


# ---- state machine, tables, IAM, secrets -------------------------------------------------------------------
def test_state_machines_log_without_execution_data(deployed: dict[str, Any]):
    machines = _of_type(deployed, "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
    assert machines
    for machine in machines.values():
        logging = machine["Properties"].get("Logging") or machine["Properties"]["LoggingConfiguration"]
        assert logging["IncludeExecutionData"] is False
        assert logging["Destinations"]


def _adapter_table_schemas() -> dict[str, dict[str, Any]]:
    """Every *TABLE_SCHEMA a DynamoDB adapter in chalicelib defines, by module.name."""
    schemas = {}
    for module_info in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        if module_info.name.endswith(".adapters.dynamodb"):
            module = importlib.import_module(module_info.name)
            schemas.update({f"{module_info.name}.{name}": value for name, value in vars(module).items()
                            if name.endswith("TABLE_SCHEMA")})
    return schemas


def _shape(table: dict[str, Any]) -> tuple:
    def as_set(items: list[dict[str, Any]]) -> frozenset:
        return frozenset(json.dumps(item, sort_keys=True) for item in items)

    return (json.dumps(table["KeySchema"]), as_set(table["AttributeDefinitions"]),
            as_set(table.get("GlobalSecondaryIndexes", [])))


def test_dynamodb_tables_match_the_adapters_and_are_on_demand_recoverable_and_encrypted(template: dict[str, Any]):
    conditions = _condition_values(template, SCENARIOS["dynamodb-hs256"])
    tables = _of_type(_choose_branches(template, conditions)["Resources"], "AWS::DynamoDB::Table")
    for table in tables.values():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert table["DeletionPolicy"] == "Retain"
    schemas = _adapter_table_schemas()
    assert schemas
    assert sorted(_shape(schema) for schema in schemas.values()) == sorted(
        _shape(table["Properties"]) for table in tables.values()), "one table per adapter TABLE_SCHEMA"


def test_no_wildcard_actions_on_data_services(deployed: dict[str, Any]):
    for name, document, statement in _statements(deployed):
        assert document["Statement"], f"{name} has an empty policy"
        for action in _as_list(statement["Action"]):
            service = action.split(":")[0]
            assert action != "*" and not (service in DATA_SERVICES and "*" in action), (name, action)
            # In a key policy "*" means "this key"; in an IAM policy a data action must name its resource.
            if service in DATA_SERVICES and "KeyPolicy" not in deployed[name]["Properties"]:
                assert "*" not in _as_list(statement["Resource"]), (name, action)


def test_secrets_reach_functions_only_as_arns_their_role_may_read(deployed: dict[str, Any]):
    for name, function in _of_type(deployed, "AWS::Serverless::Function").items():
        env = function["Properties"]["Environment"]["Variables"]
        assert not SECRET_SETTINGS & set(env), name
        readable = {json.dumps(target, sort_keys=True)
                    for action, target in _role_grants(deployed, _role_of(function))
                    if action == "secretsmanager:GetSecretValue"}
        for setting in SECRET_SETTINGS & {key.removesuffix("_ARN") for key in env}:
            assert json.dumps(env[f"{setting}_ARN"], sort_keys=True) in readable, (name, setting)
