"""Checks a submitted key against its provider and makes its masked hint; messages never echo the key."""
from __future__ import annotations

import re

from chalicelib.keys.errors import InvalidApiKeyError
from chalicelib.keys.providers import PROVIDERS, Provider

MAX_KEY_LENGTH = 512
_KEY_CHARS = re.compile(r"[A-Za-z0-9_\-]+")


def validate_api_key(provider: Provider, api_key: object) -> str:
    """Return the key if it can belong to ``provider``; raises InvalidApiKeyError otherwise."""
    if not isinstance(api_key, str) or not api_key:
        raise InvalidApiKeyError("Enter an API key: the api_key field is required and must be text")
    if len(api_key) > MAX_KEY_LENGTH:
        raise InvalidApiKeyError(f"This key is longer than {MAX_KEY_LENGTH} characters, so it cannot be an API key")
    if not _KEY_CHARS.fullmatch(api_key):
        raise InvalidApiKeyError(
            "API keys contain only letters, digits, '-' and '_': check for spaces or line breaks copied with it"
        )
    if len(api_key) < provider.min_length:
        raise InvalidApiKeyError(f"This key is too short to be a key for {provider.display_name}")
    if any(api_key.startswith(prefix) for prefix in provider.refused_prefixes):
        owner = _owner_of(api_key, provider)
        raise InvalidApiKeyError(
            f"This looks like {owner}, not a key for {provider.display_name}"
        )
    if not any(api_key.startswith(prefix) for prefix in provider.key_prefixes):
        expected = " or ".join(f"'{prefix}'" for prefix in provider.key_prefixes)
        raise InvalidApiKeyError(f"{provider.display_name} API keys start with {expected}")
    return api_key


def _owner_of(api_key: str, provider: Provider) -> str:
    for other in PROVIDERS:
        if other is not provider and any(api_key.startswith(p) for p in other.key_prefixes):
            if not any(api_key.startswith(p) for p in other.refused_prefixes):
                return f"a key for {other.display_name}"
    return "an admin key (only ordinary API keys can be used)"


def masked_hint(provider: Provider, api_key: str) -> str:
    """The recognised prefix and the last four characters, e.g. ``sk-ant-…AbCd``."""
    prefix = next(p for p in provider.key_prefixes if api_key.startswith(p))
    return f"{prefix}…{api_key[-4:]}"
