"""Browser tests: the real dev server (the `live_server` fixture of tests/conftest.py) driven by Playwright
through Debian's Chromium. Screenshots land in test-output/screenshots/."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import OUTPUT_DIR

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = OUTPUT_DIR / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing: run `make browser` (make test does it for you)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageSession:
    """A browser tab plus everything it said and asked for: console lines and request URLs."""

    page: object
    screenshot_dir: Path
    console: list[str] = field(default_factory=list)
    requests_sent: list[tuple[str, str]] = field(default_factory=list)  # (method, url)
    shots: int = 0

    @property
    def request_urls(self) -> list[str]:
        return [url for _, url in self.requests_sent]

    def sent(self, method: str, path: str) -> int:
        return sum(1 for m, url in self.requests_sent if m == method and url.endswith(path))

    def screenshot(self, state: str) -> Path:
        self.shots += 1
        path = self.screenshot_dir / f"{self.shots:02d}-{state}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def storage_dump(self) -> str:
        return self.page.evaluate(
            "() => JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage)])"
        )

    def dom_dump(self) -> str:
        """The serialised DOM plus every form control's live value (which outerHTML does not show)."""
        return self.page.content() + "\n" + "\n".join(
            self.page.eval_on_selector_all("input, textarea", "els => els.map(e => e.value)")
        )


def _session(browser, request, viewport: dict[str, int]) -> Iterator[PageSession]:
    context = browser.new_context(viewport=viewport, locale="en-US", timezone_id="UTC")
    page = context.new_page()
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    screenshot_dir = SCREENSHOTS / name
    screenshot_dir.mkdir(parents=True, exist_ok=True)
    for old in screenshot_dir.glob("*.png"):
        old.unlink()
    session = PageSession(page=page, screenshot_dir=screenshot_dir)
    page.on("console", lambda message: session.console.append(
        f"{message.type}: {message.text} ({message.location.get('url', '')})"
    ))
    page.on("pageerror", lambda error: session.console.append(f"pageerror: {error}"))
    page.on("request", lambda req: session.requests_sent.append((req.method, req.url)))
    page.set_default_timeout(10_000)
    yield session
    context.close()


@pytest.fixture
def tab(browser, request) -> Iterator[PageSession]:
    yield from _session(browser, request, {"width": 1280, "height": 900})


@pytest.fixture
def phone_tab(browser, request) -> Iterator[PageSession]:
    yield from _session(browser, request, {"width": 375, "height": 812})
