"""Streaming agent detector: raw terminal bytes in, agent-session events out. Pure: no I/O, no clock.

Speed comes from never stepping through plain text in Python: one ``re`` pass over the bytes finds
the few structural escapes (bracketed paste, alternate screen, OSC 133/633 marks, the image's
``OSC 6973;argv0=<word>`` command-word mark); while an agent
runs and something is still unknown (model, missing key), a second ``re`` pass looks for the
allow-listed fingerprints. Only a typed input line (bounded) goes through the Python line editor.

Privacy: events carry only registry agent names, model ids that pass ``agents.normalize_model``,
booleans and byte offsets. The only stream bytes kept between chunks are a bounded tail
(a partial escape, the current input line, a fingerprint that may continue), and ``to_state``
masks every word in it that is not an allow-listed token before it leaves memory.
"""
from __future__ import annotations

import base64
import functools
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from chalicelib.usage.agents import AGENTS, BY_BINARY, LAUNCHERS, MODEL_ALIASES, normalize_model
from chalicelib.usage.lines import parse_launch, render_line, split_prompt


@dataclass(frozen=True)
class AgentStarted:
    agent: str
    model: str | None
    offset: int
    at: float | None = None  # epoch seconds of the chunk holding the event


@dataclass(frozen=True)
class ModelDetected:
    model: str
    offset: int
    at: float | None = None  # epoch seconds of the chunk holding the event


@dataclass(frozen=True)
class MissingKeyDetected:
    offset: int
    at: float | None = None  # epoch seconds of the chunk holding the event


@dataclass(frozen=True)
class AgentEnded:
    offset: int
    at: float | None = None  # epoch seconds of the chunk holding the event


DetectorEvent = AgentStarted | ModelDetected | MissingKeyDetected | AgentEnded


@dataclass(frozen=True)
class OpenSession:
    """The agent running now, as far as the stream shows."""

    agent: str
    model: str | None
    started_offset: int
    model_from_output: bool = False
    missing_key: bool = False
    command_ran: bool = False  # OSC 133 C seen since the start: a later D/A belongs to this agent


@dataclass(frozen=True)
class TypedLaunch:
    """An agent read from the typed line, held until the shell's argv0 mark confirms or overrules it."""

    agent: str
    model: str | None
    offset: int  # where the typed line ended (its `?2004l`): the session's start if confirmed
    at: float | None
    direct: bool  # the agent is the line's own command word, which argv0 reports (see ``lines.Launch``)
    ran: bool = False  # OSC 133 C seen: the line runs, its argv0 mark comes next


# Structural escapes: private modes (bracketed paste 2004, alternate screen 1049/1047/47) and shell marks.
# A 633 payload may hold the whole command line (`E;...`): only its first byte is ever looked at.
# `6973;argv0=<word>` is the base image's mark (infra/images/base/rootfs/opt/aether/shell/integration.bash),
# sent right after C: the basename of the command word bash is about to run, never its arguments.
_STRUCT_RE = re.compile(
    rb"\x1b(?:\[\?([0-9;]{1,32})([hl])"
    rb"|\](?:(133|633);([A-Z]?)[^\x07\x1b]{0,512}|6973;argv0=([^\x07\x1b]{0,64}))(?:\x07|\x1b\\))"
)
_INCOMPLETE_ESCAPE_RE = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?|[P^_X][^\x1b]*\x1b?|[ -/]*)?")
_ESCAPE_RE = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\?)?|\x1b[P^_X][^\x1b]*(?:\x1b\\?)?|\x1b[ -/]*[0-~]?")

