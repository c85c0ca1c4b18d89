"""Detector behaviour on real recordings, under any chunking, and on the traps the issue lists."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.usage.detector import Detector
from chalicelib.usage.replay import SessionSummary, detect, summarize
from tests.conftest import RECORDINGS_DIR, SHARED

# The shipped fixtures, plus any recording in ../shared not copied into them yet (same name: the fixture wins).
RECORDINGS = sorted(
    {path.name: path for folder in (SHARED / "recordings", RECORDINGS_DIR) for path in folder.glob("*.raw")}.values()
)
KEY_SHAPED_RE = re.compile(rb"sk-ant-|sk-proj-|AIza")
PROMPT = b"\x1b[?2004hdev@ws:~/app$ "
ENTER = b"\r\n\x1b[?2004l\r"


def truth_of(recording: Path) -> dict:
    return json.loads(recording.with_suffix(".truth.json").read_text())


def assert_matches_truth(found: list[SessionSummary], truth: dict) -> None:
    assert [s.agent for s in found] == [s["agent"] for s in truth["sessions"]]
    for session, expected in zip(found, truth["sessions"]):
        if expected["model_re"] is not None:
            assert session.model is not None and re.search(expected["model_re"], session.model, re.I), session
        assert (session.ended_offset is not None) == expected["ended"]
        if "missing_key" in expected:
            assert session.missing_key == expected["missing_key"]


def run_with_cuts(data: bytes, cuts: list[int], *, persist: bool) -> list[SessionSummary]:
    """Feed ``data`` cut at ``cuts``; with ``persist``, restore the detector from its JSON state at every cut."""
    detector, events, previous = Detector(), [], 0
    for cut in [*sorted(set(cuts)), len(data)]:
        events += detector.feed(data[previous:cut])
        previous = cut
        if persist:
            detector = Detector.from_state(json.loads(json.dumps(detector.to_state())))
    return summarize(events + detector.finish())


def command(line: bytes) -> bytes:
    return PROMPT + line + ENTER


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda p: p.stem)
def test_recording_gives_its_truth(recording):
    assert_matches_truth(detect([recording.read_bytes()]), truth_of(recording))


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda p: p.stem)
def test_recording_holds_no_key_shaped_string(recording):
    assert KEY_SHAPED_RE.search(recording.read_bytes()) is None


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda p: p.stem)
def test_recording_gives_its_truth_byte_by_byte(recording):
    data = recording.read_bytes()
    assert detect(data[i : i + 1] for i in range(len(data))) == detect([data])


@settings(max_examples=60, deadline=None)
@given(data=st.data(), persist=st.booleans())
def test_any_cuts_and_state_round_trips_give_the_same_sessions(data, persist):
    recording = data.draw(st.sampled_from(RECORDINGS), label="recording")
    raw = recording.read_bytes()
    cuts = data.draw(st.lists(st.integers(1, len(raw) - 1), max_size=80), label="cuts")
    found = run_with_cuts(raw, cuts, persist=persist)
    assert found == detect([raw])
    assert_matches_truth(found, truth_of(recording))


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(
        st.sampled_from([
            b"claude --model=opus", b"codex -m gpt-5.5", b"echo claude", b"ls -la", b"gemini", b"aider -m 'fix it'",
            b"\x1b[?1049hcodex\x1b[?1049l", b"Sonnet\x1b[1C4.6 \xe2\x94\x82 Missing\x1b[1CAPI key",
            b"\xe2\x9d\xaf caf\xc3\xa9 \x1b]0;\xe2\x9c\xb3 title\x07", b"\x1b]133;C\x07", b"\x1b]133;D;0\x07",
            b"\x1b]133;C\x07\x1b]6973;argv0=codex\x07", b"\x1b]6973;argv0=claudette\x07", b"\x1b]6973;argv0=claude\x07",
        ]),
        max_size=12,
    ),
    cuts=st.lists(st.integers(0, 10_000), max_size=40),
)
def test_synthetic_streams_do_not_depend_on_cuts(lines, cuts):
    raw = b"".join(command(line) + b"output " + line + b"\r\n" for line in lines)
    in_range = [cut for cut in cuts if 0 < cut < len(raw)]
    assert run_with_cuts(raw, in_range, persist=True) == run_with_cuts(raw, in_range, persist=False) == detect([raw])


@pytest.mark.parametrize(
    "typed",
    [b"echo claude", b"printf 'run claude --model x\\n'", b"claudette 2>/dev/null", b"export X=claude",
     b"cat notes.md", b"# claude"],
)
def test_mentions_are_not_launches(typed):
    assert detect([command(typed) + b"claude is great\r\n" + PROMPT]) == []


def test_heredoc_body_is_not_a_launch():
    stream = command(b"cat <<'EOF'") + b"\x1b[?2004h> claude" + ENTER + b"\x1b[?2004h> EOF" + ENTER + b"claude\r\n"
    assert detect([stream + PROMPT]) == []


def test_text_printed_by_a_program_is_not_a_launch():
    listing = b"dev@ws:~/app$ claude --model opus\r\n"  # a prompt-looking line inside a file being printed
    assert detect([command(b"cat transcript.txt") + listing + PROMPT]) == []


@pytest.mark.parametrize(
    ("typed", "agent", "model"),
    [
        (b'claude "fix the login bug"', "claude", None),
        (b"claude --model=claude-opus-4-6", "claude", "claude-opus-4-6"),
        (b"codex -m gpt-5.5", "codex", "gpt-5.5"),
        (b"aider -m 'fix the login bug'", "aider", None),  # aider's -m is a message
        (b"ANTHROPIC_MODEL=x /usr/local/bin/claude --model sonnet", "claude", "sonnet"),
        (b"cd app && gemini --model gemini-2.5-flash", "gemini", "gemini-2.5-flash"),
        (b"npx -y @anthropic-ai/claude-code@latest", "claude", None),
        (b"clx\x08\x1b[Kaude", "claude", None),  # typed, corrected with backspace
    ],
)
def test_launch_word_and_model_flag(typed, agent, model):
    [session] = detect([command(typed)])
    assert (session.agent, session.model, session.ended_offset) == (agent, model, None)


def test_model_the_agent_prints_wins_over_the_flag_and_cursor_moves_are_spaces():
    banner = b"\x1b[?2026h Claude\x1b[1CCode\x1b[1Cv2.1.0\r\n\x1b[38;5;246mOpus\x1b[1C4.6\x1b[1C(1M\x1b[1Ccontext)\x1b[?2026l\r\n"
    [session] = detect([command(b"claude --model sonnet") + banner])
    assert session.model == "claude-opus-4-6"


def test_codex_header_model_skips_loading():
    frames = b"\x1b[?1049h\x1b[3;3Hmodel:\x1b[3;14Hloading\x1b[3;3Hmodel:\x1b[3;14Hgpt-5.6-terra medium\x1b[?1049l"
    [session] = detect([command(b"codex") + frames])
    assert session.model == "gpt-5.6-terra"


def test_missing_key_footer_is_reported():
    footer = b"\x1b[38;5;131mMissing\x1b[1CAPI\x1b[1Ckey\x1b[1C\xc2\xb7\x1b[1CRun\x1b[1C/login\x1b[39m\r\n"
    [session] = detect([command(b"claude") + footer])
    assert session.missing_key


def test_osc133_marks_end_the_agent_at_d_and_ignore_a_bare_d():
    def marked(line: bytes) -> bytes:
        return b"\x1b]133;A\x07$ \x1b]133;B\x07" + line + b"\r\n\x1b[?2004l\r\x1b]133;C\x07"

    stream = (
        b"\x1b]133;D\x07" + b"\x1b[?2004h" + marked(b"gemini") + b"working\r\n" + b"\x1b]133;D;0\x07"
        + b"\x1b[?2004h\x1b]133;A\x07$ \x1b]133;B\x07"
    )
    [session] = detect([stream])
    assert session.ended_offset == stream.index(b"\x1b]133;D;0")


def test_kitty_style_marks_without_d_end_at_the_next_prompt_mark():
    stream = (b"\x1b[?2004h\x1b]133;A\x07$ \x1b]133;B\x07claude\r\n\x1b[?2004l\x1b]133;C\x07tui\r\n"
              b"\x1b]133;A\x07$ ")
    [session] = detect([stream])
    assert session.ended_offset == stream.rindex(b"\x1b]133;A")


def test_plain_prompt_return_ends_the_agent_and_agent_line_editors_do_not():
    tui = b"\x1b[?2004h\xe2\x9d\xaf\xc2\xa0hello\r\n\x1b[?2004l"  # the agent's own input box
    stream = command(b"claude") + tui + b"bye\r\n" + command(b"ls")
    [session] = detect([stream])
    assert session.ended_offset == stream.rindex(PROMPT)


def test_persisted_state_keeps_only_allow_listed_tokens(canary_key):
    secret = canary_key("anthropic")
    tail = f"claude \"fix the login bug\" alice@example.com {secret}".encode()
    detector = Detector()
    detector.feed(PROMPT + tail)
    state = json.dumps(detector.to_state())
    detector2 = Detector.from_state(json.loads(state))
    restored = detector2._tail  # the bytes it would keep working on
    # Words of the allow-listed fingerprint phrases ("login", "the") may stay; nothing else does.
    for leaked in (b"fix the login bug", b"fix", b"bug", b"alice", b"example", secret.encode(), b"dev@ws", b"app"):
        assert leaked not in restored
    assert b"claude" in restored  # allow-listed: still recognisable when the Enter arrives
    [session] = summarize(detector2.feed(ENTER))
    assert session.agent == "claude"


# -- the base image's OSC 6973 argv0 mark ------------------------------------------------------------------------

MARKED_PROMPT = b"\x1b[?2004h\x1b]133;A\x07dev@ws:~/app$ \x1b]133;B\x07"


def shell_line(typed: bytes, argv0: bytes | None, output: bytes = b"", status: int = 0) -> bytes:
    """One command line as the image's bash integration sends it: A, B, typed echo, C, argv0 mark, output, D."""
    mark = b"" if argv0 is None else b"\x1b]6973;argv0=" + argv0 + b"\x07"
    return (MARKED_PROMPT + typed + b"\r\n\x1b[?2004l\r\x1b]133;C\x07" + mark + output
            + b"\x1b]133;D;%d\x07" % status)


