"""Small line editor: what a typed shell line looks like after echo, backspaces and cursor moves.

Only ever run on one input line (bounded by the detector), never on bulk output.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from chalicelib.usage.agents import BY_BINARY, BY_PACKAGE, LAUNCHERS, AgentSpec, normalize_model

_TOKEN_RE = re.compile(
    rb"\x1b\[([0-?]*)[ -/]*([@-~])"  # CSI: params, final byte
    rb"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (titles, marks): zero width
    rb"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"  # DCS/PM/APC/SOS: zero width
    rb"|\x1b[ -/]*[0-~]?"  # 2-char escapes (charset selection, save/restore cursor)
    rb"|([\x00-\x1f\x7f])"  # C0 controls
    rb"|([^\x00-\x1f\x1b\x7f]+)"  # printable text
)
# A shell prompt ends in one of these followed by a space; `> ` alone is PS2 (heredoc, open quote).
_PROMPT_RE = re.compile(r"^(?:\S.*?[$#%❯➜λ»>]|[$#%❯➜λ»]) (?P<command>.*)$")
_ASSIGNMENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_OPERATORS = frozenset("|&;()<>")


def render_line(raw: bytes) -> str:
    """The text a terminal shows for ``raw`` (one line of typed input and its edits)."""
    cells: list[str] = []
    cursor = 0

    def pad_to(column: int) -> None:
        if column > len(cells):
            cells.extend(" " * (column - len(cells)))

    for match in _TOKEN_RE.finditer(raw):
        params, final, control, text = match.groups()
        if text is not None:
            chars = text.decode("utf-8", "replace")
            pad_to(cursor)
            cells[cursor : cursor + len(chars)] = chars
            cursor += len(chars)
        elif control is not None:
            if control == b"\r":
                cursor = 0
            elif control in (b"\b", b"\x7f"):
                cursor = max(0, cursor - 1)
            elif control == b"\t":
                cursor = (cursor // 8 + 1) * 8
            elif control == b"\n":
                cells, cursor = [], 0
        elif final is not None:
            cursor, cells = _apply_csi(params.decode("ascii", "replace"), final, cursor, cells, pad_to)
    return "".join(cells).rstrip()


def _apply_csi(params: str, final: bytes, cursor: int, cells: list[str], pad_to) -> tuple[int, list[str]]:
    numbers = [int(p) for p in params.split(";") if p.isdigit()]
    count = max(1, numbers[0]) if numbers else 1
    if final == b"C":  # cursor forward: stands for spaces
        cursor += count
    elif final == b"D":
        cursor = max(0, cursor - count)
    elif final in (b"G", b"`"):
        cursor = count - 1
    elif final in (b"H", b"f"):  # absolute position: keep the column, the row is lost anyway
        cursor = (numbers[1] - 1) if len(numbers) > 1 and numbers[1] > 0 else 0
    elif final == b"K":
        mode = numbers[0] if numbers else 0
        if mode == 0:
            del cells[cursor:]
        elif mode == 1:
            cells[: cursor + 1] = " " * min(len(cells), cursor + 1)
        else:
            cells = []
    elif final == b"J" and (not numbers or numbers[0] == 0):
        del cells[cursor:]
    elif final == b"P":
        del cells[cursor : cursor + count]
    elif final == b"@":
        pad_to(cursor)
        cells[cursor:cursor] = " " * count
    elif final == b"X":
        pad_to(cursor + count)
        cells[cursor : cursor + count] = " " * count
    return cursor, cells


def split_prompt(line: str, *, first_line: bool) -> tuple[bool, str | None]:
    """``(looks like a shell prompt, command typed after it)`` for one rendered input line.

    A line with no prompt yields a command only as the stream's first line (the capture began
    at a prompt); `> ` lines are PS2 continuations (heredoc bodies, open quotes), never commands.
    """
    if line.startswith("> "):
        return False, None
    match = _PROMPT_RE.match(line)
    if match:
        return True, match.group("command")
    if first_line:
        return False, line
    return False, None


@dataclass(frozen=True)
class Launch:
    """An agent a typed command line starts."""

    spec: AgentSpec
    model: str | None  # the allow-listed value of its model flag, if any
    # The agent is the line's own command word (what a shell's argv0 mark reports), not a word after a
    # launcher (`sudo`, `npx`) or in a later simple command (`cd app && claude`).
    direct: bool


def parse_launch(command: str) -> Launch | None:
    """The agent a command line starts and the model its flags name, or None.

    Only the command word of each simple command counts (`echo claude` is not a launch);
    arguments other than an allow-listed model flag value are dropped here.
    """
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quote: still the first word is a fair guess
        tokens = command.split()
    simple: list[str] = []
    first = True
    for token in [*tokens, ";"]:
        if token and set(token) <= _OPERATORS:
            found = _launch_of(simple, first)
            if found:
                return found
            first = first and not simple
            simple = []
        else:
            simple.append(token)
    return None


def _launch_of(words: list[str], first: bool) -> Launch | None:
    index, direct = 0, first
    while index < len(words) and (
        _ASSIGNMENT_RE.match(words[index]) or words[index] in LAUNCHERS or words[index].startswith("-")
    ):
        direct = direct and _ASSIGNMENT_RE.match(words[index]) is not None  # bash's argv0 skips `NAME=x` too
        index += 1
    if index >= len(words):
        return None
    word = words[index]
    spec = BY_BINARY.get(word.rsplit("/", 1)[-1]) or BY_PACKAGE.get(_package_name(word))
    if spec is None:
        return None
    return Launch(spec, _model_flag(words[index + 1 :], spec.model_flags), direct)


def _package_name(word: str) -> str:
    """`@scope/name@1.2.3` → `@scope/name`."""
    head, _, _version = word[1:].partition("@")
    return word[0] + head if word else word


def _model_flag(args: list[str], flags: tuple[str, ...]) -> str | None:
    for position, arg in enumerate(args):
        if arg in flags and position + 1 < len(args):
            return normalize_model(args[position + 1])
        name, equals, value = arg.partition("=")
        if equals and name in flags and name.startswith("--"):
            return normalize_model(value)
    return None
