"""The Kinesis record format for terminal output chunks (docs/usage-tracking.md)."""
from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from chalicelib.usage.errors import InvalidChunkError

FORMAT_VERSION = 1
MAX_CHUNK_BYTES = 512 * 1024  # base64 + envelope stay well under Kinesis' 1 MiB record limit
MAX_SESSION_ID = 128


@dataclass(frozen=True)
class TerminalChunk:
    """Bytes one terminal printed, with where they sit in its stream and when the proxy saw them."""

    terminal_session_id: str
    user_id: str
    project_id: str
    seq: int  # per-session record number, from 0; a repeat is a redelivery
    offset: int  # stream offset of data[0]; a jump means the producer dropped bytes
    at: datetime  # when the proxy received the first byte (UTC)
    data: bytes


def encode_chunk(chunk: TerminalChunk) -> bytes:
    """The record's Data blob: compact JSON with the bytes in base64."""
    return json.dumps(
        {
            "v": FORMAT_VERSION,
            "sid": chunk.terminal_session_id,
            "uid": chunk.user_id,
            "pid": chunk.project_id,
            "seq": chunk.seq,
            "off": chunk.offset,
            "ts": chunk.at.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "data": base64.b64encode(chunk.data).decode("ascii"),
        },
        separators=(",", ":"),
    ).encode()


def decode_chunk(blob: bytes) -> TerminalChunk:
    """Parse a record's Data blob; raises InvalidChunkError (naming no content) when malformed."""
    try:
        fields = json.loads(blob)
        if fields["v"] != FORMAT_VERSION:
            raise InvalidChunkError("unsupported terminal chunk version")
        session_id = fields["sid"]
        seq, offset = fields["seq"], fields["off"]
        if not (isinstance(session_id, str) and 0 < len(session_id) <= MAX_SESSION_ID):
            raise InvalidChunkError("bad terminal session id")
        if not (type(seq) is int and type(offset) is int and seq >= 0 and offset >= 0):
            raise InvalidChunkError("bad sequence number or offset")
        at = datetime.fromisoformat(fields["ts"].replace("Z", "+00:00"))
        if at.tzinfo is None:
            raise InvalidChunkError("chunk time has no time zone")
        return TerminalChunk(
            terminal_session_id=session_id,
            user_id=str(uuid.UUID(fields["uid"])),
            project_id=str(uuid.UUID(fields["pid"])),
            seq=seq,
            offset=offset,
            at=at.astimezone(timezone.utc),
            data=base64.b64decode(fields["data"], validate=True),
        )
    except InvalidChunkError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        # from None: the cause may quote the record, which is terminal output
        raise InvalidChunkError("malformed terminal chunk record") from None
