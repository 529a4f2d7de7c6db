"""Consumers of the event log with committed offsets: at-least-once delivery and replay.

A consumer (the streaming feature updater, the archiver) reads a batch from its committed offset,
hands it to its handler and commits the offset after the batch only once the handler has returned.
A crash or an exception mid-batch therefore re-delivers the whole batch: delivery is at-least-once,
so handlers must be idempotent (key writes by ``event_id`` or offset; the log itself is already
deduplicated). ``replay_from(offset)`` moves the committed offset back (or forward) to rebuild
downstream state. Run one instance per consumer name: two instances of one name would race.

Offsets are stored durably beside the log: for the local log one small JSON file per consumer, made
atomic by write-temp, fsync, rename, fsync-directory; for Redis one hash field per consumer.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from bento.ingestion.log_backend import EventSource
from bento.ingestion.segments import fsync_directory

log = logging.getLogger(__name__)

Batch = list[tuple[int, dict[str, Any]]]
BatchHandler = Callable[[Batch], None]
MAX_BACKOFF_S = 30.0
_NAME = re.compile(r"[A-Za-z0-9_.-]+")


class ConsumerOffsets(Protocol):
    """Committed offset per consumer name: the next offset that consumer has not yet processed."""

    def get(self, name: str) -> int: ...

    def commit(self, name: str, offset: int) -> None: ...


class FileConsumerOffsets:
    """One JSON file per consumer, replaced atomically so a crash leaves the old or the new offset."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise ValueError(f"consumer name {name!r} must match {_NAME.pattern}")
        return self.directory / f"{name}.json"

    def get(self, name: str) -> int:
        try:
            return int(json.loads(self._path(name).read_text())["offset"])
        except FileNotFoundError:
            return 0

    def commit(self, name: str, offset: int) -> None:
        path = self._path(name)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "w") as handle:
            json.dump({"consumer": name, "offset": offset}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fsync_directory(self.directory)


class RedisConsumerOffsets:
    """Committed offsets as fields of one Redis hash (``RedisEventLog.offsets_key``)."""

    def __init__(self, client: Any, key: str) -> None:
        self.client, self.key = client, key

    def get(self, name: str) -> int:
        return int(self.client.hget(self.key, name) or 0)

    def commit(self, name: str, offset: int) -> None:
        self.client.hset(self.key, name, offset)


def offsets_for(source: EventSource) -> ConsumerOffsets:
    """Where a log's consumers keep their offsets: beside it (``<log dir>/consumers/`` or a Redis hash)."""
    offsets_key = getattr(source, "offsets_key", None)
    if offsets_key is not None:
        return RedisConsumerOffsets(source.client, offsets_key)  # type: ignore[attr-defined]
    directory = getattr(source, "directory", None)
    if directory is None:
        raise TypeError(f"no default offset store for {type(source).__name__}; pass one explicitly")
    return FileConsumerOffsets(Path(directory) / "consumers")


class Consumer:
    """Reads ``source`` from its committed offset in batches; commits after the handler returns."""

    def __init__(
        self,
        source: EventSource,
        offsets: ConsumerOffsets,
        name: str,
        handle_batch: BatchHandler,
        batch_size: int = 500,
    ) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be > 0, got {batch_size}")
        self.source, self.offsets, self.name = source, offsets, name
        self.handle_batch, self.batch_size = handle_batch, batch_size
        self.failures = 0  # handler or read failures so far (each retried: at-least-once)
        self._committed = offsets.get(name)

    @property
    def committed(self) -> int:
        return self._committed

    def _commit(self, offset: int) -> None:
        self.offsets.commit(self.name, offset)
        self._committed = offset

    def poll_once(self) -> int:
        """Process at most one batch; returns how many records it handled (0: nothing new)."""
        batch = self.source.read(self._committed, self.batch_size)
        if not batch:
            end = self.source.end_offset()
            if self._committed > end:  # the log lost a tail it had shown us (power loss): re-read there
                log.warning(
                    "consumer %s: committed %d > log end %d; rewinding", self.name, self._committed, end
                )
                self._commit(end)
            return 0
        self.handle_batch(batch)  # raises → nothing committed → the same batch comes again
        self._commit(batch[-1][0] + 1)
        return len(batch)

    def replay_from(self, offset: int) -> None:
        """Re-deliver everything from ``offset`` on (the next poll starts there)."""
        if offset < 0:
            raise ValueError(f"offset must be >= 0, got {offset}")
        self._commit(offset)

    def lag(self) -> int:
        """Records in the log not yet processed by this consumer."""
        return max(0, self.source.end_offset() - self._committed)

    def drain(self) -> int:
        """Process batches until caught up; exceptions propagate. Returns records handled."""
        total = 0
        while handled := self.poll_once():
            total += handled
        return total

    def run(self, stop: threading.Event, poll_interval: float = 0.5) -> None:
        """Poll until ``stop`` is set; a failing batch is logged and retried with backoff."""
        streak = 0
        while not stop.is_set():
            try:
                handled = self.poll_once()
                streak = 0
            except Exception:
                self.failures += 1
                streak += 1
                log.exception("consumer %s failed at offset %d (retrying)", self.name, self._committed)
                stop.wait(min(poll_interval * 2**streak, MAX_BACKOFF_S))
                continue
            if not handled:
                stop.wait(poll_interval)


def run_consumer(
    source: EventSource,
    offsets: ConsumerOffsets,
    name: str,
    handle_batch: BatchHandler,
    batch_size: int = 500,
    stop: threading.Event | None = None,
    poll_interval: float = 0.5,
) -> Consumer:
    """Run a consumer until ``stop`` is set; without ``stop``, drain what is there now and return
    (the shape a scheduled job such as the archiver asset wants)."""
    consumer = Consumer(source, offsets, name, handle_batch, batch_size)
    if stop is None:
        consumer.drain()
    else:
        consumer.run(stop, poll_interval)
    return consumer
