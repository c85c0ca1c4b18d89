"""Seal and open secrets with a fresh AES-256-GCM data key each, the context bound as associated data."""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chalicelib.crypto.errors import CiphertextIntegrityError
from chalicelib.crypto.ports import KeyWrapper, WrappedKey

NONCE_BYTES = 12
PURPOSE = "aether-api-key"


@dataclass(frozen=True)
class EncryptionContext:
    """Who and what a secret belongs to; a ciphertext opens only under the same context."""

    user_id: str
    provider: str
    purpose: str = PURPOSE

    def as_dict(self) -> dict[str, str]:
        return {"purpose": self.purpose, "user_id": self.user_id, "provider": self.provider}

    def aad(self) -> bytes:
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class SealedSecret:
    """What is stored: never the plaintext, never the plaintext data key."""

    ciphertext: bytes
    nonce: bytes
    wrapped_key: WrappedKey


@dataclass(frozen=True)
class Envelope:
    wrapper: KeyWrapper

    def seal(self, plaintext: str, context: EncryptionContext) -> SealedSecret:
        data_key, wrapped = self.wrapper.generate_data_key(context.as_dict())
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(data_key).encrypt(nonce, plaintext.encode(), context.aad())
        return SealedSecret(ciphertext=ciphertext, nonce=nonce, wrapped_key=wrapped)

    def open(self, sealed: SealedSecret, context: EncryptionContext) -> str:
        """Return the plaintext; raises CiphertextIntegrityError on any tampering or wrong context."""
        data_key = self.wrapper.unwrap(sealed.wrapped_key, context.as_dict())
        if len(sealed.nonce) != NONCE_BYTES:
            raise CiphertextIntegrityError("stored secret is damaged")
        try:
            plaintext = AESGCM(data_key).decrypt(sealed.nonce, sealed.ciphertext, context.aad())
        except InvalidTag:
            raise CiphertextIntegrityError("stored secret is damaged") from None
        return plaintext.decode()

    def rewrap(self, sealed: SealedSecret, context: EncryptionContext) -> SealedSecret:
        """Move the data key under the current KEK without touching the secret itself."""
        wrapped = self.wrapper.rewrap(sealed.wrapped_key, context.as_dict())
        return SealedSecret(ciphertext=sealed.ciphertext, nonce=sealed.nonce, wrapped_key=wrapped)

    def needs_rewrap(self, sealed: SealedSecret) -> bool:
        return sealed.wrapped_key.kek_id != self.wrapper.current_kek_id()
