"""The embedded event log: durable appends, dedup by id and natural key, torn-tail recovery, reading
by offset, and picking a backend from a target."""

import subprocess
import sys
from pathlib import Path

import pytest

from bento.ingestion import event_log as event_log_module
from bento.ingestion.event_log import (
    EventLog,
    EventLogFailedError,
    EventLogReader,
    read_events,
)
from bento.ingestion.log_backend import (
    EventLogBackend,
    EventSource,
    open_event_log,
    open_event_source,
    parse_redis_target,
)


def event(n: int, **overrides: object) -> dict:
    base = {
        "event_id": f"e{n}",
        "user_id": "u1",
        "item_id": f"i{n}",
        "event_type": "click",
        "timestamp": f"2026-01-01T00:00:{n:02d}+00:00",
    }
    return {**base, **overrides}


def test_appends_are_readable_in_order(tmp_path: Path) -> None:
    log = EventLog(tmp_path)
    results = log.append_many([event(1), event(2), event(3)])
    log.close()
    assert [r.offset for r in results] == [0, 1, 2]
    assert [r["event_id"] for r in read_events(tmp_path)] == ["e1", "e2", "e3"]


def test_duplicate_id_and_retry_with_new_id_are_counted_once(tmp_path: Path) -> None:
    log = EventLog(tmp_path)
    log.append(event(1))
    same_id = log.append(event(1))
    retry_new_id = log.append(event(1, event_id="retry-1"))
    assert same_id.duplicate and retry_new_id.duplicate
    assert len(log) == 1
    log.close()
    assert len(list(read_events(tmp_path))) == 1


def test_dedup_survives_reopen(tmp_path: Path) -> None:
    log = EventLog(tmp_path)
    log.append(event(1))
    log.close()
    reopened = EventLog(tmp_path)
    assert reopened.append(event(1)).duplicate
    assert len(reopened) == 1
    reopened.close()


def test_torn_tail_is_cut_and_earlier_events_kept(tmp_path: Path) -> None:
    log = EventLog(tmp_path)
    log.append_many([event(1), event(2)])
    log.close()
    segment = next(tmp_path.glob("segment-*.log"))
    with segment.open("ab") as handle:  # a crash mid-write leaves half a record
        handle.write(b'0badc0de {"event_id": "e3", "user')
    reopened = EventLog(tmp_path)
    assert reopened.torn_bytes_cut > 0
    assert len(reopened) == 2
    reopened.append(event(3))
    reopened.close()
    assert [r["event_id"] for r in read_events(tmp_path)] == ["e1", "e2", "e3"]


def test_corrupted_record_fails_its_checksum(tmp_path: Path) -> None:
    log = EventLog(tmp_path)
    log.append_many([event(1), event(2)])
    log.close()
    segment = next(tmp_path.glob("segment-*.log"))
    data = segment.read_bytes().replace(b'"i2"', b'"i9"')
    segment.write_bytes(data)
    assert [r["event_id"] for r in read_events(tmp_path)] == ["e1"]


def test_segments_rotate(tmp_path: Path) -> None:
    log = EventLog(tmp_path, segment_bytes=200)
    for n in range(10):
        log.append(event(n))
    log.close()
    assert len(list(tmp_path.glob("segment-*.log"))) > 1
    assert len(list(read_events(tmp_path))) == 10


def test_two_writers_share_offsets_and_dedup(tmp_path: Path) -> None:
    first, second = EventLog(tmp_path, segment_bytes=300), EventLog(tmp_path, segment_bytes=300)
    a = first.append(event(1))
    b = second.append(event(2))
    assert (a.offset, b.offset) == (0, 1), "the second writer saw the first's record"
    retry = second.append(event(1))
    assert retry.duplicate and retry.offset == 0, "a retry on another worker is still a duplicate"
    again = first.append(event(3, event_id="e3-new-id", item_id="i2", timestamp=event(2)["timestamp"]))
    assert again.duplicate and again.offset == 1, "natural key of the other writer's record"
    for n in range(4, 12):  # rotation by either writer; both keep appending to the newest segment
        (first if n % 2 else second).append(event(n))
    assert first.end_offset() == second.end_offset() == 10
    assert [r["event_id"] for _, r in first.read(0, 100)] == [r["event_id"] for _, r in second.read(0, 100)]
    assert len(list(tmp_path.glob("segment-*.log"))) > 1
    first.close()
    second.close()


WRITER = """
import sys
from bento.ingestion.event_log import EventLog
log = EventLog(sys.argv[1], segment_bytes=20_000)
name, count = sys.argv[2], int(sys.argv[3])
for n in range(count):
    shared = n % 4 == 0  # every fourth event is sent by both workers (a client retry)
    event_id = f"shared{n}" if shared else f"{name}{n}"
    item = f"i{n}" if shared else f"{name}i{n}"
    log.append_many([{"event_id": event_id, "user_id": f"u{n % 7}", "item_id": item,
                      "event_type": "click", "timestamp": f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}+00:00",
                      "by": name if not shared else "either"}])
log.close()
"""


