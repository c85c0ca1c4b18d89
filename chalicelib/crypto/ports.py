"""The key-encryption-key port: wraps and unwraps per-secret data keys."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class WrappedKey:
    """A data key encrypted under a KEK, with the KEK's id/version needed to open it."""

    blob: bytes
    kek_id: str


class KeyWrapper(Protocol):
    """Makes and opens data keys; ``context`` is bound to every wrap (KMS encryption context)."""

    def current_kek_id(self) -> str: ...

    def generate_data_key(self, context: Mapping[str, str]) -> tuple[bytes, WrappedKey]:
        """Return a fresh 256-bit data key in plaintext and wrapped under the current KEK."""
        ...

    def unwrap(self, wrapped: WrappedKey, context: Mapping[str, str]) -> bytes: ...

    def rewrap(self, wrapped: WrappedKey, context: Mapping[str, str]) -> WrappedKey:
        """Re-encrypt a wrapped data key under the current KEK."""
        ...