TUI = b"\x1b[?25l\x1b[?2004h\x1b[1mworking\x1b[22m\r\n\x1b[?2004l"  # an agent's own line editor, as Claude draws it
# (typed line, argv0 the shell reports or None when bash sends none, agent a user ran or None)
MARKED_LINES = [
    (b"claude --model opus", b"claude", "claude"),
    (b"cc", b"claude", "claude"),  # an alias: only argv0 can see it
    (b"sudo -E codex -m gpt-5.5", b"sudo", "codex"),  # argv0 names the launcher, the typed line the agent
    (b"cd app && gemini", b"cd", "gemini"),
    (b'"claude" --model opus', None, "claude"),  # bash reports no quoted word: the typed reading stands
    (b"echo claude", b"echo", None),
    (b"claudette --model x", b"claudette", None),
    (b"cat notes.md", b"cat", None),
    (b"ls -la", b"ls", None),
]


def test_argv0_confirms_the_typed_agent_and_keeps_its_model_flag():
    first = shell_line(b"ls", b"ls")
    stream = first + shell_line(b"claude --model opus", b"claude", TUI) + MARKED_PROMPT
    [session] = detect([stream])
    assert (session.agent, session.model) == ("claude", "opus")
    assert session.started_offset == stream.index(b"\x1b[?2004l", len(first))  # the Enter, as without marks
    assert session.ended_offset == stream.index(b"\x1b]133;D", len(first))


