"""A durable, append-only event log on local files: the embedded profile's event stream.

Records are lines ``<crc32 hex> <json>\n`` in numbered segment files. ``append`` returns only after
``fsync``, so an acknowledged event survives a crash; a torn last line (a crash mid-write) fails its
checksum and is cut when the log is reopened. Duplicates are recognised by event id and by the
natural key (user, item, type, timestamp), so a client retry with a new id is counted once.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEGMENT_BYTES = 64 * 1024 * 1024
SEGMENT_GLOB = "segment-*.log"


class EventLogBusyError(RuntimeError):
    pass


@dataclass(frozen=True)
class AppendResult:
    event_id: str
    offset: int
    duplicate: bool


def natural_key(record: dict[str, Any]) -> str:
    return "|".join(str(record.get(k)) for k in ("user_id", "item_id", "event_type", "timestamp"))


def _encode(record: dict[str, Any]) -> bytes:
    body = json.dumps(record, separators=(",", ":"), sort_keys=True).encode()
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def _decode(line: bytes) -> dict[str, Any] | None:
    if len(line) < 10 or not line.endswith(b"\n") or line[8:9] != b" ":
        return None
    body = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        return json.loads(body)
    except ValueError:
        return None


class EventLog:
    """Single-writer (guarded by an exclusive file lock), many-reader event log."""

    def __init__(self, directory: Path, segment_bytes: int = SEGMENT_BYTES) -> None:
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
        self._ids: set[str] = set()
        self._keys: set[str] = set()
        self._count = 0
        self.torn_bytes_cut = self._recover()
        self._segment = self._segments()[-1] if self._segments() else self._new_segment_path(0)
        self._file = open(self._segment, "ab")  # noqa: SIM115

    def _segments(self) -> list[Path]:
        return sorted(self.directory.glob(SEGMENT_GLOB))

    def _new_segment_path(self, index: int) -> Path:
        return self.directory / f"segment-{index:08d}.log"

    def _recover(self) -> int:
        """Rebuild the dedup index and cut a torn tail left by a crash mid-write."""
        cut = 0
        for segment in self._segments():
            good = 0
            with open(segment, "rb") as handle:
                for line in handle:
                    record = _decode(line)
                    if record is None:
                        break
                    good += len(line)
                    self._remember(record)
            size = segment.stat().st_size
            if good < size:
                cut += size - good
                with open(segment, "r+b") as handle:
                    handle.truncate(good)
                    os.fsync(handle.fileno())
        return cut

    def _remember(self, record: dict[str, Any]) -> None:
        self._ids.add(record["event_id"])
        self._keys.add(natural_key(record))
        self._count += 1

    def is_duplicate(self, record: dict[str, Any]) -> bool:
        return record["event_id"] in self._ids or natural_key(record) in self._keys

    def append_many(self, records: list[dict[str, Any]]) -> list[AppendResult]:
        """Append records durably (one fsync for the batch); duplicates are acknowledged, not written."""
        results: list[AppendResult] = []
        with self._mutex:
            payload = bytearray()
            for record in records:
                if self.is_duplicate(record):
                    results.append(AppendResult(record["event_id"], -1, True))
                    continue
                payload += _encode(record)
                self._remember(record)
                results.append(AppendResult(record["event_id"], self._count - 1, False))
            if payload:
                self._file.write(payload)
                self._file.flush()
                os.fsync(self._file.fileno())
                self._maybe_rotate()
        return results

    def append(self, record: dict[str, Any]) -> AppendResult:
        return self.append_many([record])[0]

    def _maybe_rotate(self) -> None:
        if self._file.tell() < self.segment_bytes:
            return
        self._file.close()
        index = int(self._segment.stem.split("-")[1]) + 1
        self._segment = self._new_segment_path(index)
        self._file = open(self._segment, "ab")  # noqa: SIM115

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        self._file.close()
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()


def read_events(directory: Path) -> Iterator[dict[str, Any]]:
    """Every intact record in log order, without taking the writer lock (for archivers)."""
    for segment in sorted(Path(directory).glob(SEGMENT_GLOB)):
        with open(segment, "rb") as handle:
            for line in handle:
                record = _decode(line)
                if record is None:
                    break
                yield record
