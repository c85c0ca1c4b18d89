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
        raise InvalidApiKeyError("api_key is required and must be a string")
    if len(api_key) > MAX_KEY_LENGTH:
        raise InvalidApiKeyError(f"api_key is longer than {MAX_KEY_LENGTH} characters")
    if not _KEY_CHARS.fullmatch(api_key):
        raise InvalidApiKeyError(
            "api_key may only contain letters, digits, '-' and '_' (no spaces, line breaks or other characters)"
        )
    if len(api_key) < provider.min_length:
        raise InvalidApiKeyError(f"api_key is too short to be a {provider.display_name} key")
    if any(api_key.startswith(prefix) for prefix in provider.refused_prefixes):
        owner = _owner_of(api_key, provider)
        raise InvalidApiKeyError(
            f"this looks like {owner}, not a {provider.display_name} API key"
        )
    if not any(api_key.startswith(prefix) for prefix in provider.key_prefixes):
        expected = " or ".join(f"'{prefix}'" for prefix in provider.key_prefixes)
        raise InvalidApiKeyError(f"{provider.display_name} API keys start with {expected}")
    return api_key


def _owner_of(api_key: str, provider: Provider) -> str:
    for other in PROVIDERS:
        if other is not provider and any(api_key.startswith(p) for p in other.key_prefixes):
            if not any(api_key.startswith(p) for p in other.refused_prefixes):
                return f"a {other.display_name} key"
    return "an admin key"


def masked_hint(provider: Provider, api_key: str) -> str:
    """The recognised prefix and the last four characters, e.g. ``sk-ant-…AbCd``."""
    prefix = next(p for p in provider.key_prefixes if api_key.startswith(p))
    return f"{prefix}…{api_key[-4:]}"
