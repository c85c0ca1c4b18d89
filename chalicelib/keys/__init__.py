"""The API key vault: providers registry, validation, sealed storage and rotation."""
from chalicelib.keys.models import KeySummary, RotationReport, StoredKey
from chalicelib.keys.ports import KeyRepository
from chalicelib.keys.providers import PROVIDERS, Provider, find_provider
from chalicelib.keys.rotation import rewrap_all
from chalicelib.keys.vault import KeyVault

__all__ = [
    "PROVIDERS",
    "KeyRepository",
    "KeySummary",
    "KeyVault",
    "Provider",
    "RotationReport",
    "StoredKey",
    "find_provider",
    "rewrap_all",
]
