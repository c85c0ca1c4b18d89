"""The Connected Accounts page: static files shipped in the Lambda zip, read once, served with strict headers."""
from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from importlib import resources
from string import Template

from chalicelib.web.errors import AssetNotFoundError

# No inline script or style anywhere, no third-party origin, no framing, and forms may not submit
# anywhere: if the script failed to load, a typed key still could not leave in a form post.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The page's sub-resources, by the name the page asks for them (``assets/<name>``). The icon saves
# the browser's /favicon.ico guess, which no route answers.
ASSET_NAMES = ("connected-accounts.css", "connected-accounts.js", "favicon.svg")
PAGE_NAME = "connected-accounts.html"


@dataclass(frozen=True)
class WebAsset:
    body: str
    content_type: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": self.content_type, **SECURITY_HEADERS}


@functools.cache
def _read(name: str) -> WebAsset:
    text = resources.files("chalicelib.web").joinpath("static", name).read_text(encoding="utf-8")
    return WebAsset(body=text, content_type=_CONTENT_TYPES[name[name.rindex(".") :]])


@functools.cache
def connected_accounts_page(*, dev_sign_in: bool, guide_url: str) -> WebAsset:
    """The page's HTML; ``dev_sign_in`` shows the local stage's "Sign in as dev user" button."""
    template = _read(PAGE_NAME)
    body = Template(template.body).substitute(
        dev_sign_in="true" if dev_sign_in else "false",
        guide_url=html.escape(guide_url, quote=True),
    )
    return WebAsset(body=body, content_type=template.content_type)


def static_asset(name: str) -> WebAsset:
    """One of the page's CSS/JS files; any other name is an AssetNotFoundError (so no path tricks)."""
    if name not in ASSET_NAMES:
        raise AssetNotFoundError("no such asset")
    return _read(name)
