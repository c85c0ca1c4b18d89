"""Errors raised while serving the web pages."""
from __future__ import annotations

from chalicelib.errors import NotFoundError


class AssetNotFoundError(NotFoundError):
    """Raised when a request names a static asset the app does not ship."""

    code = "asset_not_found"
