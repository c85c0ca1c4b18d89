"""The env merge and its keyed digest."""
from __future__ import annotations

import secrets

from chalicelib.machines.env import launch_digest, merge_env

ENV_VARS = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY", "gemini": "GEMINI_API_KEY"}


def test_keys_go_under_their_standard_names_next_to_project_vars(canary_key):
    keys = {"anthropic": canary_key("anthropic"), "gemini": canary_key("gemini")}
    merged = merge_env(keys, ENV_VARS, {"APP_MODE": "dev"})
    assert merged.values == {"ANTHROPIC_API_KEY": keys["anthropic"], "GEMINI_API_KEY": keys["gemini"],
                             "APP_MODE": "dev"}
    assert merged.injected_providers == ("anthropic", "gemini")


def test_project_var_wins_over_a_user_key_and_that_key_is_not_injected(canary_key):
    keys = {"anthropic": canary_key("anthropic"), "openai": canary_key("openai")}
    merged = merge_env(keys, ENV_VARS, {"OPENAI_API_KEY": "project-proxy-key"})
    assert merged.values["OPENAI_API_KEY"] == "project-proxy-key"
    assert merged.injected_providers == ("anthropic",)


def test_keys_of_unregistered_providers_are_left_out(canary_key):
    merged = merge_env({"retired": "x" * 40, "anthropic": canary_key("anthropic")}, ENV_VARS, {})
    assert set(merged.values) == {"ANTHROPIC_API_KEY"}


def test_repr_of_the_merged_env_shows_no_key(canary_key):
    key = canary_key("anthropic")
    assert key not in repr(merge_env({"anthropic": key}, ENV_VARS, {}))


def test_digest_changes_with_any_value_name_or_image_and_depends_on_the_secret():
    secret = secrets.token_bytes(32)
    base = launch_digest(secret, {"A": "1", "B": "2"}, "img:1")
    assert launch_digest(secret, {"B": "2", "A": "1"}, "img:1") == base  # order does not matter
    variants = [
        launch_digest(secret, {"A": "1", "B": "3"}, "img:1"),
        launch_digest(secret, {"A": "1"}, "img:1"),
        launch_digest(secret, {"A": "1", "B": "2", "C": ""}, "img:1"),
        launch_digest(secret, {"A": "1", "B": "2"}, "img:2"),
        launch_digest(secrets.token_bytes(32), {"A": "1", "B": "2"}, "img:1"),
    ]
    assert base not in variants and len(set(variants)) == len(variants)


def test_digest_does_not_contain_the_values(canary_key):
    key = canary_key("openai")
    assert key not in launch_digest(b"s" * 32, {"OPENAI_API_KEY": key}, "img")