# Word separators as TUIs draw them: spaces, NBSP, cursor-forward / column moves, colour changes.
_SEP = rb"(?:\x1b\[[0-9;]*m){0,4}(?:[ \t]|\xc2\xa0|\x1b\[[0-9]{0,3}[CG])(?:[ \t]|\xc2\xa0|\x1b\[[0-9;]{0,12}[CGm]){0,40}"
_ID = rb"[A-Za-z0-9][A-Za-z0-9._:/\[\]-]{0,79}"
# Model prints by kind. Each pattern starts with a literal so ``re`` skips plain text at memchr speed;
# the word boundary before it is checked in Python (a leading look-behind would disable that skip).
_MODEL_PRINTS: dict[str, tuple[bytes, ...]] = {
    "claude-display": tuple(
        rb"(?P<family>" + family + rb")" + _SEP + rb"(?P<version>[0-9]{1,2}(?:\.[0-9]{1,2})?)(?![0-9.])"
        for family in (b"Opus", b"Sonnet", b"Haiku")
    ),
    "labelled": (rb"[Mm]odel:" + _SEP + rb"(?P<labelled>" + _ID + rb")",),  # `model:`, `Main model:`, `Model:`
    **{
        f"{family}-id": (rb"(?P<bare>" + family.encode() + rb"-[0-9a-z][a-z0-9.-]{0,60}[a-z0-9])(?![A-Za-z0-9._-])",)
        for family in ("claude", "gpt", "gemini")
    },
}
_WORD_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-")
_OUTPUT_MAX_MATCH = 600  # longest possible fingerprint match (bounded quantifiers above)
_OUTPUT_GUARD = 24  # a match ending this close to the buffer end may still grow: wait for more bytes
_MAX_ESCAPE = 1100  # a longer unterminated escape is garbage, not carried
_MAX_LINE = 4096  # longest input line kept (prompt + typed command)

# Tokens a persisted tail may keep verbatim; everything else is masked character by character.
_VOCABULARY = {
    spec_word
    for spec in AGENTS
    for spec_word in (*spec.binaries, *spec.packages, *spec.model_flags, spec.name)
} | LAUNCHERS | {word for spec in AGENTS for phrase in spec.missing_key_phrases for word in re.findall(r"[A-Za-z0-9_]+", phrase)} | {
    "Opus", "Sonnet", "Haiku", "model", "Model", "Main", "claude", "gpt", "gemini", "--model", "-m",
    "argv0",  # a 6973 mark cut at a chunk's end must still parse after a state round trip
} | MODEL_ALIASES
_KEEP_PREFIXES = frozenset(word[:end] for word in _VOCABULARY for end in range(1, len(word) + 1))
_WORD_RE = re.compile(rb"[A-Za-z0-9_@./+~-]+|[\x80-\xff]+")
_KEEP_WORD_RE = re.compile(
    rb"[0-9.]{1,12}|(?:--model=)?(?:[a-z0-9]{1,20}/)?(?:claude|gpt|gemini|o[0-9])-[a-z0-9.\[\]-]{0,60}"
)
_KEEP_NON_ASCII = ("❯", "➜", "λ", "»", "·", "\xa0")


