"""The provider registry: one row of data per provider; add a provider here and nowhere else."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    name: str
    display_name: str
    env_var: str
    # A key must start with one of these; the first match is shown in the masked hint.
    key_prefixes: tuple[str, ...]
    # Prefixes that look right but belong to a key we must not store (admin keys, other providers).
    refused_prefixes: tuple[str, ...]
    min_length: int
    console_url: str


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        name="anthropic",
        display_name="Anthropic (Claude)",
        env_var="ANTHROPIC_API_KEY",
        key_prefixes=("sk-ant-",),
        refused_prefixes=("sk-ant-admin",),
        min_length=40,
        console_url="https://console.anthropic.com/settings/keys",
    ),
    Provider(
        name="openai",
        display_name="OpenAI (Codex)",
        env_var="OPENAI_API_KEY",
        key_prefixes=("sk-proj-", "sk-svcacct-", "sk-"),
        refused_prefixes=("sk-ant-", "sk-admin-"),
        min_length=40,
        console_url="https://platform.openai.com/api-keys",
    ),
    Provider(
        name="gemini",
        display_name="Google Gemini",
        env_var="GEMINI_API_KEY",
        key_prefixes=("AIza",),
        refused_prefixes=(),
        min_length=39,
        console_url="https://aistudio.google.com/apikey",
    ),
)

_BY_NAME = {provider.name: provider for provider in PROVIDERS}


def find_provider(name: object) -> Provider | None:
    return _BY_NAME.get(name) if isinstance(name, str) else None
