"""The local event log's on-disk format, offset index and lock-free readers.

Shared by the writer (``event_log.EventLog``) and readers in other processes. A segment is lines
``<crc32 hex> <json>\n``; a line that is torn (no newline) or fails its checksum ends the intact
part of its segment. See ``event_log`` for the fsync policy and recovery.

Two kinds of marker line keep offsets valid when data is removed (``erasure``): a tombstone
``{"_erased":1,...}`` replaces one erased record in place (same length, so byte positions hold), and a
gap ``{"_gap":N}`` is the whole content of a segment dropped by retention (it stands for N offsets).
Readers index markers like records but never return them.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from bisect import bisect_right
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

SEGMENT_GLOB = "segment-*.log"
MARK_STRIDE = 1024  # one offset → file-position mark per this many records: a read skips < this many lines
TOMBSTONE = "_erased"
GAP = "_gap"

log = logging.getLogger(__name__)


def natural_key(record: dict[str, Any]) -> str:
    return "|".join(str(record.get(k)) for k in ("user_id", "item_id", "event_type", "timestamp"))


def is_marker(record: dict[str, Any]) -> bool:
    """A tombstone or a gap: indexed for offsets, never returned to readers."""
    return TOMBSTONE in record or GAP in record


def record_span(record: dict[str, Any]) -> int:
    """How many offsets a line stands for: a gap N, anything else 1."""
    return int(record.get(GAP, 1))


def encode_record(record: dict[str, Any]) -> bytes:
    body = json.dumps(record, separators=(",", ":"), sort_keys=True).encode()
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def decode_line(line: bytes) -> dict[str, Any] | None:
    if len(line) < 10 or not line.endswith(b"\n") or line[8:9] != b" ":
        return None
    body = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        return json.loads(body)
    except ValueError:
        return None


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def list_segments(directory: Path) -> list[Path]:
    return sorted(directory.glob(SEGMENT_GLOB))


def scan_segment(segment: Path, position: int, on_record: Callable[[dict[str, Any], int], None]) -> int:
    """Call ``on_record(record, byte position)`` for each intact line from ``position``; return where
    the intact lines end (the first torn or corrupt line stops the scan)."""
    with open(segment, "rb") as handle:
        handle.seek(position)
        for line in handle:
            record = decode_line(line)
            if record is None:
                break
            on_record(record, position)
            position += len(line)
    return position


def _read_segment(segment: Path, position: int, skip: int, count: int) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    with open(segment, "rb") as handle:
        handle.seek(position)
        for line in handle:
            if skip:
                skip -= 1
                continue
            record = decode_line(line)
            if record is None:
                break
            records.append(record)
            if len(records) == count:
                break
    return records


class OffsetIndex:
    """Sparse map offset → (segment, byte position): a mark at each segment's first record and every
    ``MARK_STRIDE`` records, so reading from any offset seeks close and skips few lines. A gap line
    (a dropped segment) gets its own mark spanning its N offsets."""

    def __init__(self) -> None:
        self.offsets: list[int] = []
        self.places: list[tuple[Path, int]] = []
        self.gaps: dict[int, int] = {}  # mark index → offsets a gap spans
        self.count = 0

    def add(self, segment: Path, position: int, span: int = 1) -> None:
        if span != 1 or self.count % MARK_STRIDE == 0 or self.places[-1][0] != segment:
            if span != 1:
                self.gaps[len(self.offsets)] = span
            self.offsets.append(self.count)
            self.places.append((segment, position))
        self.count += span

    def read(self, from_offset: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` live records from ``from_offset`` on; markers are skipped, not counted, so
        a run of erased records never looks like the end of the log to a consumer."""
        if from_offset < 0 or limit < 0:
            raise ValueError(f"from_offset and limit must be >= 0, got {from_offset}, {limit}")
        out: list[tuple[int, dict[str, Any]]] = []
        offset = from_offset
        while offset < self.count and len(out) < limit:
            i = bisect_right(self.offsets, offset) - 1
            if i in self.gaps:
                offset = self.offsets[i] + self.gaps[i]
                continue
            segment, position = self.places[i]
            want = min(self.count - offset, limit - len(out))
            got = _read_segment(segment, position, offset - self.offsets[i], want)
            if not got:  # the file changed under us (cut by a recovering writer); the caller retries
                break
            out.extend((o, r) for o, r in enumerate(got, start=offset) if not is_marker(r))
            offset += len(got)
        return out


class EventLogReader:
    """Reads a local log by offset without the writer lock: for consumers outside the writer process.

    It indexes what the writer has flushed so far and picks up new lines (and segments) on demand."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self._reset()

    def _reset(self) -> None:
        self._index = OffsetIndex()
        self._segment: Path | None = None
        self._position = 0

    def refresh(self) -> int:
        segments = list_segments(self.directory)
        if self._segment is not None and (
            self._segment not in segments or self._segment.stat().st_size < self._position
        ):
            log.warning("event log %s shrank under its reader (power loss?); re-indexing", self.directory)
            self._reset()
        if not segments:
            return 0
        if self._segment is None:
            self._segment = segments[0]
        while True:
            segment = self._segment
            self._position = scan_segment(
                segment,
                self._position,
                lambda record, position, s=segment: self._index.add(s, position, record_span(record)),
            )
            later = [s for s in segments if s > segment]
            if not later:
                return self._index.count
            self._segment, self._position = later[0], 0

    def read(self, from_offset: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        if from_offset + limit > self._index.count:
            self.refresh()
        return self._index.read(from_offset, limit)

    def end_offset(self) -> int:
        return self.refresh()

    def close(self) -> None:
        """Nothing to release: a reader holds no lock and no open file."""


def read_events(directory: Path | str) -> Iterator[dict[str, Any]]:
    """Every intact record in log order, without taking the writer lock (for archivers)."""
    for segment in list_segments(Path(directory)):
        with open(segment, "rb") as handle:
            for line in handle:
                record = decode_line(line)
                if record is None:
                    break
                if not is_marker(record):
                    yield record