class Detector:
    """Detects agent sessions in one terminal's byte stream; feed chunks in order, cut anywhere."""

    def __init__(self) -> None:
        self.offset = 0  # stream offset of the next byte fed
        self.alt_screen = False
        self.shell_marks = False  # the shell emits OSC 133 marks: trust D/A for ends
        self.argv0_marks = False  # the shell emits OSC 6973 argv0 marks: they name the command word
        self.reading = True  # a line editor reads input (a capture starts at a prompt)
        self.first_line = True  # no prompt seen yet: a prompt-less line may still be a command
        self.region_start = 0  # where the current input began
        self.region_opened_at = 0  # offset of the `?2004h` that opened it
        self.region_opened_time: float | None = None  # and the time of its chunk: a plain-mode end's time
        self.region_mark = -1  # offset after OSC 133 B (end of prompt), -1 if none
        self.region_alt = False
        self.session: OpenSession | None = None
        self.typed: TypedLaunch | None = None  # with argv0 marks: the typed line's agent, awaiting the mark
        self._tail = b""  # the last bytes still needed; ``offset - len(_tail)`` is its stream offset
        self._scan_at = 0  # index in _tail where structural scanning resumes
        self._output_at = 0  # index in _tail where fingerprint scanning resumes

    # -- feeding ---------------------------------------------------------------------------------
    def feed(self, data: bytes, at: float | None = None) -> list[DetectorEvent]:
        """Consume the next chunk; returns the events it completes.

        ``at`` is the chunk's time (epoch seconds, JSON-safe); events carry the time of the chunk that
        holds the byte they describe.
        """
        buf = self._tail + data if self._tail else data
        base = self.offset - len(self._tail)
        events: list[DetectorEvent] = []
        output_from = self._output_at
        struct_end = self._scan_at
        for match in _STRUCT_RE.finditer(buf, self._scan_at):
            if self._wants_output() and match.start() > output_from:
                self._scan_output(buf, base, output_from, match.start(), events, at, guard=False)
            self._on_struct(match, buf, base, events, at)
            output_from = struct_end = match.end()
        size = len(buf)
        output_next = size
        if self._wants_output():
            output_next = self._scan_output(buf, base, output_from, size, events, at, guard=True)
        keep = scan_next = self._partial_escape_at(buf, struct_end)
        keep = min(keep, _context_start(buf, output_next))
        if self.reading:
            keep = min(keep, max(self._line_bounds(buf, base, scan_next)[0], size - _MAX_LINE))
        self._tail = buf[keep:]
        self._scan_at = scan_next - keep
        self._output_at = max(0, output_next - keep)
        self.offset = base + size
        return events

    def finish(self, at: float | None = None) -> list[DetectorEvent]:
        """End of a finite stream (replay): settle fingerprints held back waiting for more bytes."""
        events: list[DetectorEvent] = []
        if self._wants_output():
            base = self.offset - len(self._tail)
            self._scan_output(self._tail, base, self._output_at, len(self._tail), events, at, guard=False)
        return events

    def skip(self, length: int) -> None:
        """Bytes lost upstream (the producer dropped a chunk): forget partial data, keep the modes."""
        self.offset += length
        self._tail, self._scan_at, self._output_at = b"", 0, 0

    # -- structure -------------------------------------------------------------------------------
    def _on_struct(self, match: re.Match, buf: bytes, base: int, events: list, at: float | None) -> None:
        modes, setting, _mark_kind, mark, argv0 = match.groups()
        where = base + match.start()
        if argv0 is not None:
            self._on_argv0(argv0, where, events, at)
            return
        if modes is not None:
            for mode in modes.split(b";"):
                if mode == b"2004":
                    if setting == b"h":
                        self._settle_typed(events)
                        self._open_input(base + match.end(), where, at)
                    else:
                        self._close_input(buf, base, match.start(), where, events, at)
                elif mode in (b"1049", b"1047", b"47"):
                    if setting == b"h":
                        self._settle_typed(events)
                    self.alt_screen = setting == b"h"
            return
        self.shell_marks = True
        if mark == b"C" and self.typed is not None:
            self.typed = replace(self.typed, ran=True)
        elif mark != b"C":
            self._settle_typed(events)
            if mark == b"A":  # a new prompt: a typed line that never ran (Ctrl-C) is void
                self.typed = None
        session = self.session
        if mark == b"B" and self.reading:
            self.region_mark = base + match.end()
        elif mark == b"C" and session is not None and not session.command_ran:
            self.session = replace(session, command_ran=True)
        elif mark in (b"D", b"A") and session is not None and session.command_ran:
            self._end(where, events, at)

    def _on_argv0(self, word: bytes, where: int, events: list, at: float | None) -> None:
        """The shell's command word decides; the typed line adds the model flag and what argv0 cannot see."""
        self.argv0_marks = True
        typed, self.typed = self.typed, None
        if self.session is not None:
            return
        spec = BY_BINARY.get(word.decode("ascii", "replace"))  # any other word is dropped here
        # The mark follows C, so the command runs now and a later D/A is its end.
        if spec is not None and typed is not None and typed.agent == spec.name:
            self._start(spec.name, typed.model, typed.offset, events, typed.at, ran=True)
        elif spec is not None:
            self._start(spec.name, None, where, events, at, ran=True)
        elif typed is not None and not typed.direct:
            # `sudo claude`, `npx @openai/codex`, `cd app && gemini`: argv0 names only the line's first word.
            self._start(typed.agent, typed.model, typed.offset, events, typed.at, ran=True)

    def _settle_typed(self, events: list) -> None:
        """A line that ran and shows signs of life without its argv0 mark (bash sends none for a quoted or
        expanded word): the typed reading stands. A line still being continued (PS2) keeps waiting."""
        typed = self.typed
        if typed is None or not typed.ran:
            return
        self.typed = None
        if self.session is None:
            self._start(typed.agent, typed.model, typed.offset, events, typed.at, ran=True)

    def _open_input(self, start: int, opened_at: int, at: float | None) -> None:
        if self.reading:
            return
        self.reading, self.first_line = True, False
        self.region_start, self.region_opened_at, self.region_mark = start, opened_at, -1
        self.region_opened_time = at
        self.region_alt = self.alt_screen

    def _close_input(self, buf: bytes, base: int, end: int, where: int, events: list, at: float | None) -> None:
        if not self.reading:
            return
        self.reading = False
        if self.region_alt or self.alt_screen:
            return
        start, stop = self._line_bounds(buf, base, end)
        if self.region_mark >= 0:
            start = max(start, self.region_mark - base)
            looks_like_prompt, command = True, render_line(buf[start:stop]).strip()
        else:
            looks_like_prompt, command = split_prompt(render_line(buf[start:stop]), first_line=self.first_line)
        if looks_like_prompt and self.session is not None and not self.shell_marks:
            # The shell prompt came back when this input opened: that is when the agent exited.
            self._end(self.region_opened_at, events, self.region_opened_time)
        if command and self.session is None:
            launch = parse_launch(command)
            # A prompt with marks (B) from a shell that sends argv0 marks: the word comes right after C, wait for it.
            # A prompt without them (ssh to another host, a shell without the integration) is read as before.
            if self.argv0_marks and self.region_mark >= 0:
                self.typed = TypedLaunch(launch.spec.name, launch.model, where, at, launch.direct) if launch else None
            elif launch is not None:
                self._start(launch.spec.name, launch.model, where, events, at, ran=False)

    def _start(self, agent: str, model: str | None, where: int, events: list, at: float | None, *, ran: bool) -> None:
        self.session = OpenSession(agent, model, where, command_ran=ran)
        events.append(AgentStarted(agent, model, where, at))

    def _end(self, where: int, events: list, at: float | None) -> None:
        self.session = None
        events.append(AgentEnded(where, at))

    def _line_bounds(self, buf: bytes, base: int, end: int) -> tuple[int, int]:
        """Start and end index of the input line before ``end`` (a trailing newline is its Enter)."""
        low = max(0, self.region_start - base)
        stop = end
        while stop > low and buf[stop - 1] in (10, 13):
            stop -= 1
        newline = buf.rfind(b"\n", low, stop)
        return (low if newline < 0 else newline + 1), stop

    @staticmethod
    def _partial_escape_at(buf: bytes, scanned_to: int) -> int:
        """Index of an escape sequence cut off by the chunk's end, else len(buf)."""
        size = len(buf)
        index = buf.rfind(b"\x1b", max(scanned_to, size - _MAX_ESCAPE))
        if index >= 0 and _INCOMPLETE_ESCAPE_RE.fullmatch(buf, index):
            return index
        return size

    # -- agent output ----------------------------------------------------------------------------
    def _wants_output(self) -> bool:
        session = self.session
        return session is not None and not (session.model_from_output and session.missing_key)

    def _scan_output(self, buf: bytes, base: int, start: int, end: int, events: list, at: float | None, *, guard: bool) -> int:
        """Apply the running agent's fingerprints to ``buf[start:end]``; returns where to resume."""
        session = self.session
        models, missing = _fingerprints(session.agent)
        patterns = (() if session.model_from_output else models) + (() if session.missing_key else missing)
        found = sorted(
            (match.start(), match) for pattern in patterns for match in pattern.finditer(buf, start, end)
        )
        limit = end - _OUTPUT_GUARD
        for position, match in found:
            if guard and match.end() > limit:
                return position
            self._on_output(match, buf, base + position, events, at)
        return max(start, end - _OUTPUT_MAX_MATCH) if guard else end

    def _on_output(self, match: re.Match, buf: bytes, where: int, events: list, at: float | None) -> None:
        session = self.session
        groups = match.groupdict()
        if "missing" in groups:
            if not session.missing_key:
                self.session = replace(session, missing_key=True)
                events.append(MissingKeyDetected(where, at))
            return
        if session.model_from_output or not _word_starts_at(buf, match.start()):
            return
        if "family" in groups:
            version = groups["version"].decode().replace(".", "-")
            model = f"claude-{groups['family'].decode().lower()}-{version}"
        else:
            model = normalize_model((groups.get("labelled") or groups["bare"]).decode("ascii", "replace"))
            if model is None or model == "loading":
                return
            # A bare id has a version (`gemini-2.5-pro`); Gemini's "Authenticated with gemini-api-key" has none.
            if groups.get("bare") and not any(char.isdigit() for char in model):
                return
        self.session = replace(session, model=model, model_from_output=True)
        if model != session.model:
            events.append(ModelDetected(model, where, at))

    # -- persistence -----------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """JSON-safe state; the byte tail is masked down to allow-listed tokens (same length)."""
        state = {name: value for name, value in vars(self).items() if not name.startswith("_")}
        state["session"] = asdict(self.session) if self.session else None
        state["typed"] = asdict(self.typed) if self.typed else None
        state["tail"] = base64.b64encode(mask_tail(self._tail)).decode()
        state["scan_at"], state["output_at"] = self._scan_at, self._output_at
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Detector:
        detector = cls()
        fields = dict(state)
        session = fields.pop("session")
        typed = fields.pop("typed", None)  # absent in states saved before argv0 marks were read
        detector._tail = base64.b64decode(fields.pop("tail"))
        detector._scan_at, detector._output_at = fields.pop("scan_at"), fields.pop("output_at")
        for name, value in fields.items():
            if hasattr(detector, name):
                setattr(detector, name, value)
        detector.session = OpenSession(**session) if session else None
        detector.typed = TypedLaunch(**typed) if typed else None
        return detector


