"""Consumers with committed offsets: at-least-once delivery, resume after a crash, replay."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from log_records import log_record as event

from bento.ingestion.consumers import (
    Batch,
    Consumer,
    FileConsumerOffsets,
    RedisConsumerOffsets,
    offsets_for,
    run_consumer,
)
from bento.ingestion.event_log import EventLog, EventLogReader
from bento.ingestion.log_backend import EventLogBackend


class Recorder:
    """A handler that records what it saw and can be told to fail on its next call."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.fail_next = 0

    def __call__(self, batch: Batch) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("handler crashed mid-batch")
        self.batches.append([offset for offset, _ in batch])

    @property
    def offsets(self) -> list[int]:
        return [offset for batch in self.batches for offset in batch]


@pytest.fixture
def local_log(tmp_path: Path) -> Iterator[EventLog]:
    log = EventLog(tmp_path / "log")
    yield log
    log.close()


@pytest.fixture
def redis_log() -> Iterator[EventLogBackend]:
    redis = pytest.importorskip("redis")
    from bento.ingestion.redis_log import RedisEventLog

    client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    log = RedisEventLog(client, stream="consumers", key_prefix=f"test-{uuid.uuid4().hex}")
    yield log
    log.delete()
    client.close()


@pytest.fixture(params=["local", "redis"])
def backend(request: pytest.FixtureRequest) -> EventLogBackend:
    return request.getfixturevalue(f"{request.param}_log")


def test_batches_are_committed_and_a_new_instance_resumes(backend: EventLogBackend) -> None:
    backend.append_many([event(n) for n in range(10)])
    offsets = offsets_for(backend)
    handler = Recorder()
    consumer = Consumer(backend, offsets, "archiver", handler, batch_size=4)
    assert [consumer.poll_once() for _ in range(4)] == [4, 4, 2, 0]
    assert handler.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert consumer.committed == 10 and consumer.lag() == 0
    backend.append_many([event(n) for n in range(10, 13)])
    again = Recorder()
    restarted = Consumer(backend, offsets_for(backend), "archiver", again, batch_size=4)  # a new process
    assert restarted.committed == 10 and restarted.lag() == 3
    assert restarted.drain() == 3 and again.offsets == [10, 11, 12]


def test_a_crash_mid_batch_redelivers_the_batch(backend: EventLogBackend) -> None:
    backend.append_many([event(n) for n in range(6)])
    handler = Recorder()
    consumer = Consumer(backend, offsets_for(backend), "features", handler, batch_size=4)
    handler.fail_next = 1
    with pytest.raises(RuntimeError, match="mid-batch"):
        consumer.poll_once()
    assert consumer.committed == 0
    restarted = Consumer(backend, offsets_for(backend), "features", handler, batch_size=4)
    assert restarted.drain() == 6
    assert handler.batches == [[0, 1, 2, 3], [4, 5]]  # at-least-once: the failed batch came again


def test_replay_from_an_offset_redelivers(backend: EventLogBackend) -> None:
    backend.append_many([event(n) for n in range(8)])
    handler = Recorder()
    consumer = Consumer(backend, offsets_for(backend), "features", handler, batch_size=100)
    consumer.drain()
    consumer.replay_from(5)
    assert Consumer(backend, offsets_for(backend), "features", handler).committed == 5  # durable
    consumer.drain()
    assert handler.offsets == [*range(8), 5, 6, 7]


def test_consumers_keep_separate_offsets(local_log: EventLog) -> None:
    local_log.append_many([event(n) for n in range(5)])
    offsets = offsets_for(local_log)
    fast, slow = Recorder(), Recorder()
    run_consumer(local_log, offsets, "archiver", fast)
    Consumer(local_log, offsets, "features", slow, batch_size=2).poll_once()
    assert (offsets.get("archiver"), offsets.get("features")) == (5, 2)


def test_running_consumer_follows_a_writer_in_another_process_and_retries(local_log: EventLog) -> None:
    reader = EventLogReader(local_log.directory)  # what a consumer outside the serving process uses
    handler = Recorder()
    handler.fail_next = 1
    stop = threading.Event()
    consumer = Consumer(reader, offsets_for(reader), "features", handler, batch_size=7)
    thread = threading.Thread(target=consumer.run, args=(stop, 0.005))
    thread.start()
    for start in range(0, 60, 10):
        local_log.append_many([event(n) for n in range(start, start + 10)])
        time.sleep(0.01)
    deadline = time.monotonic() + 10
    while consumer.committed < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert consumer.failures == 1
    assert sorted(set(handler.offsets)) == list(range(60))
    assert handler.offsets == sorted(handler.offsets)


def test_a_log_that_lost_its_tail_rewinds_the_consumer(tmp_path: Path, local_log: EventLog) -> None:
    local_log.append_many([event(n) for n in range(3)])
    offsets = FileConsumerOffsets(tmp_path / "offsets")
    offsets.commit("archiver", 9)  # as if a power loss took back records it had already seen
    consumer = Consumer(local_log, offsets, "archiver", Recorder())
    assert consumer.poll_once() == 0 and consumer.committed == 3


def test_file_offsets_are_replaced_atomically_and_names_are_checked(tmp_path: Path) -> None:
    offsets = FileConsumerOffsets(tmp_path)
    assert offsets.get("archiver") == 0
    offsets.commit("archiver", 41)
    offsets.commit("archiver", 42)
    assert FileConsumerOffsets(tmp_path).get("archiver") == 42
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archiver.json"]  # no temp files left
    with pytest.raises(ValueError, match="consumer name"):
        offsets.commit("../escape", 1)


def test_redis_offsets_live_in_the_logs_hash(redis_log: Any) -> None:
    offsets = offsets_for(redis_log)
    assert isinstance(offsets, RedisConsumerOffsets) and offsets.key == redis_log.offsets_key
    offsets.commit("archiver", 7)
    assert redis_log.client.hget(redis_log.offsets_key, "archiver") == b"7"
