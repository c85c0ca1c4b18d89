"""aether-agent-setup against the real CLIs' files: keys applied once, changed keys re-applied, removed keys revoked."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import make_canary_key
from tests.integration.image.conftest import files_containing, run_setup, terminal_env

pytestmark = pytest.mark.slow


def claude_tail(key: str) -> str:
    return key.strip()[-20:]


def setup_env(home: Path, agent_bin: Path, **keys: str) -> dict[str, str]:
    return terminal_env(home, agent_bin, **keys)


def codex_status(env: dict[str, str], agent_bin: Path) -> str:
    done = subprocess.run(
        [str(agent_bin / "codex"), "login", "status"], env=env, capture_output=True, text=True, timeout=60
    )
    return done.stdout + done.stderr


def test_keys_are_applied_quietly_into_0600_files_and_nowhere_else(make_home, agent_bin):
    home = make_home()
    keys = {p: make_canary_key(p) for p in ("anthropic", "openai", "gemini")}
    env = setup_env(home, agent_bin, ANTHROPIC_API_KEY=keys["anthropic"], OPENAI_API_KEY=keys["openai"],
                    GEMINI_API_KEY=keys["gemini"])

    done = run_setup(env)

    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    claude = json.loads((home / ".claude.json").read_text())
    assert claude["hasCompletedOnboarding"] is True
    assert claude["customApiKeyResponses"]["approved"] == [claude_tail(keys["anthropic"])]
    assert claude["projects"][str(home / "workspace")]["hasTrustDialogAccepted"] is True
    gemini = json.loads((home / ".gemini" / "settings.json").read_text())
    assert gemini["security"]["auth"]["selectedType"] == "gemini-api-key"
    assert "API key" in codex_status(env, agent_bin)
    # Full keys: only Codex's own auth file; Claude's approval tail: only its config. All 0600.
    assert files_containing(home, keys["openai"]) == [home / ".codex" / "auth.json"]
    assert not files_containing(home, keys["anthropic"]) and not files_containing(home, keys["gemini"])
    assert files_containing(home, claude_tail(keys["anthropic"])) == [home / ".claude.json"]
    for path in (home / ".codex" / "auth.json", home / ".claude.json", home / ".gemini" / "settings.json",
                 *(home / ".local" / "state" / "aether").iterdir()):
        assert path.stat().st_mode & 0o077 == 0, path


def test_second_run_changes_nothing(make_home, agent_bin):
    home = make_home()
    env = setup_env(home, agent_bin, ANTHROPIC_API_KEY=make_canary_key("anthropic"),
                    OPENAI_API_KEY=make_canary_key("openai"), GEMINI_API_KEY=make_canary_key("gemini"))
    run_setup(env)
    watched = [home / ".claude.json", home / ".codex" / "auth.json", home / ".gemini" / "settings.json"]
    before = {p: p.stat().st_mtime_ns for p in watched}

    done = run_setup(env)

    assert (done.returncode, done.stderr) == (0, "")
    assert {p: p.stat().st_mtime_ns for p in watched} == before


def test_a_changed_key_replaces_the_old_one(make_home, agent_bin):
    home = make_home()
    old = {"ANTHROPIC_API_KEY": make_canary_key("anthropic"), "OPENAI_API_KEY": make_canary_key("openai")}
    new = {"ANTHROPIC_API_KEY": make_canary_key("anthropic"), "OPENAI_API_KEY": make_canary_key("openai")}
    run_setup(setup_env(home, agent_bin, **old))

    run_setup(setup_env(home, agent_bin, **new))

    approved = json.loads((home / ".claude.json").read_text())["customApiKeyResponses"]["approved"]
    assert approved == [claude_tail(new["ANTHROPIC_API_KEY"])]
    assert files_containing(home, new["OPENAI_API_KEY"]) == [home / ".codex" / "auth.json"]
    assert not files_containing(home, old["OPENAI_API_KEY"])


def test_a_disconnected_key_is_removed_from_the_agents(make_home, agent_bin):
    home = make_home()
    keys = {"ANTHROPIC_API_KEY": make_canary_key("anthropic"), "OPENAI_API_KEY": make_canary_key("openai")}
    run_setup(setup_env(home, agent_bin, **keys))

    done = run_setup(setup_env(home, agent_bin))

    assert done.returncode == 0
    assert not (home / ".codex" / "auth.json").exists()
    assert not files_containing(home, claude_tail(keys["ANTHROPIC_API_KEY"]))


def test_trust_covers_a_git_project_inside_the_workspace_only(make_home, agent_bin, tmp_path):
    home = make_home()
    inside = home / "workspace" / "repo"
    outside = tmp_path / "elsewhere"
    for repo in (inside, outside):
        (repo / "src").mkdir(parents=True)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = setup_env(home, agent_bin)

    run_setup(env, "trust", str(inside / "src"))
    run_setup(env, "trust", str(inside / "src"))  # twice: the TOML table must not be duplicated
    run_setup(env, "trust", str(outside))

    projects = json.loads((home / ".claude.json").read_text())["projects"]
    assert list(projects) == [str(inside)]
    assert json.loads((home / ".gemini" / "trustedFolders.json").read_text()) == {
        str(home / "workspace"): "TRUST_FOLDER"
    }
    codex_config = (home / ".codex" / "config.toml").read_text()
    assert codex_config.count(f'[projects."{inside}"]') == 1
    assert str(outside) not in codex_config
