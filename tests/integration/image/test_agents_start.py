"""The real agent CLIs, typed at the image's bash prompt with fake keys: straight to their main screens, no dialogs.

There is no network here, so the CLIs fail to reach their APIs; the assertions are about what they show first.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import make_canary_key
from tests.integration.image.conftest import SETTINGS_URL, files_containing, terminal_env

pytestmark = pytest.mark.slow

DIALOGS = {
    "claude": ["Detected a custom API key", "Do you want to use this API key", "trust this folder",
               "Select login method", "Choose the text style", "Unable to connect"],
    "codex": ["Sign in with ChatGPT", "Welcome to Codex", "Trust this folder", "Provide your own API key"],
    "gemini": ["How would you like to authenticate", "Do you trust the files", "Get started"],
}
MAIN_SCREEN = {
    "claude": r"Claude Code v\d.*\n.*API Usage Billing",
    "codex": r"OpenAI Codex \(v\d(?s:.*)for shortcuts",
    "gemini": r"Authenticated with gemini-api-key",
}


@pytest.fixture
def keys() -> dict[str, str]:
    return {
        "ANTHROPIC_API_KEY": make_canary_key("anthropic"),
        "OPENAI_API_KEY": make_canary_key("openai"),
        "GEMINI_API_KEY": make_canary_key("gemini"),
    }


def git_project(home: Path) -> Path:
    repo = home / "workspace" / "project"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


def assert_keys_stay_private(raw: bytes, home: Path, keys: dict[str, str]) -> None:
    """No key in the terminal bytes; on disk only inside an agent's own 0600 files."""
    for key in keys.values():
        assert key.encode() not in raw
        for tail in (key, key[-20:]):
            for path in files_containing(home, tail):
                assert path.stat().st_mode & 0o077 == 0, path
                # Claude Code writes ~/.claude.json atomically through `.claude.json.tmp.<pid>.<random>`.
                top = path.relative_to(home).parts[0].split(".tmp.")[0]
                assert top in {".claude.json", ".claude", ".codex", ".gemini"}, path


@pytest.mark.parametrize("agent", ["claude", "codex", "gemini"])
def test_agent_opens_its_main_screen_without_dialogs(agent, keys, make_home, open_terminal, agent_bin):
    home = make_home()
    terminal = open_terminal(terminal_env(home, agent_bin, **keys), cwd=git_project(home))

    terminal.send(agent)
    screen = terminal.wait_for_screen(MAIN_SCREEN[agent])

    assert [d for d in DIALOGS[agent] if d in screen] == []
    assert "aether:" not in screen
    assert_keys_stay_private(terminal.raw(), home, keys)


def test_codex_reports_an_api_key_login(keys, make_home, open_terminal, agent_bin):
    home = make_home()
    terminal = open_terminal(terminal_env(home, agent_bin, **keys))

    terminal.run("codex login status")

    assert "API key configured" in terminal.screen()
    assert_keys_stay_private(terminal.raw(), home, keys)


def test_keys_stay_out_of_history_after_a_full_session(keys, make_home, open_terminal, agent_bin):
    home = make_home()
    terminal = open_terminal(terminal_env(home, agent_bin, **keys), cwd=git_project(home))
    terminal.send("claude")
    terminal.wait_for_screen(MAIN_SCREEN["claude"])
    prompts = terminal.prompt_count()
    terminal.keys("C-c")
    terminal.keys("C-c")
    terminal.wait_for_prompts(prompts + 1)

    raw = terminal.exit_shell()

    history = (home / ".bash_history").read_text()
    assert history.split() == ["claude", "exit"]
    assert_keys_stay_private(raw, home, keys)


@pytest.mark.parametrize(
    ("agent", "key_name", "provider", "agent_screen"),
    [
        ("claude", "ANTHROPIC_API_KEY", "Anthropic", r"Claude Code"),
        ("codex", "OPENAI_API_KEY", "OpenAI", r"Welcome to Codex"),
        ("gemini", "GEMINI_API_KEY", "Gemini", r"How would you like to authenticate"),
    ],
)
def test_missing_key_prints_one_hint_then_runs_the_agent(
    agent, key_name, provider, agent_screen, keys, make_home, open_terminal, agent_bin
):
    home = make_home()
    others = {name: key for name, key in keys.items() if name != key_name}
    terminal = open_terminal(terminal_env(home, agent_bin, **others), cwd=home / "workspace")

    terminal.send(agent)
    terminal.wait_for_screen(agent_screen)

    hint = (f"aether: no {provider} API key connected - connect one in Settings → Connected Accounts "
            f"({SETTINGS_URL})")
    raw = terminal.raw().decode(errors="replace")
    assert raw.count("aether:") == 1
    assert hint in raw