def _word_starts_at(buf: bytes, start: int) -> bool:
    """True when ``buf[start]`` begins a word on screen (an escape sequence before it separates too)."""
    if start == 0 or buf[start - 1] not in _WORD_BYTES:
        return True
    escape = buf.rfind(b"\x1b", max(0, start - 32), start)
    return escape >= 0 and _ESCAPE_RE.fullmatch(buf, escape, start) is not None


def _context_start(buf: bytes, position: int) -> int:
    """Where to keep bytes from so ``_word_starts_at(position)`` still works after the tail is masked."""
    escape = buf.rfind(b"\x1b", max(0, position - 32), position)
    return escape if escape >= 0 else max(0, position - 1)


@functools.cache
def _fingerprints(agent: str) -> tuple[tuple[re.Pattern, ...], tuple[re.Pattern, ...]]:
    """Compiled model prints and missing-key phrases of one agent (words may be drawn apart)."""
    spec = next(spec for spec in AGENTS if spec.name == agent)
    models = tuple(re.compile(source) for kind in spec.model_prints for source in _MODEL_PRINTS[kind])
    missing = tuple(
        re.compile(rb"(?P<missing>" + re.escape(phrase.encode()).replace(b"\\ ", _SEP) + rb")")
        for phrase in spec.missing_key_phrases
    )
    return models, missing


