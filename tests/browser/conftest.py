"""Browser tests: the real dev server (`python -m scripts.devserver`) on a free port and the test database,
driven by Playwright through Debian's Chromium. Screenshots land in test-output/screenshots/."""
from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
OUTPUT_DIR = ROOT / "test-output"
SCREENSHOTS = OUTPUT_DIR / "screenshots"
PAGE_PATH = "/settings/connected-accounts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    jwt_secret: str
    log_path: Path

    def token(self, user_id: str) -> str:
        from chalicelib.api.dev_tokens import mint_token

        return mint_token(self.jwt_secret, user_id)

    def api(self, method: str, path: str, user_id: str, **kwargs) -> requests.Response:
        """Ask the API directly, as the test's independent witness of what the page did."""
        headers = {"Authorization": f"Bearer {self.token(user_id)}"}
        return requests.request(method, self.base_url + path, headers=headers, timeout=10, **kwargs)

    def key_status(self, user_id: str, provider: str) -> dict:
        response = self.api("GET", "/user/api-keys", user_id)
        response.raise_for_status()
        return next(p for p in response.json()["providers"] if p["provider"] == provider)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def live_server(pg_url: str) -> Iterator[LiveServer]:
    """`make run`'s server process (chalice local, stage local) against the test database."""
    port = _free_port()
    jwt_secret = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        "AETHER_STAGE": "local",
        "STORAGE_BACKEND": "postgres",
        "DATABASE_URL": pg_url,
        "ENCRYPTION_MASTER_KEY": f"v1:{secrets.token_hex(32)}",
        "SUPABASE_JWT_SECRET": jwt_secret,
        "LOG_LEVEL": "DEBUG",
    }
    for name in ("KMS_KEY_ID", "SUPABASE_JWKS_URL", "USING_AGENTS_GUIDE_URL"):
        env.pop(name, None)
    OUTPUT_DIR.mkdir(exist_ok=True)
    log_path = OUTPUT_DIR / "browser-devserver.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "scripts.devserver", "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    server = LiveServer(base_url=f"http://127.0.0.1:{port}", jwt_secret=jwt_secret, log_path=log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"dev server exited with {process.returncode}:\n{server.log_text()}")
            try:
                if requests.get(server.base_url + PAGE_PATH, timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"dev server did not answer within 60 s:\n{server.log_text()}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


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
