"""Local keyring KEK: a per-user key derived from a versioned master key with HKDF salted by the user id."""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from chalicelib.crypto.errors import CiphertextIntegrityError
from chalicelib.crypto.ports import WrappedKey
from chalicelib.errors import ConfigError

_PREFIX = "local:"
_NONCE_BYTES = 12


def _aad(context: Mapping[str, str]) -> bytes:
    return json.dumps(dict(context), sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class LocalKeyring:
    """KEK versions ``{id: 32-byte master key}`` in insertion order; the last one is current."""

    master_keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if not self.master_keys:
            raise ConfigError("the local keyring needs ENCRYPTION_MASTER_KEY")

    def current_kek_id(self) -> str:
        return _PREFIX + list(self.master_keys)[-1]

    def _user_kek(self, kek_id: str, context: Mapping[str, str]) -> AESGCM:
        master = self.master_keys.get(kek_id.removeprefix(_PREFIX)) if kek_id.startswith(_PREFIX) else None
        if master is None:
            raise CiphertextIntegrityError("stored secret names an unknown key version")
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=context["user_id"].encode(), info=b"aether-api-key-kek"
        ).derive(master)
        return AESGCM(derived)

    def generate_data_key(self, context: Mapping[str, str]) -> tuple[bytes, WrappedKey]:
        data_key = AESGCM.generate_key(bit_length=256)
        return data_key, self._wrap(data_key, context)

    def _wrap(self, data_key: bytes, context: Mapping[str, str]) -> WrappedKey:
        kek_id = self.current_kek_id()
        nonce = os.urandom(_NONCE_BYTES)
        blob = nonce + self._user_kek(kek_id, context).encrypt(nonce, data_key, _aad(context))
        return WrappedKey(blob=blob, kek_id=kek_id)

    def unwrap(self, wrapped: WrappedKey, context: Mapping[str, str]) -> bytes:
        nonce, sealed = wrapped.blob[:_NONCE_BYTES], wrapped.blob[_NONCE_BYTES:]
        try:
            return self._user_kek(wrapped.kek_id, context).decrypt(nonce, sealed, _aad(context))
        except (InvalidTag, ValueError):
            raise CiphertextIntegrityError("stored secret is damaged") from None

    def rewrap(self, wrapped: WrappedKey, context: Mapping[str, str]) -> WrappedKey:
        return self._wrap(self.unwrap(wrapped, context), context)
