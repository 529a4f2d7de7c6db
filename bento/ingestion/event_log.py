"""A durable, append-only event log on local files: the embedded profile's event stream.

Format: lines ``<crc32 hex> <json>\\n`` in numbered segment files (a new one past ``segment_bytes``).
A record's offset is its 0-based position in the whole log, in append order; a user's events are
appended in the order they arrive, so reading by offset gives per-user order.

Fsync policy (why an acknowledgement means durable): ``append_many`` writes the batch with one
``write``, then ``flush`` and ``fsync`` of the segment, and only then records it in the dedup index
and returns. The returned ``AppendResult`` is the acknowledgement, so a client hears "accepted" only
for records on stable storage; the cost is one fsync per batch, which batching amortises. When a
segment file is created (first open, rotation) the directory is fsync'd too, so its name survives a
power loss. If a write or fsync fails the log refuses further appends until it is reopened: after a
failed fsync the page cache can no longer be trusted, and recovery re-checks every record.

Recovery: on open the writer re-reads every segment, rebuilding the dedup index (event id and the
natural key user|item|type|timestamp, so a client retry with a new id is counted once) and cutting a
torn last line (bad checksum or no newline: a crash mid-write); ``torn_bytes_cut`` reports it.
Before that it finishes an erasure a crash interrupted (``erasure``: tombstones keep every offset).

Concurrency: any number of writer processes per directory (the Recommender's workers). Each
append takes an exclusive ``flock`` for its batch, first indexes what other writers appended since
(its dedup index then knows their records too, so a retry that lands on another worker is still a
duplicate), cuts a torn tail a writer that died mid-write left, writes, fsyncs and lets go; offsets
are positions in the one shared file sequence, so every process agrees on them. Readers take no lock
and see complete lines only: ``read_events`` (everything, for archivers), ``EventLogReader`` (by
offset, for consumers in another process) and this class's own ``read``. Such a reader may see a
batch a moment before its fsync returns; a process crash keeps those records (the page cache
survives) and the client's retry is then a duplicate; only a power loss could take them back.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from bento.ingestion.erasure import apply_journal, compaction_lock, find_user_lines, write_journal
from bento.ingestion.segments import (
    GAP,
    SEGMENT_GLOB,
    TOMBSTONE,
    EventLogReader,
    OffsetIndex,
    encode_record,
    fsync_directory,
    list_segments,
    natural_key,
    read_events,
    record_span,
    scan_segment,
)

__all__ = [
    "SEGMENT_BYTES",
    "SEGMENT_GLOB",
    "AppendResult",
    "EventLog",
    "EventLogFailedError",
    "EventLogReader",
    "natural_key",
    "read_events",
]

SEGMENT_BYTES = 64 * 1024 * 1024

log = logging.getLogger(__name__)


class EventLogFailedError(RuntimeError):
    """A write or fsync failed: nothing more is appended until the log is reopened (and recovered)."""


@dataclass(frozen=True)
class AppendResult:
    event_id: str
    offset: int  # where the record is; for a duplicate, where the record it duplicates is
    duplicate: bool


class EventLog:
    """Many-writer (each batch under an exclusive file lock), many-reader event log."""

    def __init__(self, directory: Path | str, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self._mutex = threading.Lock()
        self._lock_file = open(self.directory / "writer.lock", "a+b")  # noqa: SIM115
        self._ids: dict[str, int] = {}
        self._keys: dict[str, int] = {}
        self._index = OffsetIndex()
        self._segment: Path | None = None  # how far this process has indexed: segment, byte position
        self._position = 0
        self._file: BinaryIO | None = None
        self._failed: BaseException | None = None
        with self._exclusive():
            with compaction_lock(self.directory):
                self.erasure_lines_replayed = apply_journal(self.directory)
            self.torn_bytes_cut = self._catch_up(cut_torn=True)
            if self._segment is None:
                self._segment = self._create_segment(0)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """The writers' lock on this directory, for one batch (or open, or an erasure)."""
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    def _create_segment(self, index: int) -> Path:
        path = self.directory / f"segment-{index:08d}.log"
        path.touch()
        fsync_directory(self.directory)
        return path

    def _catch_up(self, cut_torn: bool) -> int:
        """Index every intact line past what this process has seen (other writers' appends, or the
        whole log at open). With the lock held (``cut_torn``), a torn or corrupt tail is cut: only a
        writer that died mid-write leaves one, and nobody else is writing. Returns bytes cut."""
        cut = 0
        segments = list_segments(self.directory)
        if self._segment is not None and self._segment not in segments:
            raise EventLogFailedError(f"event log {self.directory}: segment {self._segment} vanished")
        later = [s for s in segments if self._segment is None or s >= self._segment]
        for segment in later:
            start = self._position if segment == self._segment else 0
            good = scan_segment(
                segment, start, lambda record, position, s=segment: self._remember(record, s, position)
            )
            self._segment, self._position = segment, good
            size = segment.stat().st_size
            if cut_torn and good < size:
                if segment != segments[-1]:  # crashes tear only the last segment: this is media damage
                    log.warning("corrupt record inside %s: cutting %d bytes after it", segment, size - good)
                cut += size - good
                with open(segment, "r+b") as handle:
                    handle.truncate(good)
                    os.fsync(handle.fileno())
            elif good < size:
                break  # a batch still being written: the rest comes on the next catch-up
        return cut

    def _remember(self, record: dict[str, Any], segment: Path, position: int) -> None:
        offset = self._index.count
        self._index.add(segment, position, record_span(record))
        if GAP in record:
            return
        if record.get("event_id") is not None:  # a tombstone keeps its id: a retry stays a duplicate
            self._ids.setdefault(record["event_id"], offset)
        if TOMBSTONE not in record:
            self._keys.setdefault(natural_key(record), offset)

    def is_duplicate(self, record: dict[str, Any]) -> bool:
        return record["event_id"] in self._ids or natural_key(record) in self._keys

    def append_many(self, records: list[dict[str, Any]]) -> list[AppendResult]:
        """Append records durably (one fsync for the batch); duplicates are acknowledged, not written."""
        results: list[AppendResult] = []
        with self._mutex, self._exclusive():
            if self._failed is not None:
                raise EventLogFailedError(f"event log {self.directory} failed earlier; reopen it") from (
                    self._failed
                )
            self._catch_up(cut_torn=True)  # other writers' records: offsets and dedup follow them
            new_ids: dict[str, int] = {}
            new_keys: dict[str, int] = {}
            lines: list[bytes] = []
            for record in records:
                event_id, key = record["event_id"], natural_key(record)
                seen = self._ids.get(event_id, new_ids.get(event_id))
                if seen is None:
                    seen = self._keys.get(key, new_keys.get(key))
                if seen is not None:
                    results.append(AppendResult(event_id, seen, True))
                    continue
                offset = self._index.count + len(lines)
                new_ids[event_id] = new_keys[key] = offset
                lines.append(encode_record(record))
                results.append(AppendResult(event_id, offset, False))
            if lines:
                self._write(lines)
                self._ids.update(new_ids)
                self._keys.update(new_keys)
                self._maybe_rotate()
        return results

    def _write(self, lines: list[bytes]) -> None:
        segment, position = self._segment, self._position
        assert segment is not None
        try:
            if self._file is None or self._file.name != str(segment):
                if self._file is not None:
                    self._file.close()
                self._file = open(segment, "ab")  # noqa: SIM115
            self._file.write(b"".join(lines))
            self._file.flush()
            os.fsync(self._file.fileno())
        except BaseException as error:
            self._failed = error
            raise
        for line in lines:  # only now are the records visible to read(): they are durable
            self._index.add(segment, position)
            position += len(line)
        self._position = position

    def append(self, record: dict[str, Any]) -> AppendResult:
        return self.append_many([record])[0]

    def read(self, from_offset: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` records from ``from_offset`` on, as (offset, record), every writer's."""
        with self._mutex:
            if from_offset + limit > self._index.count and self._failed is None:
                self._catch_up(cut_torn=False)
            return self._index.read(from_offset, limit)

    def end_offset(self) -> int:
        """The offset the next record will get (the number of records in the log, every writer's)."""
        with self._mutex:
            if self._failed is None:  # failed: only what it acknowledged until then
                self._catch_up(cut_torn=False)
            return self._index.count

    def erase_user(self, user_id: str) -> int:
        """Rewrite every record of ``user_id`` as a tombstone, in place (offsets unchanged); returns
        how many. Appends wait meanwhile; see ``erasure`` for why a crash leaves a readable log."""
        with self._mutex, self._exclusive(), compaction_lock(self.directory):
            if self._failed is not None:
                raise EventLogFailedError(f"event log {self.directory} failed earlier; reopen it")
            targets = find_user_lines(list_segments(self.directory), user_id)
            if not targets:
                return 0
            write_journal(self.directory, targets)
            apply_journal(self.directory)
            for target in targets:
                self._keys.pop(target.natural_key, None)
        return len(targets)

    def _maybe_rotate(self) -> None:
        """Past ``segment_bytes``, the next batch (this writer's or another's) starts a new segment."""
        assert self._segment is not None
        if self._position < self.segment_bytes:
            return
        self._segment = self._create_segment(int(self._segment.stem.split("-")[1]) + 1)
        self._position = 0

    def __len__(self) -> int:
        return self.end_offset()

    def close(self) -> None:
        if self._lock_file.closed:
            return
        if self._file is not None:
            self._file.close()
        self._lock_file.close()

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
