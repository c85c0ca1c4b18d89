"""The page and its assets as the web module serves them: references resolve, nothing inline, values escaped."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from chalicelib.web import SECURITY_HEADERS, connected_accounts_page, static_asset
from chalicelib.web.errors import AssetNotFoundError


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.script_text.append(data)


def parsed(*, dev_sign_in=False, guide_url="https://docs.example/guide") -> _Collector:
    collector = _Collector()
    collector.feed(connected_accounts_page(dev_sign_in=dev_sign_in, guide_url=guide_url).body)
    return collector


def test_every_asset_the_page_references_is_served_with_a_matching_content_type():
    references = [
        attrs.get("href") or attrs.get("src")
        for tag, attrs in parsed().tags
        if tag in ("link", "script") and (attrs.get("href") or attrs.get("src"))
    ]
    assert references, "the page references no assets"
    expected_types = {"css": "text/css", "js": "text/javascript", "svg": "image/svg+xml"}
    for reference in references:
        assert reference.startswith("assets/"), reference  # relative: works behind an API stage prefix
        name = reference.removeprefix("assets/")
        asset = static_asset(name)
        assert asset.body
        assert asset.content_type.startswith(expected_types[name.rsplit(".", 1)[1]])
        assert asset.headers == {"Content-Type": asset.content_type, **SECURITY_HEADERS}


@pytest.mark.parametrize("name", ["pages.py", "../pages.py", "static/connected-accounts.js", "", "CONNECTED-ACCOUNTS.JS"])
def test_names_outside_the_asset_list_are_not_found(name):
    with pytest.raises(AssetNotFoundError):
        static_asset(name)


def test_page_has_no_inline_script_style_or_event_handler_so_the_strict_csp_holds():
    page = parsed()
    assert page.script_text == []
    assert all(attrs.get("src") for tag, attrs in page.tags if tag == "script")
    assert not [tag for tag, _ in page.tags if tag == "style"]
    assert not [(tag, name) for tag, attrs in page.tags for name in attrs if name == "style" or name.startswith("on")]
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "script-src 'self'" in csp and "form-action 'none'" in csp


def test_guide_url_is_escaped_into_the_link():
    hostile = 'https://docs.example/" onclick="steal()'
    links = [attrs for tag, attrs in parsed(guide_url=hostile).tags if tag == "a" and attrs.get("href") == hostile]
    assert len(links) == 1 and "onclick" not in links[0]


@pytest.mark.parametrize("dev_sign_in", [True, False])
def test_dev_sign_in_flag_is_rendered_for_the_script(dev_sign_in):
    body_attrs = next(attrs for tag, attrs in parsed(dev_sign_in=dev_sign_in).tags if tag == "body")
    assert body_attrs["data-dev-sign-in"] == str(dev_sign_in).lower()
