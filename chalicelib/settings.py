"""Service configuration: the only module that reads os.environ, once, on first use."""
from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from chalicelib.errors import ConfigError

STAGES = ("local", "dev", "prod")
STORAGE_BACKENDS = ("postgres", "dynamodb")


def _parse_master_keys(value: str) -> dict[str, bytes]:
    """``ENCRYPTION_MASTER_KEY``: 64 hex chars (version ``v1``) or ``id:hex,id:hex`` (last is current)."""
    entries = [part.strip() for part in value.split(",") if part.strip()]
    keyring: dict[str, bytes] = {}
    for entry in entries:
        key_id, _, hex_key = entry.rpartition(":")
        try:
            raw = bytes.fromhex(hex_key)
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ConfigError("ENCRYPTION_MASTER_KEY entries must be 64 hex characters")
        keyring[key_id or "v1"] = raw
    return keyring


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a positive integer")
    return int(raw)


def _secret(env: Mapping[str, str], name: str) -> str | None:
    """A secret setting: the plain ``NAME`` (local runs and tests) or, in AWS, the Secrets Manager secret whose
    ARN is in ``NAME_ARN``, so no plaintext sits in the function's configuration (infra/merge.yaml gives each
    function only the ARNs it needs). Read once per execution environment, when settings() is first built."""
    if env.get(name):
        return env[name]
    arn = env.get(f"{name}_ARN")
    if not arn:
        return None
    from aws_lambda_powertools.utilities import parameters

    try:
        return parameters.get_secret(arn)
    except parameters.exceptions.GetParameterError:
        raise ConfigError(f"could not read {name} from {name}_ARN") from None  # the name only, never a value


@dataclass(frozen=True)
class Settings:
    """Everything the service is configured with; tests build it directly."""

    stage: str = "local"
    storage_backend: str = "postgres"
    database_url: str | None = None
    aws_region: str = "us-east-1"
    # Encryption: KMS when kms_key_id is set, else the local keyring (ordered, last is current).
    kms_key_id: str | None = None
    master_keys: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    # Auth: HS256 secret and/or a JWKS URL for ES256/RS256.
    jwt_secret: str | None = field(default=None, repr=False)
    jwks_url: str | None = None
    # DynamoDB backend table names.
    api_keys_table: str = "aether-api-keys"
    log_level: str = "INFO"
    # Where the Connected Accounts page links for "How to use coding agents"; the default is the
    # repository's guide, which the local stage serves (see docs/guides/connected-accounts.md).
    using_agents_guide_url: str = "../docs/guides/using-agents.md"
    # Project VMs on Fly (docs/vm-start.md). The token is sent as FlyV1 (macaroons) or Bearer.
    fly_api_url: str = "https://api.machines.dev"
    fly_api_token: str | None = field(default=None, repr=False)
    fly_app_name: str | None = None
    fly_machine_image: str | None = None
    fly_region: str | None = None
    fly_wait_timeout_s: int = 60
    projects_table: str = "aether-projects"
    # Set in AWS stages: starts run as executions of this state machine; unset, they run in-process.
    start_state_machine_arn: str | None = None
    # HMAC key of the env digest kept in machine metadata; the local stage derives one from the master key.
    env_digest_secret: bytes | None = field(default=None, repr=False)
    # Agent usage rows (DynamoDB backend) and their daily rollups for admin analytics.
    usage_table: str = "aether-agent-usage"
    usage_rollups_table: str = "aether-agent-usage-rollups"
    # Terminal output → detector (chalicelib/usage): the Kinesis stream and the detector's per-session state.
    terminal_stream_name: str = "aether-terminal-chunks"
    detector_state_table: str = "aether-detector-state"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        stage = env.get("AETHER_STAGE", "local")
        if stage not in STAGES:
            raise ConfigError(f"AETHER_STAGE must be one of {', '.join(STAGES)}")
        backend = env.get("STORAGE_BACKEND", "postgres")
        if backend not in STORAGE_BACKENDS:
            raise ConfigError(f"STORAGE_BACKEND must be one of {', '.join(STORAGE_BACKENDS)}")
        master = _secret(env, "ENCRYPTION_MASTER_KEY")
        digest_secret = _secret(env, "ENV_DIGEST_SECRET")
        return cls(
            stage=stage,
            storage_backend=backend,
            database_url=_secret(env, "DATABASE_URL"),
            aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            kms_key_id=env.get("KMS_KEY_ID") or None,
            master_keys=_parse_master_keys(master) if master else {},
            jwt_secret=_secret(env, "SUPABASE_JWT_SECRET"),
            jwks_url=env.get("SUPABASE_JWKS_URL") or None,
            api_keys_table=env.get("API_KEYS_TABLE", cls.api_keys_table),
            log_level=env.get("LOG_LEVEL", cls.log_level),
            using_agents_guide_url=env.get("USING_AGENTS_GUIDE_URL") or cls.using_agents_guide_url,
            fly_api_url=env.get("FLY_API_URL") or cls.fly_api_url,
            fly_api_token=_secret(env, "FLY_API_TOKEN"),
            fly_app_name=env.get("FLY_APP_NAME") or None,
            fly_machine_image=env.get("FLY_MACHINE_IMAGE") or None,
            fly_region=env.get("FLY_REGION") or None,
            fly_wait_timeout_s=_positive_int(env, "FLY_WAIT_TIMEOUT", cls.fly_wait_timeout_s),
            projects_table=env.get("PROJECTS_TABLE", cls.projects_table),
            start_state_machine_arn=env.get("START_STATE_MACHINE_ARN") or None,
            env_digest_secret=digest_secret.encode() if digest_secret else None,
            usage_table=env.get("USAGE_TABLE", cls.usage_table),
            usage_rollups_table=env.get("USAGE_ROLLUPS_TABLE", cls.usage_rollups_table),
            terminal_stream_name=env.get("TERMINAL_STREAM_NAME", cls.terminal_stream_name),
            detector_state_table=env.get("DETECTOR_STATE_TABLE", cls.detector_state_table),
        )


def local_dev_routes_enabled(env: Mapping[str, str] | None = None) -> bool:
    """Whether app.py registers the local-only routes (dev sign-in): only when AETHER_STAGE says "local".

    Read at import, so `chalice package --stage dev|prod` (which imports app.py with that stage's
    environment) leaves the routes out of the API entirely; an unset stage never enables them.
    """
    return (os.environ if env is None else env).get("AETHER_STAGE") == "local"


@functools.cache
def settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_env()
