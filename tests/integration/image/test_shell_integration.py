"""OSC 133 A/B/C/D and the command-word mark, as the terminal receives them from real bash, inside tmux and not."""
from __future__ import annotations

import re
import subprocess

import pytest

from tests.integration.image.conftest import IMAGE, PROMPT, parse_marks, terminal_env

pytestmark = pytest.mark.slow

# (typed line, expected command word or None, expected exit status)
COMMANDS = [
    ("echo hi", "echo", 0),
    ("false", "false", 1),
    (" ls -a", "ls", 0),  # space-prefixed: kept out of history by ignorespace, still reported
    ("FOO=1 /usr/bin/env --ignore-environment true", "env", 0),
    ("(exit 7)", None, 7),
    ("for i in 1 2 3; do :; done", "for", 0),
]


def command_cycles(marks: list[str]) -> list[tuple[str | None, int]]:
    """Checks that every command sits in A, B, C, [argv0], D order and returns (word, exit) per command."""
    cycles, i = [], 0
    while i < len(marks):
        assert marks[i] == "133;A", marks[i:]
        if i + 1 == len(marks):
            break
        assert marks[i + 1] == "133;B", marks[i:]
        i += 2
        if i == len(marks) or marks[i] == "133;A":  # empty Enter: a new prompt, no C and no bare D
            continue
        assert marks[i] == "133;C", marks[i:]
        i += 1
        word = None
        if i < len(marks) and marks[i].startswith("6973;argv0="):
            word = marks[i].removeprefix("6973;argv0=")
            i += 1
        if i == len(marks):  # the last command (exit) ends with the shell
            cycles.append((word, None))
            break
        done = re.fullmatch(r"133;D;(\d+)", marks[i])
        assert done, marks[i:]
        cycles.append((word, int(done.group(1))))
        i += 1
    return cycles


@pytest.mark.parametrize("inner_tmux", [False, True], ids=["plain", "tmux"])
def test_each_command_is_framed_by_marks_with_its_word_and_exit_status(inner_tmux, make_home, open_terminal):
    terminal = open_terminal(terminal_env(make_home()), inner_tmux=inner_tmux)
    terminal.run("")  # an empty Enter in between must not produce a command
    for line, _, _ in COMMANDS:
        terminal.run(line)
    raw = terminal.exit_shell()
    assert b"\x1bPtmux;" not in raw, "tmux must unwrap the passthrough for the outer terminal"
    cycles = command_cycles(parse_marks(raw))
    assert cycles[:-1] == [(word, status) for _, word, status in COMMANDS]
    assert cycles[-1][0] == "exit"


def test_argument_text_never_reaches_a_mark(make_home, open_terminal):
    terminal = open_terminal(terminal_env(make_home()))
    terminal.run("printf '%s' --model=secret-model 'fix the login bug' >/dev/null")
    marks = parse_marks(terminal.raw())
    assert "6973;argv0=printf" in marks
    assert not any("secret" in m or "login" in m for m in marks)


def test_shell_start_prints_nothing_but_the_prompt(make_home, open_terminal):
    terminal = open_terminal(terminal_env(make_home()))
    screen_lines = [line for line in terminal.screen().splitlines() if line.strip()]
    assert screen_lines == [PROMPT.rstrip()]


def test_tmux_without_passthrough_drops_the_marks_so_the_conf_setting_matters(tmp_path):
    """Guards the tmux.conf line: the same DCS-wrapped mark is forwarded only with allow-passthrough on."""
    results = {}
    for setting in ("on", "off"):
        conf = tmp_path / f"tmux-{setting}.conf"
        conf.write_text(IMAGE.joinpath("tmux.conf").read_text() + f"set -g allow-passthrough {setting}\n")
        raw = tmp_path / f"{setting}.raw"
        sock = tmp_path / f"s{setting}"
        # tmux forwards passthrough only to attached clients: give the client a moment to attach first.
        emit = r"sleep 0.5; printf '\ePtmux;\e\e]133;A\a\e\\'; sleep 1"
        subprocess.run(
            ["script", "-q", "-c", f"tmux -S {sock} -f {conf} new-session \"{emit}\"", str(raw)],
            check=True, timeout=30, env={"PATH": "/usr/bin:/bin", "TERM": "xterm-256color"},
            stdin=subprocess.DEVNULL, capture_output=True,
        )
        results[setting] = parse_marks(raw.read_bytes())
    assert results == {"on": ["133;A"], "off": []}