def mask_tail(tail: bytes) -> bytes:
    """``tail`` with every word outside the allow-list replaced by ``x``s; escapes keep their shape."""
    out = bytearray()
    position = 0
    for escape in _ESCAPE_RE.finditer(tail):
        out += _mask_text(tail[position : escape.start()])
        sequence = escape.group()
        out += sequence if sequence[1:2] == b"[" else sequence[:2] + _mask_text(sequence[2:])
        position = escape.end()
    out += _mask_text(tail[position:])
    return bytes(out)


def _mask_text(text: bytes) -> bytes:
    return _WORD_RE.sub(_mask_word, text)


def _mask_word(match: re.Match) -> bytes:
    word = match.group()
    if word[0] >= 0x80:
        decoded = word.decode("utf-8", "replace")
        return word if all(char in _KEEP_NON_ASCII for char in decoded) else b"\xff" * len(word)
    # Two characters say nothing about anyone, and shell marks (`133;D;0`) are made of them.
    if len(word) <= 2 or _KEEP_WORD_RE.fullmatch(word) or word.decode() in _KEEP_PREFIXES:
        return word
    dashes = len(word) - len(word.lstrip(b"-"))  # a masked flag stays a flag: launchers are read past flags
    return word[:dashes] + b"x" * (len(word) - dashes)