def test_writer_processes_append_concurrently_and_each_event_lands_once(tmp_path: Path) -> None:
    count = 300
    workers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), name, str(count)])
        for name in ("w1-", "w2-")
    ]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    records = list(read_events(tmp_path))
    ids = [r["event_id"] for r in records]
    assert len(ids) == len(set(ids)), "a duplicate across processes is written once"
    assert len(ids) == 2 * count - count // 4, "every unique event landed"
    for name in ("w1-", "w2-"):
        mine = [int(r["item_id"].rsplit("i", 1)[1]) for r in records if r["by"] == name]
        assert len(mine) == count - count // 4 and mine == sorted(mine), "each writer's order is kept"
    reopened = EventLog(tmp_path)
    assert reopened.end_offset() == len(ids) and reopened.torn_bytes_cut == 0
    assert [o for o, _ in reopened.read(0, 10_000)] == list(range(len(ids))), "offsets dense, shared"
    reopened.close()


# --- reading by offset, readers in other processes, the fsync policy ---------------------------------


def many(count: int, users: int = 5) -> list[dict]:
    return [
        event(n, user_id=f"u{n % users}", timestamp=f"2026-01-01T00:00:00.{n:06d}+00:00", pad="x" * 40)
        for n in range(count)
    ]


def test_read_from_any_offset_across_segments_and_marks(tmp_path: Path) -> None:
    records = many(2500)
    log = EventLog(tmp_path, segment_bytes=40_000)
    for start in range(0, len(records), 300):
        log.append_many(records[start : start + 300])
    assert len(list(tmp_path.glob("segment-*.log"))) > 3
    assert log.end_offset() == 2500
    everything = list(read_events(tmp_path))
    for start, limit in [(0, 10), (1023, 3), (1024, 1), (999, 1200), (2490, 50), (2500, 5), (3000, 5)]:
        got = log.read(start, limit)
        assert [offset for offset, _ in got] == list(range(start, min(start + limit, 2500)))
        assert [r for _, r in got] == everything[start : start + limit]
    log.close()
    reopened = EventLog(tmp_path, segment_bytes=40_000)
    assert reopened.end_offset() == 2500
    assert reopened.read(1500, 2) == [(1500, everything[1500]), (1501, everything[1501])]
    reopened.close()


def test_read_keeps_each_users_order(tmp_path: Path) -> None:
    with EventLog(tmp_path) as log:
        log.append_many(many(200, users=7))
        seen: dict[str, list[int]] = {}
        for _, record in log.read(0, 1000):
            seen.setdefault(record["user_id"], []).append(int(record["event_id"][1:]))
    assert len(seen) == 7
    assert all(numbers == sorted(numbers) for numbers in seen.values())


def test_a_duplicate_gets_the_offset_of_the_record_it_repeats(tmp_path: Path) -> None:
    with EventLog(tmp_path) as log:
        log.append_many([event(1), event(2)])
        results = log.append_many([event(3), event(2), event(3, event_id="retry-3"), event(4)])
    assert [(r.offset, r.duplicate) for r in results] == [(2, False), (1, True), (2, True), (3, False)]
    assert [r["event_id"] for r in read_events(tmp_path)] == ["e1", "e2", "e3", "e4"]


def test_reader_follows_a_live_writer_without_its_lock(tmp_path: Path) -> None:
    log = EventLog(tmp_path, segment_bytes=3_000)
    reader = EventLogReader(tmp_path)
    assert reader.end_offset() == 0
    records = many(120)
    log.append_many(records[:50])
    assert reader.end_offset() == 50
    segment = sorted(tmp_path.glob("segment-*.log"))[-1]
    with segment.open("ab") as handle:  # a batch caught mid-write: the reader must not index it
        handle.write(b'0badc0de {"event_id": "half')
    assert reader.end_offset() == 50
    log.close()
    log = EventLog(tmp_path, segment_bytes=3_000)  # recovery cuts the half line
    log.append_many(records[50:])
    assert reader.end_offset() == 120
    assert [r for _, r in reader.read(45, 100)] == records[45:120]
    log.close()
    reader.close()


def test_a_failed_fsync_is_not_acknowledged_and_stops_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = EventLog(tmp_path)
    log.append(event(1))

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(event_log_module.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="Input/output"):
        log.append(event(2))
    monkeypatch.undo()
    with pytest.raises(EventLogFailedError):
        log.append(event(3))
    assert log.end_offset() == 1 and log.read(1, 10) == []  # not acknowledged, not shown to consumers
    log.close()
    reopened = EventLog(tmp_path)  # the written-but-unsynced record is intact, so recovery keeps it
    assert reopened.append(event(2)).duplicate  # and the client's retry is counted once
    reopened.close()


def test_new_segments_fsync_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[Path] = []
    monkeypatch.setattr(event_log_module, "fsync_directory", synced.append)
    log = EventLog(tmp_path, segment_bytes=200)
    for n in range(5):
        log.append(event(n))
    log.close()
    assert len(synced) == len(list(tmp_path.glob("segment-*.log"))) > 1


def test_backend_is_chosen_by_target(tmp_path: Path) -> None:
    log = open_event_log(tmp_path)
    assert isinstance(log, EventLog) and isinstance(log, EventLogBackend)
    log.append(event(1))
    source = open_event_source(f"file://{tmp_path}")  # readers take no lock beside the writer
    assert isinstance(source, EventLogReader) and isinstance(source, EventSource)
    assert source.read(0, 5) == [(0, event(1))]
    log.close()
    assert parse_redis_target("redis://h:6380/2?stream=clicks&prefix=p&socket_timeout=5") == (
        "redis://h:6380/2?socket_timeout=5",
        "clicks",
        "p",
    )
    assert parse_redis_target("redis://h:6379/0") == ("redis://h:6379/0", "events", "reco")
