"""Web pages served by the API itself: the Connected Accounts settings page and its assets."""
from chalicelib.web.pages import SECURITY_HEADERS, WebAsset, connected_accounts_page, static_asset

__all__ = ["SECURITY_HEADERS", "WebAsset", "connected_accounts_page", "static_asset"]
