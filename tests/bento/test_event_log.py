"""The embedded event log: durable appends, dedup by id and natural key, torn-tail recovery."""

from pathlib import Path

import pytest

from bento.ingestion.event_log import EventLog, EventLogBusyError, read_events


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


def test_second_writer_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    log = EventLog(tmp_path)
    with pytest.raises(EventLogBusyError, match="already has a writer"):
        EventLog(tmp_path)
    log.close()
    EventLog(tmp_path).close()  # free again once the first writer is gone
