"""The key vault: write-only storage of provider keys, opened server-side only for a VM launch."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from chalicelib.crypto import EncryptionContext, Envelope
from chalicelib.keys.errors import InvalidProviderError, UnknownProviderError
from chalicelib.keys.models import KeySummary, StoredKey
from chalicelib.keys.ports import KeyRepository
from chalicelib.keys.providers import PROVIDERS, Provider, find_provider
from chalicelib.keys.validation import masked_hint, validate_api_key
from chalicelib.observability import count


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class KeyVault:
    repository: KeyRepository
    envelope: Envelope
    clock: Callable[[], datetime] = utc_now

    def put(self, user_id: str, provider_name: object, api_key: object) -> KeySummary:
        """Seal and store (or replace) a user's key; raises InvalidInputError before storing anything."""
        provider = find_provider(provider_name)
        if provider is None:
            raise InvalidProviderError(_unknown_provider_message(provider_name))
        key = validate_api_key(provider, api_key)
        now = self.clock()
        sealed = self.envelope.seal(key, EncryptionContext(user_id=user_id, provider=provider.name))
        record = StoredKey(
            user_id=user_id,
            provider=provider.name,
            sealed=sealed,
            hint=masked_hint(provider, key),
            added_at=now,
            updated_at=now,
        )
        stored = self.repository.upsert(record)
        count("ApiKeySaved")
        return KeySummary.of(stored)

    def list(self, user_id: str) -> list[KeySummary]:
        """Every registered provider, connected or not, in registry order."""
        stored = {record.provider: record for record in self.repository.list_for_user(user_id)}
        return [
            KeySummary.of(stored[p.name]) if p.name in stored else KeySummary(provider=p.name, connected=False)
            for p in PROVIDERS
        ]

    def delete(self, user_id: str, provider_name: str) -> None:
        """Disconnect a provider; deleting a provider that is not connected is not an error."""
        provider = _route_provider(provider_name)
        if self.repository.delete(user_id, provider.name):
            count("ApiKeyDisconnected")

    def open_all(self, user_id: str) -> dict[str, str]:
        """Decrypt every connected key (provider name → plaintext). Only the VM-launch task may call this."""
        return {
            record.provider: self.envelope.open(
                record.sealed, EncryptionContext(user_id=user_id, provider=record.provider)
            )
            for record in self.repository.list_for_user(user_id)
            if find_provider(record.provider) is not None
        }

    def mark_used(self, user_id: str, provider_names: Iterable[str]) -> None:
        self.repository.mark_used(user_id, list(provider_names), self.clock())


def _route_provider(provider_name: str) -> Provider:
    provider = find_provider(provider_name)
    if provider is None:
        raise UnknownProviderError(_unknown_provider_message(provider_name))
    return provider


def _unknown_provider_message(provider_name: object) -> str:
    known = ", ".join(p.name for p in PROVIDERS)
    return f"unknown provider; supported providers are: {known}"
