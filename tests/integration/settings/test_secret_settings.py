"""Secret settings from Secrets Manager (moto): each <NAME>_ARN resolves to the secret; plain values still win."""
from __future__ import annotations

import secrets

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from chalicelib.errors import ConfigError
from chalicelib.settings import Settings

# Environment name -> how the resolved value shows up on Settings.
SECRET_SETTINGS = {
    "DATABASE_URL": lambda s: s.database_url,
    "SUPABASE_JWT_SECRET": lambda s: s.jwt_secret,
    "FLY_API_TOKEN": lambda s: s.fly_api_token,
    "ENV_DIGEST_SECRET": lambda s: s.env_digest_secret.decode(),
    "ENCRYPTION_MASTER_KEY": lambda s: s.master_keys["v1"].hex(),
}


@pytest.fixture
def secretsmanager(aws):
    parameters.clear_caches()  # Powertools caches values per secret id across tests
    yield boto3.client("secretsmanager")
    parameters.clear_caches()


def _store(client, value: str) -> str:
    return client.create_secret(Name=f"aether/test/{secrets.token_hex(6)}", SecretString=value)["ARN"]


@pytest.mark.parametrize("name", sorted(SECRET_SETTINGS))
def test_secret_arn_resolves_to_the_stored_value(secretsmanager, name):
    value = secrets.token_hex(32)  # 64 hex chars also suits ENCRYPTION_MASTER_KEY
    settings = Settings.from_env({f"{name}_ARN": _store(secretsmanager, value)})
    assert SECRET_SETTINGS[name](settings) == value


def test_plain_value_wins_over_the_arn(secretsmanager):
    arn = _store(secretsmanager, "from-secrets-manager")
    settings = Settings.from_env({"SUPABASE_JWT_SECRET": "from-env", "SUPABASE_JWT_SECRET_ARN": arn})
    assert settings.jwt_secret == "from-env"


def test_only_the_secrets_named_in_the_env_are_read(secretsmanager):
    arn = _store(secretsmanager, "jwt-secret")
    settings = Settings.from_env({"SUPABASE_JWT_SECRET_ARN": arn})
    assert (settings.database_url, settings.fly_api_token, settings.env_digest_secret) == (None, None, None)


def test_unreadable_secret_is_a_config_error_naming_the_setting(secretsmanager):
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:aether/absent-AbCdEf"
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"FLY_API_TOKEN_ARN": missing})
    assert "FLY_API_TOKEN" in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
