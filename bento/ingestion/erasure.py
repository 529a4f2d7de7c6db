"""Removing data from the local event log without moving any offset: tombstones and gaps.

Consumers address the log by offset (a record's position in the whole log), so nothing may shift:

- **Erasure** (forgetting a user) rewrites each of the user's lines *in place* as a tombstone of the
  same byte length (``{"_erased":1,"event_id":...}`` padded with spaces, with its own checksum). Byte
  positions, offsets and every other line stay as they were; the event id stays so a client retry
  of an erased event is still a duplicate, while everything personal (user, item, natural key) goes.
- **Retention** replaces a whole old segment by one gap line ``{"_gap":N}`` standing for its N offsets.

Crash safety: an erasure first writes a journal (every target: segment, position, tombstone line)
atomically (temp file, fsync, rename, fsync directory), then overwrites the lines, fsyncs the
segments and deletes the journal. A crash at any point leaves either no journal (nothing changed) or
a complete journal; the writer re-applies it on open *before* its recovery scan, so a line torn by a
power loss mid-overwrite is repaired rather than mistaken for a torn tail. After a process crash
(SIGKILL) the log is readable as it is: each line is the old record or its tombstone.

Erasure (in the writer) and retention (in a Dagster run) both hold ``compaction.lock`` while they
touch segments, so a journal is never applied to a segment retention has just replaced.
"""

from __future__ import annotations

import fcntl
import json
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bento.ingestion.segments import (
    GAP,
    TOMBSTONE,
    decode_line,
    encode_record,
    fsync_directory,
    natural_key,
    record_span,
)

JOURNAL = "erasure.journal"
LOCK = "compaction.lock"
NEWLINE = b"\n"


@dataclass(frozen=True)
class Target:
    """One line to overwrite: where it is and what goes there."""

    segment: str  # file name inside the log directory
    position: int
    line: bytes
    event_id: str | None
    natural_key: str


@contextmanager
def compaction_lock(directory: Path) -> Iterator[None]:
    """Exclusive (blocking) lock between erasure and retention on one log directory."""
    with open(directory / LOCK, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def tombstone_line(line: bytes, record: dict[str, Any]) -> bytes:
    """A tombstone exactly as long as ``line`` (JSON allows the trailing spaces that pad it)."""
    size = len(line) - 10  # "<crc32 hex> " before the body, "\n" after it
    for body in ({TOMBSTONE: 1, "event_id": record.get("event_id")}, {TOMBSTONE: 1}):
        text = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        if len(text) <= size:
            padded = text + b" " * (size - len(text))
            return encode_record_body(padded)
    raise ValueError(f"a record of {len(line)} bytes is too short to hold a tombstone")


def encode_record_body(body: bytes) -> bytes:
    """A log line around an already serialised body (the padded tombstone)."""
    return b"%08x " % zlib.crc32(body) + body + NEWLINE


def _lines(segment: Path) -> Iterator[tuple[int, bytes, dict[str, Any]]]:
    position = 0
    with open(segment, "rb") as handle:
        for line in handle:
            record = decode_line(line)
            if record is None:
                return
            yield position, line, record
            position += len(line)


def find_user_lines(segments: list[Path], user_id: str) -> list[Target]:
    """Every live line of ``user_id``, with its tombstone (a full scan: erasure is rare)."""
    targets: list[Target] = []
    for segment in segments:
        for position, line, record in _lines(segment):
            if TOMBSTONE in record or GAP in record or record.get("user_id") != user_id:
                continue
            targets.append(
                Target(
                    segment.name,
                    position,
                    tombstone_line(line, record),
                    record.get("event_id"),
                    natural_key(record),
                )
            )
    return targets


def write_journal(directory: Path, targets: list[Target]) -> None:
    entries = [[t.segment, t.position, t.line.decode()] for t in targets]
    path = directory / JOURNAL
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        handle.write(encode_record({"entries": entries}))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_directory(directory)


def _is_gap_segment(handle: Any) -> bool:
    handle.seek(0)
    first = decode_line(handle.readline())
    return first is not None and GAP in first


def apply_journal(directory: Path) -> int:
    """Finish an erasure a crash interrupted (idempotent); returns the lines it wrote."""
    path = directory / JOURNAL
    (directory / JOURNAL).with_suffix(".tmp").unlink(missing_ok=True)  # never renamed: nothing began
    if not path.exists():
        return 0
    journal = decode_line(path.read_bytes())
    if journal is None:  # cannot happen with an atomic rename; refuse to guess
        raise RuntimeError(f"{path} is unreadable; the erasure it describes must be re-run")
    by_segment: dict[str, list[tuple[int, bytes]]] = {}
    for segment, position, line in journal["entries"]:
        by_segment.setdefault(segment, []).append((int(position), line.encode()))
    written = 0
    for segment, lines in by_segment.items():
        written += _overwrite(directory / segment, lines)
    path.unlink()
    fsync_directory(directory)
    return written


def _overwrite(segment: Path, lines: list[tuple[int, bytes]]) -> int:
    if not segment.exists():
        return 0
    with open(segment, "r+b") as handle:
        if _is_gap_segment(handle):  # retention dropped the segment since: nothing left to erase
            return 0
        size = os.fstat(handle.fileno()).st_size
        written = 0
        for position, line in lines:
            if position + len(line) <= size:
                os.pwrite(handle.fileno(), line, position)
                written += 1
        os.fsync(handle.fileno())
    return written


def count_offsets(segment: Path) -> int:
    """How many offsets a segment holds (a gap line counts for its N)."""
    return sum(record_span(record) for _, _, record in _lines(segment))


def replace_with_gap(segment: Path) -> int:
    """Drop a segment's records, keeping its offsets: one gap line in its place. Returns bytes freed."""
    size = segment.stat().st_size
    line = encode_record({GAP: count_offsets(segment)})
    tmp = segment.with_suffix(".gap.tmp")
    with open(tmp, "wb") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, segment)
    fsync_directory(segment.parent)
    return size - len(line)