def test_argv0_starts_an_agent_the_typed_line_does_not_show():
    stream = shell_line(b"ls", b"ls") + shell_line(b"cc", b"claude", TUI) + MARKED_PROMPT
    [session] = detect([stream])
    assert (session.agent, session.model) == ("claude", None)
    assert session.started_offset == stream.index(b"\x1b]6973;argv0=claude")


def test_argv0_inside_tmux_where_the_typed_line_is_a_redraw_on_the_alternate_screen():
    """tmux draws the pane on the outer alternate screen and re-sends modes after each passed-through mark."""
    after_mark = b"\x1b(B\x1b[m\x1b[?12l\x1b[?25h\x1b[?1000l\x1b[?2004l\x1b[1;1H\x1b[1;45r"
    stream = (
        b"\x1b[?1049h\x1b[H\x1b[2J\x1b]133;A\x07" + after_mark + b"\x1b]133;B\x07" + after_mark
        + b"\x1b[2;1Haether-test$ \x1b[?2004hclaude\x1b]133;C\x07" + after_mark
        + b"\x1b]6973;argv0=claude\x07" + after_mark
        + b"\x1b[3;1H\x1b[?2004h\x1b[38;5;246mOpus\x1b[C5.5\x1b[C\xc2\xb7\x1b[CAPI" + b"\x1b[?2004l"
        + b"\x1b]133;D;0\x07" + after_mark + b"\x1b]133;A\x07"
    )
    [session] = detect([stream])
    assert (session.agent, session.model) == ("claude", "claude-opus-5-5")
    assert session.ended_offset == stream.index(b"\x1b]133;D;0")


