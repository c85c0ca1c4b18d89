"""Key validation per provider and the masked hint."""
from __future__ import annotations

import pytest

from chalicelib.keys.errors import InvalidApiKeyError
from chalicelib.keys.providers import PROVIDERS, find_provider
from chalicelib.keys.validation import masked_hint, validate_api_key
from tests.conftest import make_canary_key


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_a_well_formed_key_is_accepted_and_hinted_by_prefix_and_last_four(provider):
    key = make_canary_key(provider.name)
    assert validate_api_key(provider, key) == key
    hint = masked_hint(provider, key)
    assert hint.endswith("…" + key[-4:])
    assert key.startswith(hint.split("…")[0])
    assert len(hint) < 20


def test_openai_hint_prefers_the_longest_recognised_prefix():
    key = "sk-proj-" + "A" * 50
    assert masked_hint(find_provider("openai"), key) == "sk-proj-…AAAA"


@pytest.mark.parametrize(
    ("provider", "key", "words"),
    [
        ("anthropic", "sk-ant-admin01-" + "a" * 60, "admin key"),
        ("anthropic", "sk-proj-" + "a" * 60, "a key for OpenAI (Codex), not for Anthropic (Claude)"),
        ("anthropic", "key-" + "a" * 60, "start with 'sk-ant-'"),
        ("openai", "sk-admin-" + "a" * 60, "admin key"),
        ("openai", "sk-ant-api03-" + "a" * 60, "a key for Anthropic (Claude), not for OpenAI (Codex)"),
        ("gemini", "sk-proj-" + "a" * 60, "a key for OpenAI (Codex), not for Google Gemini"),
        ("gemini", "AIzb" + "a" * 60, "start with 'AIza'"),
    ],
)
def test_a_key_of_the_wrong_kind_is_refused_with_words_that_say_why(provider, key, words):
    with pytest.raises(InvalidApiKeyError) as raised:
        validate_api_key(find_provider(provider), key)
    assert words in raised.value.public_message
    assert key not in raised.value.public_message


def test_find_provider_accepts_only_registered_names():
    assert find_provider("anthropic").env_var == "ANTHROPIC_API_KEY"
    assert find_provider("Anthropic") is None
    assert find_provider(None) is None
    assert find_provider(["anthropic"]) is None
