"""Replay a recorded terminal stream through the detector (or the real consumer) and print its agent sessions.

    python -m chalicelib.usage.replay FILE [--chunk-size N | --random-chunks SEED]
    python -m chalicelib.usage.replay FILE --ingest --user UUID --project UUID

FILE is raw terminal bytes or an asciicast v2 ``.cast`` (then times come from the cast). Prints one
JSON object per agent session: agent, model, missing_key, started_offset, ended_offset (and, for a
cast, started_at/ended_at in seconds).
"""
from __future__ import annotations

import argparse
import bisect
import json
import random
import sys
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from chalicelib.usage.detector import AgentEnded, AgentStarted, Detector, DetectorEvent, MissingKeyDetected, ModelDetected


@dataclass
class SessionSummary:
    agent: str
    model: str | None
    missing_key: bool
    started_offset: int
    ended_offset: int | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


def summarize(events: Iterable[DetectorEvent]) -> list[SessionSummary]:
    """Fold detector events into one summary per agent session, in order."""
    sessions: list[SessionSummary] = []
    current: SessionSummary | None = None
    for event in events:
        if isinstance(event, AgentStarted):
            current = SessionSummary(event.agent, event.model, False, event.offset)
            sessions.append(current)
        elif current is None:
            continue
        elif isinstance(event, ModelDetected):
            current.model = event.model
        elif isinstance(event, MissingKeyDetected):
            current.missing_key = True
        elif isinstance(event, AgentEnded):
            current.ended_offset = event.offset
            current = None
    return sessions


def detect(chunks: Iterable[bytes]) -> list[SessionSummary]:
    """Run a fresh detector over ``chunks`` (one stream, in order) to its end."""
    detector = Detector()
    events: list[DetectorEvent] = []
    for chunk in chunks:
        events += detector.feed(chunk)
    events += detector.finish()
    return summarize(events)


def fixed_chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def random_chunks(data: bytes, seed: int, max_size: int = 4096) -> Iterator[bytes]:
    """Cuts at random places (1..max_size bytes apart): inside escapes, UTF-8 characters, words."""
    rng = random.Random(seed)
    start = 0
    while start < len(data):
        size = rng.randint(1, max_size)
        yield data[start : start + size]
        start += size


@dataclass(frozen=True)
class Recording:
    data: bytes
    # For a cast: (stream offset, seconds since start) of each output event, for offset → time.
    times: list[tuple[int, float]] | None = None

    def seconds_at(self, offset: int) -> float | None:
        if not self.times:
            return None
        index = bisect.bisect_right([start for start, _ in self.times], offset) - 1
        return self.times[max(0, index)][1]


def load_recording(path: Path) -> Recording:
    """Raw bytes, or the output events of an asciicast v2 file."""
    raw = path.read_bytes()
    first_line = raw.split(b"\n", 1)[0]
    try:
        header = json.loads(first_line)
    except ValueError:
        header = None
    if not (isinstance(header, dict) and header.get("version") == 2):
        return Recording(raw)
    parts: list[bytes] = []
    times: list[tuple[int, float]] = []
    offset = 0
    for line in raw.splitlines()[1:]:
        if not line.strip():
            continue
        seconds, kind, text = json.loads(line)
        if kind != "o":
            continue
        chunk = text.encode("utf-8", "surrogateescape")
        times.append((offset, float(seconds)))
        parts.append(chunk)
        offset += len(chunk)
    return Recording(b"".join(parts), times)


def ingest(recording: Recording, chunks: Iterable[bytes], user_id: str, project_id: str) -> list[dict[str, Any]]:
    """Push the stream through the real consumer (record format, batch handler, configured store)."""
    from chalicelib.usage.records import TerminalChunk, encode_chunk

    session_id = f"replay-{uuid.uuid4()}"
    started = datetime.now(timezone.utc)
    records = []
    offset = 0
    for seq, chunk in enumerate(chunks):
        seconds = recording.seconds_at(offset) or 0.0
        at = started + timedelta(seconds=seconds)
        blob = encode_chunk(TerminalChunk(session_id, user_id, project_id, seq, offset, at, chunk))
        records.append(kinesis_record(blob, session_id, seq))
        offset += len(chunk)
    response = run_consumer(records)
    return [{"terminal_session_id": session_id, "records": len(records), **response}]


def kinesis_record(blob: bytes, partition_key: str, seq: int) -> dict[str, Any]:
    """A Lambda Kinesis event record around ``blob`` with a unique sequence number."""
    import base64

    return {
        "eventSource": "aws:kinesis",
        "eventID": f"shardId-000000000000:{seq:056d}",
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": f"{seq:056d}",
            "data": base64.b64encode(blob).decode(),
            "approximateArrivalTimestamp": 0.0,
        },
    }


def run_consumer(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Hand the records to the deployed handler code (app.py's Kinesis handler) in one batch."""
    from chalicelib import wiring

    return wiring.usage_ingestor().process_kinesis_event({"Records": records})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.usage.replay", description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path)
    chunking = parser.add_mutually_exclusive_group()
    chunking.add_argument("--chunk-size", type=int, metavar="N")
    chunking.add_argument("--random-chunks", type=int, metavar="SEED")
    parser.add_argument("--ingest", action="store_true", help="run the real consumer into the configured store")
    parser.add_argument("--user", type=uuid.UUID)
    parser.add_argument("--project", type=uuid.UUID)
    args = parser.parse_args(argv)
    if args.chunk_size is not None and args.chunk_size < 1:
        parser.error("--chunk-size must be at least 1")
    if args.ingest and not (args.user and args.project):
        parser.error("--ingest needs --user and --project")
    recording = load_recording(args.file)
    if args.chunk_size:
        chunks = list(fixed_chunks(recording.data, args.chunk_size))
    elif args.random_chunks is not None:
        chunks = list(random_chunks(recording.data, args.random_chunks))
    elif recording.times:
        ends = [start for start, _ in recording.times[1:]] + [len(recording.data)]
        chunks = [recording.data[start:end] for (start, _), end in zip(recording.times, ends)]
    else:
        chunks = [recording.data]
    if args.ingest:
        for line in ingest(recording, chunks, str(args.user), str(args.project)):
            print(json.dumps(line))
        return 0
    for session in detect(chunks):
        line = session.to_json()
        if recording.times:
            line["started_at"] = recording.seconds_at(session.started_offset)
            line["ended_at"] = None if session.ended_offset is None else recording.seconds_at(session.ended_offset)
        print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
