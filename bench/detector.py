"""Usage detector throughput on a ≥50 MB terminal corpus vs a naive strip-then-regex baseline and one bare `re`
pass for OSC 133; plus the publisher's cost per chunk on the caller's thread."""
from __future__ import annotations

import queue
import random
import re
import time
import uuid

from chalicelib.usage.detector import Detector
from chalicelib.usage.ports import OutgoingRecord
from chalicelib.usage.publisher import TerminalChunkPublisher
from chalicelib.usage.replay import random_chunks
from tests.conftest import RECORDINGS_DIR

CORPUS_MB = 56
RUNS = 3
# The tokenizer from notes/terminal-detection.md, used by the naive baseline.
ANSI_RE = re.compile(rb"""
 \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)
|\x1b[P^_X][^\x1b]*\x1b\\
|\x1b\[[0-?]*[ -/]*[@-~]
|\x1b[ -/]*[0-~]
|\x9b[0-?]*[ -/]*[@-~]
""", re.X)
NAIVE_LINE_RE = re.compile(
    r"(?:^|[$#] )(claude|codex|gemini|aider)\b|(Opus|Sonnet|Haiku) (\d+(?:\.\d+)?)|model: +(\S+)|Missing API key"
)
OSC133_RE = re.compile(rb"\x1b\]133;")


def _agent_frame(rng: random.Random, width: int = 118) -> bytes:
    """One Claude-Code-like redraw: synchronized output, CUU/EL repaint, CHA-placed words, truecolor, boxes."""
    words = [b"Reading", b"src/app.py", b"Edited", b"tests", b"\xe2\x9c\xbb", b"Thinking\xe2\x80\xa6", b"\xe6\x96\x87\xe5\xad\x97",
             b"def", b"handler(event):", b"return", b"42", b"\xe2\x94\x82", b"+", b"-", b"lines"]
    rows = []
    for row in range(rng.randint(6, 14)):
        column, cells = 3, []
        while column < width - 12:
            word = rng.choice(words)
            cells.append(b"\x1b[%dG\x1b[38;2;%d;%d;%dm%s" % (column, rng.randrange(256), 120, 200, word))
            column += len(word) + rng.randint(1, 3)
        rows.append(b"\x1b[2K" + b"".join(cells) + b"\x1b[39m\r\r\n")
    box = b"\x1b[38;5;244m" + b"\xe2\x94\x80" * width + b"\x1b[39m\r\r\n"
    return b"\x1b[?2026h\x1b[%dA" % len(rows) + box + b"".join(rows) + box + b"\x1b[?2026l"


def _build_log(rng: random.Random, lines: int) -> bytes:
    out = []
    for i in range(lines):
        kind = rng.random()
        if kind < 0.4:
            out.append(b"-rw-r--r-- 1 dev dev %6d Dec  3 16:%02d module_%d.py\r\n" % (rng.randrange(99999), i % 60, i))
        elif kind < 0.8:
            out.append(b"[%3d%%] \x1b[32mBuilding C object src/CMakeFiles/core.dir/file_%d.c.o\x1b[0m\r\n" % (i % 100, i))
        else:
            out.append(b"\x1b[1;33mwarning:\x1b[0m unused variable 'tmp_%d' [-Wunused-variable]\r\n" % i)
    return b"".join(out)


