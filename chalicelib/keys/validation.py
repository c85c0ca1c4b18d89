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
    owner = _other_owner(api_key, provider)
    if owner is not None:
        raise InvalidApiKeyError(f"This looks like a key for {owner.display_name}, not for {provider.display_name}")
    if _starts_with(api_key, provider.refused_prefixes):
        raise InvalidApiKeyError(
            f"This looks like an admin key: connect an ordinary {provider.display_name} API key instead"
        )
    if not _starts_with(api_key, provider.key_prefixes):
        expected = " or ".join(f"'{prefix}'" for prefix in provider.key_prefixes)
        raise InvalidApiKeyError(f"{provider.display_name} API keys start with {expected}")
    return api_key


def _starts_with(api_key: str, prefixes: tuple[str, ...]) -> bool:
    return any(api_key.startswith(prefix) for prefix in prefixes)


def _other_owner(api_key: str, provider: Provider) -> Provider | None:
    """Another provider whose ordinary keys look like this one, if the key is not ``provider``'s own."""
    if _starts_with(api_key, provider.key_prefixes) and not _starts_with(api_key, provider.refused_prefixes):
        return None
    return next(
        (other for other in PROVIDERS
         if other is not provider and _starts_with(api_key, other.key_prefixes)
         and not _starts_with(api_key, other.refused_prefixes)),
        None,
    )


def masked_hint(provider: Provider, api_key: str) -> str:
    """The recognised prefix and the last four characters, e.g. ``sk-ant-…AbCd``."""
    prefix = next(p for p in provider.key_prefixes if api_key.startswith(p))
    return f"{prefix}…{api_key[-4:]}"
