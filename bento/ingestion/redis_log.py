"""The event log on Redis Streams: the same contract as the local log, across many writer processes.

Keys (all share the hash tag ``{<stream>}``, so they sit in one Redis Cluster slot and one script
may touch them all), with ``base = <key_prefix>:{<stream>}``:

- ``base:stream``  the stream; entry id ``<offset + 1>-0``, field ``r`` = the record's JSON;
- ``base:ids``     hash event_id → offset; ``base:keys`` hash natural key → offset (dedup);
- ``base:next``    the next offset (a counter);
- ``base:offsets`` committed consumer offsets (``consumers.RedisConsumerOffsets``).

An append is one Lua script per chunk of records: checking both dedup hashes, taking the next offset
and XADDing happen atomically, so concurrent writers never count a retry twice and never interleave
an offset. Offsets are the entry ids (+1, since ``0-0`` is not a valid id), so ``read(from_offset)`` is
one XRANGE seek. Each writer's records get increasing offsets in its own order, hence per-user order
as long as a user's events go through one writer at a time.

Durability: the reply means the record is in Redis memory, and on disk only as far as Redis is told:
an acknowledged event survives a Redis crash only with ``appendonly yes`` and ``appendfsync always``
(``everysec`` may lose the last second; replication adds WAIT). The test Redis on the development
machine runs with ``appendonly no``: the tests there prove dedup, offsets, ordering and concurrency,
not durability. ``durability()`` reports what the server is configured for, and a log opened on a
server without AOF warns once.

Erasure and retention delete entries (XDEL) instead of rewriting them: the other entries keep their
ids, hence their offsets, and a deleted id reads as a gap, as a tombstone does in the local log.
``erase_user`` keeps the erased events' ids in the dedup hash (opaque ids: a retry stays a duplicate)
and drops their natural keys (they name the user); ``drop_before`` (retention) prunes both. Each chunk
is one MULTI/EXEC, so a crash mid-erasure leaves a readable log; the ledger re-runs the erasure.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import redis

from bento.ingestion.event_log import AppendResult
from bento.ingestion.segments import natural_key

log = logging.getLogger(__name__)

CHUNK = 1000  # records per script call: bounds how long one call holds the (single-threaded) server

# KEYS: stream, ids, keys, next. ARGV: triples of event_id, natural key, json.
# Returns pairs: duplicate flag (0/1), offset (a duplicate's is the offset of the record it repeats).
APPEND_SCRIPT = """
local out = {}
for i = 1, #ARGV, 3 do
  local event_id, key, body = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local seen = redis.call('HGET', KEYS[2], event_id)
  if not seen then seen = redis.call('HGET', KEYS[3], key) end
  if seen then
    out[#out + 1] = 1
    out[#out + 1] = tonumber(seen)
  else
    local offset = redis.call('INCR', KEYS[4]) - 1
    redis.call('XADD', KEYS[1], (offset + 1) .. '-0', 'r', body)
    redis.call('HSET', KEYS[2], event_id, offset)
    redis.call('HSET', KEYS[3], key, offset)
    out[#out + 1] = 0
    out[#out + 1] = offset
  end
end
return out
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisEventLog:
    """Deduplicated, offset-addressed event log on one Redis stream; safe for many writer processes."""

    def __init__(
        self, client_or_url: redis.Redis | str, stream: str = "events", key_prefix: str = "reco"
    ) -> None:
        self._owns_client = isinstance(client_or_url, str)
        self.client: redis.Redis = (
            redis.Redis.from_url(client_or_url) if isinstance(client_or_url, str) else client_or_url
        )
        self.stream = stream
        base = f"{key_prefix}:{{{stream}}}"
        self.stream_key = f"{base}:stream"
        self.ids_key = f"{base}:ids"
        self.keys_key = f"{base}:keys"
        self.next_key = f"{base}:next"
        self.offsets_key = f"{base}:offsets"
        self._append = self.client.register_script(APPEND_SCRIPT)
        if self.durability() == "memory only":
            log.warning(
                "Redis event log %s: the server has appendonly no, so acknowledged events live in memory "
                "only (set appendonly yes, appendfsync always for durable acknowledgements)",
                self.stream_key,
            )

    @property
    def keys(self) -> list[str]:
        """Every key this log uses (for teardown)."""
        return [self.stream_key, self.ids_key, self.keys_key, self.next_key, self.offsets_key]

    def durability(self) -> str:
        """``fsync always`` / ``fsync everysec`` / ``fsync no`` / ``memory only`` / ``unknown``."""
        try:
            config = {_text(k): _text(v) for k, v in self.client.config_get("append*").items()}
        except redis.ResponseError:  # CONFIG is often disabled on managed Redis
            return "unknown"
        if config.get("appendonly") != "yes":
            return "memory only"
        return f"fsync {config.get('appendfsync', 'unknown')}"

    def append_many(self, records: list[dict[str, Any]]) -> list[AppendResult]:
        """Append records atomically per chunk; duplicates (by id or natural key) are acknowledged only."""
        results: list[AppendResult] = []
        keys = [self.stream_key, self.ids_key, self.keys_key, self.next_key]
        for start in range(0, len(records), CHUNK):
            chunk = records[start : start + CHUNK]
            args: list[str] = []
            for record in chunk:
                body = json.dumps(record, separators=(",", ":"), sort_keys=True)
                args += [record["event_id"], natural_key(record), body]
            flat = self._append(keys=keys, args=args)
            results += [
                AppendResult(record["event_id"], int(flat[2 * i + 1]), bool(flat[2 * i]))
                for i, record in enumerate(chunk)
            ]
        return results

    def append(self, record: dict[str, Any]) -> AppendResult:
        return self.append_many([record])[0]

    def read(self, from_offset: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        if from_offset < 0 or limit < 0:
            raise ValueError(f"from_offset and limit must be >= 0, got {from_offset}, {limit}")
        if limit == 0:
            return []
        entries = self.client.xrange(self.stream_key, min=f"{from_offset + 1}-0", max="+", count=limit)
        out: list[tuple[int, dict[str, Any]]] = []
        for entry_id, fields in entries:
            body = fields.get(b"r", fields.get("r"))
            out.append((int(_text(entry_id).split("-")[0]) - 1, json.loads(body)))
        return out

    def end_offset(self) -> int:
        return int(self.client.get(self.next_key) or 0)

    def erase_user(self, user_id: str) -> int:
        """Delete every entry of ``user_id``; returns how many (offsets of the rest unchanged)."""
        return self._delete_where(lambda record: record.get("user_id") == user_id, "+", forget_ids=False)

    def drop_before(self, offset: int) -> int:
        """Retention: delete every entry below ``offset`` and its dedup entries; returns how many."""
        return self._delete_where(lambda _record: True, f"({offset + 1}-0", forget_ids=True)

    def _delete_where(self, doomed: Callable[[dict[str, Any]], bool], last: str, forget_ids: bool) -> int:
        deleted, start = 0, "-"
        while entries := self.client.xrange(self.stream_key, min=start, max=last, count=CHUNK):
            ids, event_ids, keys = [], [], []
            for entry_id, fields in entries:
                record = json.loads(fields.get(b"r", fields.get("r")))
                if doomed(record):
                    ids.append(entry_id)
                    event_ids.append(record["event_id"])
                    keys.append(natural_key(record))
            if ids:
                pipe = self.client.pipeline(transaction=True)
                pipe.xdel(self.stream_key, *ids)
                pipe.hdel(self.keys_key, *keys)
                if forget_ids:
                    pipe.hdel(self.ids_key, *event_ids)
                pipe.execute()
                deleted += len(ids)
            start = f"({_text(entries[-1][0])}"
        return deleted

    def __len__(self) -> int:
        return self.end_offset()

    def delete(self) -> None:
        """Remove the log and its dedup and consumer state (tests, teardown)."""
        self.client.delete(*self.keys)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()
