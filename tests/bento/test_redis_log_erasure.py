"""Erasure and retention on the Redis Streams log, against the real Redis: the same contract as the
local log (other offsets unchanged, consumers walk past the gaps, erased ids stay duplicates).

Skipped without Redis, unless ``RECO_TEST_SERVICES=required`` (CI), where it fails instead."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from log_records import log_record as event

from bento.ingestion.consumers import Consumer, offsets_for
from bento.ingestion.redis_log import RedisEventLog

URL = os.environ.get("RECO_TEST_REDIS_LOG", "redis://127.0.0.1:6379/0")


@pytest.fixture
def log() -> Iterator[RedisEventLog]:
    client = redis.Redis.from_url(URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError as error:
        if os.environ.get("RECO_TEST_SERVICES") == "required":
            raise
        pytest.skip(f"no Redis at {URL}: {error}")
    log = RedisEventLog(client, stream="events", key_prefix=f"test-{uuid.uuid4().hex}")
    yield log
    log.delete()
    client.close()


def test_erasure_keeps_offsets_and_dedup(log: RedisEventLog) -> None:
    records = [event(n) for n in range(2_500)]  # more than one scan chunk
    log.append_many(records)
    assert log.erase_user("u1") == 833
    assert log.erase_user("u1") == 0
    assert dict(log.read(0, 5_000)) == {n: r for n, r in enumerate(records) if r["user_id"] != "u1"}
    again = log.append_many([event(1), {**event(1), "event_id": "new"}, event(0)])
    assert [(r.duplicate, r.offset) for r in again] == [(True, 1), (False, 2_500), (True, 0)]
    assert log.end_offset() == 2_501


def test_consumers_walk_past_erased_and_dropped_entries(log: RedisEventLog) -> None:
    log.append_many([event(n) for n in range(30)])
    log.erase_user("u0")
    assert log.drop_before(10) == 6  # offsets 0..9 minus the four u0 ones already erased
    seen: list[int] = []
    consumer = Consumer(log, offsets_for(log), "test", lambda b: seen.extend(o for o, _ in b), batch_size=4)
    consumer.drain()
    assert seen == [n for n in range(10, 30) if n % 3] and consumer.committed == 30
    assert not log.append(event(5)).duplicate  # retention forgot the dropped ids as well
