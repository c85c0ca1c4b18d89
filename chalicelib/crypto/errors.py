"""Errors raised while sealing or opening secrets."""
from chalicelib.errors import IntegrityError, UpstreamError


class CiphertextIntegrityError(IntegrityError):
    """Raised when a ciphertext, nonce, wrapped key or its context fails authentication."""

    code = "ciphertext_integrity"


class KeyWrapperUnavailableError(UpstreamError):
    """Raised when the KEK service (KMS) cannot be reached or refuses the call."""

    code = "kms_unavailable"
