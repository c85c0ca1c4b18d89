"""A person manages provider keys on the Connected Accounts page, in Chromium, against the real dev server.

The API is queried directly after every step as an independent witness, and each test searches everything
the browser kept or said (DOM, form values, storage, console, request URLs) and the server's log for the key.
"""
from __future__ import annotations

import uuid
from datetime import datetime

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import PageSession
from tests.conftest import PAGE_PATH, LiveServer, make_canary_key

pytestmark = pytest.mark.slow

ANTHROPIC = "Anthropic (Claude)"

# WCAG relative luminance / contrast ratio of every visible text against the first opaque background
# behind it. Returns the offenders as "text: ratio".
_LOW_CONTRAST_JS = """
() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] === 1) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const offenders = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el.checkVisibility() || el.closest(".visually-hidden")) continue;
    const style = getComputedStyle(el);
    const fg = rgb(style.color).slice(0, 3), bg = background(el);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05) * (Number(style.opacity) || 1);
    if (ratio < 4.5) offenders.push(`${node.textContent.trim()}: ${ratio.toFixed(2)}`);
  }
  return offenders;
}
"""


def medium_date(iso: str) -> str:
    """How en-US Intl "medium" dates read in UTC, e.g. "Jan 10, 2024"."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return f"{moment:%b} {moment.day}, {moment.year}"


def open_signed_in(server: LiveServer, tab: PageSession, user_id: str):
    tab.page.goto(f"{server.base_url}{PAGE_PATH}#access_token={server.token(user_id)}")
    expect(card(tab, ANTHROPIC)).to_be_visible()


def card(tab: PageSession, display_name: str):
    return tab.page.get_by_role("region", name=display_name)


def assert_key_nowhere(server: LiveServer, tab: PageSession, key: str) -> None:
    assert key not in tab.dom_dump()
    assert key not in tab.storage_dump()
    assert not [line for line in tab.console if key in line]
    assert not [url for url in tab.request_urls if key in url]
    assert key not in server.log_text()


def test_person_connects_reloads_replaces_and_disconnects_an_anthropic_key(live_server, tab, user_id):
    page = tab.page
    token = live_server.token(user_id)
    page.goto(f"{live_server.base_url}{PAGE_PATH}#access_token={token}")
    anthropic = card(tab, ANTHROPIC)
    expect(anthropic).to_contain_text("Not connected")
    assert "#" not in page.url and token not in page.url
    assert token in tab.storage_dump()
    assert live_server.key_status(user_id, "anthropic") == {"provider": "anthropic", "connected": False}
    for provider in live_server.api("GET", "/providers", user_id).json()["providers"]:
        expect(card(tab, provider["display_name"])).to_be_visible()
    expect(page.get_by_role("complementary")).to_contain_text(
        "Your API keys are encrypted and only used to run agents in your cloud environments."
    )
    tab.screenshot("not-connected")

    first_key = make_canary_key("anthropic")
    page.get_by_label(f"API key for {ANTHROPIC}").fill(first_key)
    anthropic.get_by_role("button", name="Connect").click()
    expect(page.get_by_role("status")).to_have_text(f"{ANTHROPIC} connected.")
    status = live_server.key_status(user_id, "anthropic")
    assert status["connected"] is True
    expect(anthropic).to_contain_text(f"Connected on {medium_date(status['added_at'])}")
    expect(anthropic).to_contain_text(status["hint"])
    assert status["hint"].endswith(first_key[-4:])
    tab.screenshot("connected")
    assert_key_nowhere(live_server, tab, first_key)

    page.reload()
    expect(anthropic).to_contain_text(f"Connected on {medium_date(status['added_at'])}")
    expect(anthropic).to_contain_text(status["hint"])
    tab.screenshot("reloaded")

    anthropic.get_by_role("button", name=f"Replace {ANTHROPIC} key").click()
    new_key_field = page.get_by_label(f"API key for {ANTHROPIC}")
    expect(new_key_field).to_be_focused()
    second_key = make_canary_key("anthropic")
    new_key_field.fill(second_key)
    tab.screenshot("replacing")
    anthropic.get_by_role("button", name="Save new key").click()
    expect(page.get_by_role("status")).to_have_text(f"{ANTHROPIC} key replaced.")
    replaced = live_server.key_status(user_id, "anthropic")
    assert replaced["hint"].endswith(second_key[-4:]) and replaced["hint"] != status["hint"]
    assert replaced["added_at"] == status["added_at"]
    expect(anthropic).to_contain_text(replaced["hint"])
    expect(anthropic).not_to_contain_text(status["hint"])
    tab.screenshot("replaced")
    assert_key_nowhere(live_server, tab, first_key)
    assert_key_nowhere(live_server, tab, second_key)

    disconnect = anthropic.get_by_role("button", name=f"Disconnect {ANTHROPIC}")
    dialog = page.get_by_role("dialog", name=f"Disconnect {ANTHROPIC}?")
    disconnect.click()
    expect(dialog).to_be_visible()
    tab.screenshot("confirm-disconnect")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert tab.sent("DELETE", "/user/api-keys/anthropic") == 0
    assert live_server.key_status(user_id, "anthropic")["connected"] is True

    disconnect.click()
    dialog.get_by_role("button", name="Disconnect").click()
    expect(anthropic).to_contain_text("Not connected")
    expect(page.get_by_label(f"API key for {ANTHROPIC}")).to_be_focused()
    assert live_server.key_status(user_id, "anthropic") == {"provider": "anthropic", "connected": False}
    tab.screenshot("disconnected")

    page.reload()
    expect(anthropic).to_contain_text("Not connected")
    assert not [line for line in tab.console if line.startswith(("error", "pageerror"))], tab.console
    assert all(url.startswith(live_server.base_url) for url in tab.request_urls), tab.request_urls


@pytest.mark.parametrize(
    "bad_key",
    [
        pytest.param(make_canary_key("anthropic").replace("sk-ant-api03-", "sk-ant-admin01-"), id="admin-key"),
        pytest.param(make_canary_key("openai"), id="openai-key"),
        pytest.param("sk-ant-CANARY" + make_canary_key("anthropic")[-8:], id="too-short"),
    ],
)
def test_bad_key_shows_the_api_error_next_to_the_field_and_stores_nothing(live_server, tab, user_id, bad_key):
    refused = live_server.api("POST", "/user/api-keys", user_id, json={"provider": "anthropic", "api_key": bad_key})
    assert refused.status_code == 400
    api_message = refused.json()["Message"]
    open_signed_in(live_server, tab, user_id)
    field = tab.page.get_by_label(f"API key for {ANTHROPIC}")

    field.fill(bad_key)
    field.press("Enter")

    error = card(tab, ANTHROPIC).get_by_role("alert")
    expect(error).not_to_be_empty()
    # The page may say "the key field" where the API names its JSON field ("the api_key field").
    assert api_message.split("api_key")[-1].strip().lower() in error.inner_text().lower()
    assert "api_key" not in error.inner_text()
    # "Next to the field": announced with it, and drawn right under it.
    assert error.get_attribute("id") in field.get_attribute("aria-describedby").split()
    field_box, error_box = field.bounding_box(), error.bounding_box()
    assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 40
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("")
    expect(field).to_be_focused()
    tab.screenshot("bad-key-error")
    assert live_server.key_status(user_id, "anthropic") == {"provider": "anthropic", "connected": False}
    expect(card(tab, ANTHROPIC)).to_contain_text("Not connected")
    assert_key_nowhere(live_server, tab, bad_key)


def test_busy_state_while_the_request_runs(live_server, tab, user_id):
    open_signed_in(live_server, tab, user_id)
    held = []
    tab.page.route("**/user/api-keys", lambda route: held.append(route) if route.request.method == "POST"
                   else route.continue_())
    anthropic = card(tab, ANTHROPIC)
    tab.page.get_by_label(f"API key for {ANTHROPIC}").fill(make_canary_key("anthropic"))
    anthropic.get_by_role("button", name="Connect").click()

    busy_button = anthropic.get_by_role("button", name="Connecting…")
    expect(busy_button).to_be_disabled()
    expect(anthropic).to_have_attribute("aria-busy", "true")
    expect(tab.page.get_by_label(f"API key for {ANTHROPIC}")).to_be_disabled()
    tab.screenshot("busy")
    held[0].continue_()
    expect(anthropic).to_have_attribute("aria-busy", "false")
    expect(anthropic).to_contain_text("Connected on")
    assert live_server.key_status(user_id, "anthropic")["connected"] is True


def test_keyboard_alone_connects_and_disconnects_with_visible_focus(live_server, tab, user_id):
    open_signed_in(live_server, tab, user_id)
    page = tab.page
    key_field = page.get_by_label(f"API key for {ANTHROPIC}")
    focus_outlines = []
    for _ in range(20):
        page.keyboard.press("Tab")
        focus_outlines.append(page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [document.activeElement.textContent.trim() || document.activeElement.id,"
            " s.outlineStyle, parseFloat(s.outlineWidth)]; }"
        ))
        if key_field.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail(f"Tab never reached the Anthropic key field: {focus_outlines}")
    assert all(style != "none" and width >= 2 for _, style, width in focus_outlines), focus_outlines
    tab.screenshot("keyboard-focus")

    page.keyboard.type(make_canary_key("anthropic"))
    page.keyboard.press("Enter")
    replace = page.get_by_role("button", name=f"Replace {ANTHROPIC} key")
    expect(replace).to_be_focused()
    assert live_server.key_status(user_id, "anthropic")["connected"] is True

    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name=f"Disconnect {ANTHROPIC}")).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name=f"Disconnect {ANTHROPIC}")).to_be_focused()
    assert tab.sent("DELETE", "/user/api-keys/anthropic") == 0
    assert live_server.key_status(user_id, "anthropic")["connected"] is True

    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Disconnect")).to_be_focused()
    page.keyboard.press("Enter")
    expect(key_field).to_be_focused()
    assert live_server.key_status(user_id, "anthropic")["connected"] is False


def test_every_input_is_labelled_and_text_has_enough_contrast(live_server, tab, user_id):
    open_signed_in(live_server, tab, user_id)
    page = tab.page
    unlabelled = page.eval_on_selector_all(
        "input, select, textarea", "els => els.filter(e => e.labels.length === 0).map(e => e.outerHTML)"
    )
    assert unlabelled == []
    unnamed_buttons = page.eval_on_selector_all(
        "button", "els => els.filter(b => !(b.getAttribute('aria-label') || b.textContent.trim())).length"
    )
    assert unnamed_buttons == 0
    assert page.evaluate(_LOW_CONTRAST_JS) == []
    page.get_by_label(f"API key for {ANTHROPIC}").fill("sk-ant-too-short")
    page.keyboard.press("Enter")
    expect(card(tab, ANTHROPIC).get_by_role("alert")).not_to_be_empty()
    assert page.evaluate(_LOW_CONTRAST_JS) == []


def test_page_fits_a_375px_wide_screen(live_server, phone_tab, user_id):
    open_signed_in(live_server, phone_tab, user_id)
    page = phone_tab.page
    page.get_by_label(f"API key for {ANTHROPIC}").fill(make_canary_key("anthropic"))
    connect = card(phone_tab, ANTHROPIC).get_by_role("button", name="Connect")
    box = connect.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    phone_tab.screenshot("phone-not-connected")
    connect.click()
    expect(card(phone_tab, ANTHROPIC)).to_contain_text("Connected on")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    for region in page.get_by_role("region").all():
        region_box = region.bounding_box()
        assert region_box["x"] >= 0 and region_box["x"] + region_box["width"] <= 375
    phone_tab.screenshot("phone-connected")


def test_signed_out_visitor_signs_in_as_the_dev_user_in_the_local_stage(live_server, tab):
    from chalicelib.api.dev_tokens import DEV_USER_ID

    tab.page.goto(live_server.base_url + "/")
    assert tab.page.url == live_server.base_url + PAGE_PATH
    sign_in = tab.page.get_by_role("region", name="Sign in to manage your keys")
    expect(sign_in).to_be_visible()
    tab.screenshot("signed-out")
    sign_in.get_by_role("button", name="Sign in as dev user").click()
    expect(card(tab, ANTHROPIC)).to_be_visible()
    expect(sign_in).to_be_hidden()
    expected = "Connected on" if live_server.key_status(DEV_USER_ID, "anthropic")["connected"] else "Not connected"
    expect(card(tab, ANTHROPIC)).to_contain_text(expected)
    assert not [url for url in tab.request_urls if "access_token" in url or "eyJ" in url]
    tab.screenshot("dev-signed-in")


def test_an_invalid_token_shows_sign_in_and_is_forgotten(live_server, tab):
    tab.page.goto(f"{live_server.base_url}{PAGE_PATH}#access_token=not-a-token")
    expect(tab.page.get_by_role("region", name="Sign in to manage your keys")).to_be_visible()
    assert "not-a-token" not in tab.storage_dump()
    assert "not-a-token" not in tab.page.url


def test_guide_link_opens_the_using_agents_guide(live_server, tab, user_id):
    open_signed_in(live_server, tab, user_id)
    link = tab.page.get_by_role("link", name="How to use coding agents")
    guide_url = link.evaluate("a => a.href")
    response = requests.get(guide_url, timeout=10)
    assert response.status_code == 200, guide_url
    guide_file = (live_server.log_path.parents[1] / "docs" / "guides" / "using-agents.md").read_text()
    assert response.text == guide_file


def test_each_user_sees_only_their_own_keys(live_server, tab):
    owner, other = str(uuid.uuid4()), str(uuid.uuid4())
    assert live_server.api(
        "POST", "/user/api-keys", owner, json={"provider": "anthropic", "api_key": make_canary_key("anthropic")}
    ).status_code == 200
    open_signed_in(live_server, tab, other)
    expect(card(tab, ANTHROPIC)).to_contain_text("Not connected")
