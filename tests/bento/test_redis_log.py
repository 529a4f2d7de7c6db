"""The Redis Streams event log against the real Redis: dedup, offsets, order, several writer processes.

Each test uses its own key prefix and deletes its keys; the local Redis runs without AOF, so these
tests prove the contract's logic and concurrency, not durability (see ``redis_log``)."""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

redis = pytest.importorskip("redis")

from log_records import log_record as event  # noqa: E402

from bento.ingestion.log_backend import open_event_log, open_event_source  # noqa: E402
from bento.ingestion.redis_log import RedisEventLog  # noqa: E402

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> Iterator[str]:
    client = redis.Redis.from_url(URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    name = f"test-{uuid.uuid4().hex}"
    yield name
    keys = list(client.scan_iter(match=f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def log(prefix: str) -> Iterator[RedisEventLog]:
    log = RedisEventLog(URL, stream="events", key_prefix=prefix)
    yield log
    log.close()


def test_dedup_by_id_and_by_natural_key(log: RedisEventLog) -> None:
    first = log.append_many([event(1), event(2)])
    again = log.append_many([event(2), event(2, event_id="retry-2"), event(3), event(3, event_id="x")])
    assert [(r.offset, r.duplicate) for r in first] == [(0, False), (1, False)]
    assert [(r.event_id, r.offset, r.duplicate) for r in again] == [
        ("e2", 1, True),
        ("retry-2", 1, True),
        ("e3", 2, False),
        ("x", 2, True),  # a duplicate inside one batch
    ]
    assert log.end_offset() == 3 and len(log) == 3
    assert [r["event_id"] for _, r in log.read(0, 10)] == ["e1", "e2", "e3"]


def test_read_from_offsets_in_order(log: RedisEventLog) -> None:
    records = [event(n) for n in range(25)]
    for start in range(0, 25, 10):
        log.append_many(records[start : start + 10])
    assert log.read(0, 3) == [(0, records[0]), (1, records[1]), (2, records[2])]
    assert [offset for offset, _ in log.read(20, 100)] == [20, 21, 22, 23, 24]
    assert log.read(25, 10) == [] and log.read(3, 0) == []
    seen: dict[str, list[int]] = {}
    for _, record in log.read(0, 100):
        seen.setdefault(record["user_id"], []).append(int(record["event_id"][1:]))
    assert all(numbers == sorted(numbers) for numbers in seen.values())
    with pytest.raises(ValueError):
        log.read(-1, 5)


def test_big_batches_span_several_script_calls(log: RedisEventLog) -> None:
    results = log.append_many([event(n) for n in range(2500)] + [event(7)])
    assert [r.offset for r in results[:-1]] == list(range(2500))
    assert results[-1].duplicate and results[-1].offset == 7


def test_opened_from_a_url_and_honest_about_durability(prefix: str) -> None:
    log = open_event_log(f"{URL}?stream=clicks&prefix={prefix}")
    assert isinstance(log, RedisEventLog) and log.stream_key == f"{prefix}:{{clicks}}:stream"
    log.append(event(1))
    source = open_event_source(f"{URL}?stream=clicks&prefix={prefix}")
    assert source.read(0, 5) == [(0, event(1))]
    assert log.durability() in {"memory only", "fsync always", "fsync everysec", "fsync no", "unknown"}
    log.close()
    source.close()


WRITERS, PER_WRITER, BATCH = 3, 400, 10


def write_from_a_process(prefix: str, writer: int, go: Any) -> None:
    """Append this writer's events in batches, each batch with a same-id resend, a new-id retry of
    its previous batch's last event, and events every writer sends (cross-process duplicates)."""
    log = RedisEventLog(URL, stream="events", key_prefix=prefix)
    go.wait(10)
    mine = [event(writer * 100_000 + n, user_id=f"w{writer}", seq=n) for n in range(PER_WRITER)]
    for start in range(0, PER_WRITER, BATCH):
        batch = mine[start : start + BATCH]
        extra = [batch[0], event(900_000 + start // BATCH, user_id="shared", seq=-1)]
        if start:
            extra.append({**mine[start - 1], "event_id": f"retry-{writer}-{start}"})
        log.append_many([*batch, *extra])
    log.close()


def test_several_processes_append_each_event_once_in_each_writers_order(
    log: RedisEventLog, prefix: str
) -> None:
    context = multiprocessing.get_context("fork")
    go = context.Event()
    processes = [context.Process(target=write_from_a_process, args=(prefix, w, go)) for w in range(WRITERS)]
    for process in processes:
        process.start()
    go.set()
    try:
        for process in processes:
            process.join(30)
            assert process.exitcode == 0
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    shared = PER_WRITER // BATCH
    total = WRITERS * PER_WRITER + shared
    assert log.end_offset() == total
    assert log.client.xlen(log.stream_key) == total
    entries = log.read(0, total + 10)
    assert [offset for offset, _ in entries] == list(range(total))
    ids = [record["event_id"] for _, record in entries]
    assert len(ids) == len(set(ids)) == total
    assert not [i for i in ids if i.startswith("retry-")]
    for writer in range(WRITERS):
        seqs = [r["seq"] for _, r in entries if r["user_id"] == f"w{writer}"]
        assert seqs == list(range(PER_WRITER))  # every event once, in the order its writer sent them
    assert sum(r["user_id"] == "shared" for _, r in entries) == shared
