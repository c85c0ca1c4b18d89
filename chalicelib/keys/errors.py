"""Errors raised by the key vault."""
from chalicelib.errors import InvalidInputError, NotFoundError


class UnknownProviderError(NotFoundError):
    """Raised when a route names a provider that is not in the registry."""

    code = "unknown_provider"


class InvalidProviderError(InvalidInputError):
    """Raised when a request body names a provider that is not in the registry."""

    code = "unknown_provider"


class InvalidApiKeyError(InvalidInputError):
    """Raised when a submitted key cannot be a valid key for its provider; the message never echoes it."""

    code = "invalid_api_key"