def test_argv0_overrules_the_typed_reading_of_the_command_word():
    # The echo is only a reading of the screen; the shell says what ran.
    stream = shell_line(b"ls", b"ls") + shell_line(b"claude", b"vim", TUI) + MARKED_PROMPT
    assert detect([stream]) == []


def test_a_prompt_without_marks_after_argv0_marks_is_read_as_before():
    """`ssh` to a host whose shell sends no marks: its typed lines still count, without waiting for argv0."""
    remote = command(b"claude --model opus") + TUI + b"bye\r\n" + command(b"exit")
    stream = MARKED_PROMPT + b"ssh build\r\n\x1b[?2004l\r\x1b]133;C\x07\x1b]6973;argv0=ssh\x07" + remote
    [session] = detect([stream + b"\x1b]133;D;0\x07" + MARKED_PROMPT])
    assert (session.agent, session.model) == ("claude", "opus")
    assert session.started_offset == stream.index(b"\x1b[?2004l", stream.index(b"claude --model"))


@pytest.mark.parametrize(("typed", "argv0", "agent"), MARKED_LINES, ids=lambda v: str(v))
def test_marked_lines_start_exactly_the_agents_that_ran(typed, argv0, agent):
    output = TUI if agent else b"claude --model x\r\n"  # decoys print agent names too
    stream = shell_line(b"true", b"true") + shell_line(typed, argv0, output) + MARKED_PROMPT
    assert [(s.agent, s.ended_offset is not None) for s in detect([stream])] == ([(agent, True)] if agent else [])


@settings(max_examples=80, deadline=None)
@given(
    lines=st.lists(st.sampled_from(MARKED_LINES), max_size=10),
    tmux=st.booleans(),
    persist=st.booleans(),
    data=st.data(),
)
def test_marked_streams_give_the_agents_that_ran_under_any_cuts(lines, tmux, persist, data):
    raw = (b"\x1b[?1049h" if tmux else b"") + b"".join(
        shell_line(typed, argv0, TUI if agent else b"claude\r\n") for typed, argv0, agent in lines
    ) + MARKED_PROMPT
    cuts = data.draw(st.lists(st.integers(1, len(raw) - 1), max_size=60), label="cuts")
    found = run_with_cuts(raw, cuts, persist=persist)
    assert found == detect([raw])
    # In tmux only argv0 is readable: launchers, compound lines and quoted words are not seen there.
    expected = [agent for typed, argv0, agent in lines if agent and (not tmux or argv0 == agent.encode())]
    assert [s.agent for s in found] == expected
    assert all(s.ended_offset is not None for s in found)


def test_state_keeps_no_argv0_word_that_is_not_an_agent():
    detector = Detector()
    detector.feed(shell_line(b"ls", b"ls") + MARKED_PROMPT + b"./deploy-prod\r\n\x1b[?2004l\r\x1b]133;C\x07"
                  + b"\x1b]6973;argv0=deploy-pr")
    state = json.dumps(detector.to_state())
    assert "deploy" not in state and "deploy" not in Detector.from_state(json.loads(state))._tail.decode()
