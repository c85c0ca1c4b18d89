"""The usage detector on the bytes a terminal really receives: the image's bash, in tmux and not, running the real
agent CLIs (fake keys, no network) among decoys; read back through `python -m chalicelib.usage.replay` as operators do.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, make_canary_key
from tests.integration.image.conftest import Terminal, terminal_env
from tests.integration.image.test_agents_start import MAIN_SCREEN, git_project

pytestmark = pytest.mark.slow

# How a user leaves each agent: Claude's /exit command, Ctrl-C for Codex, Ctrl-C twice for Gemini.
LEAVE = {"claude": ("/exit",), "codex": ("C-c",), "gemini": ("C-c", "C-c")}
# Typed lines that mention agents without running one; `./claudette` is a script printing an agent command line.
DECOYS = ["echo claude", "./claudette --model opus", "cat notes.md"]
CLAUDE_DISPLAY_RE = re.compile(r"\b(Opus|Sonnet|Haiku) (\d{1,2}(?:\.\d{1,2})?)\b")
MODEL_ID_RE = re.compile(r"\b((?:gpt|gemini)-[a-z0-9.-]*[0-9][a-z0-9.-]*)")
ARGV0_RE = re.compile(rb"\x1b\]6973;argv0=([^\x07\x1b]*)")


def model_on_screen(agent: str, screen: str) -> str | None:
    """The model id the agent's main screen shows, as tmux rendered it (independent of the detector's byte parsing)."""
    if agent == "claude":
        shown = CLAUDE_DISPLAY_RE.search(screen)
        return shown and f"claude-{shown[1].lower()}-{shown[2].replace('.', '-')}"
    shown = MODEL_ID_RE.search(screen)
    return shown and shown[1]


def replay(path: Path, *options: str) -> list[dict]:
    """The sessions `python -m chalicelib.usage.replay` prints for ``path``."""
    done = subprocess.run(
        [sys.executable, "-m", "chalicelib.usage.replay", str(path), *options],
        cwd=ROOT, check=True, capture_output=True, text=True, timeout=120,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def run_agent(terminal: Terminal, agent: str) -> str | None:
    """Types ``agent``, waits for its main screen, leaves it like a user; returns the model the screen showed."""
    prompts = terminal.prompt_count()
    terminal.send(agent)
    screen = terminal.wait_for_screen(MAIN_SCREEN[agent])
    time.sleep(1)  # let the first frame settle so the rendered screen is complete
    shown = model_on_screen(agent, terminal.screen()) or model_on_screen(agent, screen)
    for key in LEAVE[agent]:
        if key.startswith("/"):
            terminal.send(key)
        else:
            terminal.keys(key)
        time.sleep(1)
    try:
        terminal.wait_for_prompts(prompts + 1, timeout=20)
    except AssertionError:  # a slow machine missed the key: press Ctrl-C once more, as a user would
        terminal.keys("C-c")
        terminal.wait_for_prompts(prompts + 1, timeout=60)
    return shown


def agent_session_capture(open_terminal, make_home, agent_bin, *, inner_tmux: bool) -> tuple[Path, list[dict]]:
    """Decoys, claude, codex, gemini, a decoy again, `exit`; returns the raw capture and per run (agent, model shown)."""
    home = make_home()
    project = git_project(home)
    (project / "notes.md").write_text("To start: claude --model claude-opus-4-6\ndev@ws:~/app$ gemini -m gemini-2.5-pro\n")
    decoy = project / "claudette"
    decoy.write_text("#!/bin/sh\necho 'claude --model claude-opus-4-6'\n")
    decoy.chmod(0o755)
    keys = {"ANTHROPIC_API_KEY": make_canary_key("anthropic"), "OPENAI_API_KEY": make_canary_key("openai"),
            "GEMINI_API_KEY": make_canary_key("gemini")}
    terminal = open_terminal(terminal_env(home, agent_bin, **keys), inner_tmux=inner_tmux, cwd=project)
    for line in DECOYS:
        terminal.run(line)
    runs = [{"agent": agent, "model": run_agent(terminal, agent)} for agent in ("claude", "codex", "gemini")]
    terminal.run(DECOYS[0])
    raw = terminal.exit_shell()
    assert [key for key in keys.values() if key.encode() in raw] == []
    return terminal.raw_path, runs


@pytest.mark.parametrize("inner_tmux", [False, True], ids=["plain", "tmux"])
def test_each_real_agent_run_is_one_session_and_decoys_are_none(inner_tmux, open_terminal, make_home, agent_bin):
    path, runs = agent_session_capture(open_terminal, make_home, agent_bin, inner_tmux=inner_tmux)
    raw = path.read_bytes()
    sessions = replay(path)

    assert [s["agent"] for s in sessions] == [run["agent"] for run in runs]
    assert [s["model"] for s in sessions] == [run["model"] for run in runs]
    assert sessions[0]["model"] is not None, "Claude Code shows its model on the welcome screen"
    marks = [(m.start(), m[1].decode()) for m in ARGV0_RE.finditer(raw)]
    previous_end = 0
    for session in sessions:
        assert session["ended_offset"] is not None
        assert previous_end <= session["started_offset"] < session["ended_offset"]
        previous_end = session["ended_offset"]
        inside = [word for at, word in marks if session["started_offset"] <= at < session["ended_offset"]]
        assert inside == [session["agent"]]  # its own command word, and no other command's
    decoy_marks = [at for at, word in marks if word not in {run["agent"] for run in runs}]
    assert len(decoy_marks) == len(DECOYS) + 2  # the decoys, the decoy typed again and `exit`
    assert not any(s["started_offset"] <= at < s["ended_offset"] for s in sessions for at in decoy_marks)
    assert replay(path, "--random-chunks", "11") == replay(path, "--chunk-size", "1") == sessions