def build_corpus(megabytes: int = CORPUS_MB, seed: int = 1) -> bytes:
    """Recordings plus filler: long agent TUI sessions with shell marks, `ls`/build output, mentions of agents."""
    rng = random.Random(seed)
    recordings = [path.read_bytes() for path in sorted(RECORDINGS_DIR.glob("*.raw"))]
    prompt = b"\x1b]133;D;0\x07\x1b[?2004h\x1b]133;A\x07dev@ws:~/app$ \x1b]133;B\x07"
    enter = b"\r\n\x1b[?2004l\r\x1b]133;C\x07"
    parts, size = [], 0
    while size < megabytes * 1_000_000:
        agent = rng.choice([b"claude", b"codex -m gpt-5.5", b"gemini"])
        session = [prompt, agent, enter, b"\x1b[?2004h \x1b[38;5;246mSonnet\x1b[1C4.5\x1b[1C\xc2\xb7\x1b[1CAPI\x1b[1CUsage\r\n"]
        session += [_agent_frame(rng) for _ in range(rng.randint(200, 600))]
        session += [b"\x1b[?2004l", prompt, b"make -j8", enter, _build_log(rng, rng.randint(500, 3000))]
        session += [prompt, b"echo claude", enter, b"claude\r\n", rng.choice(recordings)]
        part = b"".join(session)
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _best_mb_per_s(run, size: int) -> float:
    best = float("inf")
    for _ in range(RUNS):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return size / best / 1e6


def _detector(chunks: list[bytes]) -> int:
    detector, events = Detector(), 0
    for chunk in chunks:
        events += len(detector.feed(chunk))
    return events + len(detector.finish())


def _naive(corpus: bytes) -> int:
    text = ANSI_RE.sub(b"", corpus).decode("utf-8", "replace")
    return sum(1 for line in text.splitlines() if NAIVE_LINE_RE.search(line))


class _NullSink:
    def put_records(self, records: list[OutgoingRecord]) -> list[bool]:
        return [True] * len(records)


def _publisher_us_per_chunk(chunks: list[bytes]) -> tuple[float, float, int]:
    """(µs per publish() on the caller's thread, µs per chunk until everything is encoded and sent, drops)."""
    publisher = TerminalChunkPublisher(_NullSink(), max_queued_chunks=len(chunks), linger_seconds=0.01)
    session, user, project = f"bench-{uuid.uuid4()}", str(uuid.uuid4()), str(uuid.uuid4())
    start = time.perf_counter()
    for chunk in chunks:
        publisher.publish(session, user, project, chunk)
    caller = time.perf_counter() - start
    publisher.flush()
    total = time.perf_counter() - start
    publisher.close()
    return caller / len(chunks) * 1e6, total / len(chunks) * 1e6, publisher.dropped_chunks


def _bare_queue_us(chunks: list[bytes]) -> float:
    bare: queue.Queue = queue.Queue(maxsize=len(chunks))
    start = time.perf_counter()
    for chunk in chunks:
        bare.put_nowait(chunk)
    return (time.perf_counter() - start) / len(chunks) * 1e6


def main() -> None:
    corpus = build_corpus()
    size = len(corpus)
    chunks = list(random_chunks(corpus, seed=2, max_size=4096))
    print(f"usage detector: {size / 1e6:.1f} MB corpus (recordings + agent TUI frames + build logs), "
          f"{len(chunks)} random chunks of 1-4096 bytes, best of {RUNS}, one core")
    events = _detector(chunks)
    detector_speed = _best_mb_per_s(lambda: _detector(chunks), size)
    naive_speed = _best_mb_per_s(lambda: _naive(corpus), size)
    osc_speed = _best_mb_per_s(lambda: len(OSC133_RE.findall(corpus)), size)
    print(f"  detector (streaming, {events} events)        {detector_speed:8.1f} MB/s")
    print(f"  naive: strip ANSI, then regex each line       {naive_speed:8.1f} MB/s   detector is {detector_speed / naive_speed:5.1f}x")
    print(f"  one re pass for ESC]133; (whole buffer)       {osc_speed:8.1f} MB/s   detector is {detector_speed / osc_speed:5.2f}x of it")
    sample = chunks[:200_000]
    caller_us, total_us, dropped = _publisher_us_per_chunk(sample)
    bare_us = _bare_queue_us(sample)
    print(f"  publisher.publish() on the caller's thread    {caller_us:8.2f} µs/chunk   (bare Queue.put_nowait {bare_us:.2f} µs)")
    print(f"  publisher incl. background encode + send      {total_us:8.2f} µs/chunk   ({len(sample)} chunks, {dropped} dropped)")


if __name__ == "__main__":
    main()
