"""The event log contract, and picking a backend from configuration rather than code.

Every backend gives the same contract: ``append_many`` returns only once the records are durable (as
durable as the backend is configured to be), a record already in the log by ``event_id`` or by the
natural key (user|item|type|timestamp) is acknowledged as a duplicate and not written again, and each
new record gets the next integer offset (0-based, in append order; a user's events are appended in
the order they arrive, so per-user order follows). ``read(from_offset, limit)`` replays from any
offset, which is what consumers with committed offsets need.

``open_event_log(target)`` chooses by target:

- a directory path (``data/event_log``, ``file:///srv/events``): the local segment log
  (``event_log.EventLog``), any number of writer processes on one machine (a lock per batch);
- ``redis://[:password@]host:port/db?stream=events&prefix=reco`` (also ``rediss://``): the Redis
  Streams log (``redis_log.RedisEventLog``), any number of writer processes. ``stream`` defaults to
  ``events`` and ``prefix`` to ``reco``; other query parameters go to ``redis.Redis.from_url``.

``open_event_source(target)`` is the read side for consumers: for a directory it takes no writer
lock (``EventLogReader``), so an archiver can run beside the serving process that writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bento.ingestion.event_log import AppendResult, EventLog, EventLogReader

__all__ = [
    "AppendResult",
    "EventLogBackend",
    "EventSource",
    "open_event_log",
    "open_event_source",
    "parse_redis_target",
]

REDIS_SCHEMES = ("redis", "rediss")
DEFAULT_STREAM = "events"
DEFAULT_PREFIX = "reco"


@runtime_checkable
class EventSource(Protocol):
    """What a consumer needs: replay by offset."""

    def read(self, from_offset: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Up to ``limit`` (offset, record) pairs from ``from_offset`` on, in offset order."""
        ...

    def end_offset(self) -> int:
        """The offset the next appended record will get."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class EventLogBackend(EventSource, Protocol):
    """What a producer needs on top: durable, deduplicated appends."""

    def append_many(self, records: list[dict[str, Any]]) -> list[AppendResult]: ...

    def append(self, record: dict[str, Any]) -> AppendResult: ...


def _is_redis(target: str | Path) -> bool:
    return isinstance(target, str) and urlsplit(target).scheme in REDIS_SCHEMES


def _local_path(target: str | Path) -> Path:
    if isinstance(target, str) and target.startswith("file://"):
        return Path(urlsplit(target).path)
    return Path(target)


def parse_redis_target(url: str) -> tuple[str, str, str]:
    """Split ``redis://…?stream=s&prefix=p`` into (connection url, stream, prefix)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    stream = query.pop("stream", DEFAULT_STREAM)
    prefix = query.pop("prefix", DEFAULT_PREFIX)
    return urlunsplit(parts._replace(query=urlencode(query))), stream, prefix


def open_event_log(target: str | Path) -> EventLogBackend:
    """The writable log for ``target`` (a directory or a ``redis://`` url, see the module docstring)."""
    if _is_redis(target):
        from bento.ingestion.redis_log import RedisEventLog  # redis is only needed for this profile

        url, stream, prefix = parse_redis_target(str(target))
        return RedisEventLog(url, stream=stream, key_prefix=prefix)
    return EventLog(_local_path(target))


def open_event_source(target: str | Path) -> EventSource:
    """The read side for consumers; for a local directory it does not take the writer lock."""
    if _is_redis(target):
        return open_event_log(target)
    return EventLogReader(_local_path(target))
