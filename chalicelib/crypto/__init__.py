"""Envelope encryption: AES-256-GCM data keys wrapped by a KEK (KMS or a local keyring)."""
from chalicelib.crypto.envelope import EncryptionContext, Envelope, SealedSecret
from chalicelib.crypto.errors import CiphertextIntegrityError, KeyWrapperUnavailableError
from chalicelib.crypto.ports import KeyWrapper, WrappedKey

__all__ = [
    "CiphertextIntegrityError",
    "EncryptionContext",
    "Envelope",
    "KeyWrapper",
    "KeyWrapperUnavailableError",
    "SealedSecret",
    "WrappedKey",
]
