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

Concurrency: one writer process per directory (a non-blocking ``flock``; a second writer gets
``EventLogBusyError``). Readers take no lock and see complete lines only: ``read_events`` (everything,
for archivers) and ``EventLogReader`` (by offset, for consumers in another process). Such a reader may
see a batch a moment before its fsync returns; a process crash keeps those records (the page cache
survives) and the client's retry is then a duplicate; only a power loss could take them back.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    "EventLogBusyError",
    "EventLogFailedError",
    "EventLogReader",
    "natural_key",
    "read_events",
]

SEGMENT_BYTES = 64 * 1024 * 1024

log = logging.getLogger(__name__)


class EventLogBusyError(RuntimeError):
    pass


class EventLogFailedError(RuntimeError):
    """A write or fsync failed: nothing more is appended until the log is reopened (and recovered)."""


@dataclass(frozen=True)
class AppendResult:
    event_id: str
    offset: int  # where the record is; for a duplicate, where the record it duplicates is
    duplicate: bool


class EventLog:
    """Single-writer (guarded by an exclusive file lock), many-reader event log."""

    def __init__(self, directory: Path | str, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.segment_bytes = segment_bytes
        self._mutex = threading.Lock()
        self._lock_file = open(self.directory / "writer.lock", "a+b")  # noqa: SIM115
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            self._lock_file.close()
            raise EventLogBusyError(
                f"event log {self.directory} already has a writer; the embedded log takes one writer "
                "process (run one Recommender worker, or use the Redis Streams backend)"
            ) from error
        self._ids: dict[str, int] = {}
        self._keys: dict[str, int] = {}
        self._index = OffsetIndex()
        self._failed: BaseException | None = None
        with compaction_lock(self.directory):
            self.erasure_lines_replayed = apply_journal(self.directory)
        self.torn_bytes_cut = self._recover()
        segments = list_segments(self.directory)
        self._segment = segments[-1] if segments else self._create_segment(0)
        self._file = open(self._segment, "ab")  # noqa: SIM115

    def _create_segment(self, index: int) -> Path:
        path = self.directory / f"segment-{index:08d}.log"
        path.touch()
        fsync_directory(self.directory)
        return path

    def _recover(self) -> int:
        """Rebuild the dedup and offset indexes and cut a torn tail left by a crash mid-write."""
        cut = 0
        segments = list_segments(self.directory)
        for segment in segments:
            good = scan_segment(
                segment, 0, lambda record, position, s=segment: self._remember(record, s, position)
            )
            size = segment.stat().st_size
            if good < size:
                if segment != segments[-1]:  # crashes tear only the last segment: this is media damage
                    log.warning("corrupt record inside %s: cutting %d bytes after it", segment, size - good)
                cut += size - good
                with open(segment, "r+b") as handle:
                    handle.truncate(good)
                    os.fsync(handle.fileno())
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
        with self._mutex:
            if self._failed is not None:
                raise EventLogFailedError(f"event log {self.directory} failed earlier; reopen it") from (
                    self._failed
                )
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
        position = self._file.tell()
        try:
            self._file.write(b"".join(lines))
            self._file.flush()
            os.fsync(self._file.fileno())
        except BaseException as error:
            self._failed = error
            raise
        for line in lines:  # only now are the records visible to read(): they are durable
            self._index.add(self._segment, position)
            position += len(line)

    def append(self, record: dict[str, Any]) -> AppendResult:
        return self.append_many([record])[0]

    def read(self, from_offset: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` acknowledged records from ``from_offset`` on, as (offset, record)."""
        return self._index.read(from_offset, limit)

    def end_offset(self) -> int:
        """The offset the next record will get (the number of records in the log)."""
        return self._index.count

    def erase_user(self, user_id: str) -> int:
        """Rewrite every record of ``user_id`` as a tombstone, in place (offsets unchanged); returns
        how many. Appends wait meanwhile; see ``erasure`` for why a crash leaves a readable log."""
        with self._mutex, compaction_lock(self.directory):
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
        if self._file.tell() < self.segment_bytes:
            return
        self._file.close()
        self._segment = self._create_segment(int(self._segment.stem.split("-")[1]) + 1)
        self._file = open(self._segment, "ab")  # noqa: SIM115

    def __len__(self) -> int:
        return self._index.count

    def close(self) -> None:
        if self._lock_file.closed:
            return
        self._file.close()
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
