"""Erasing a user from the local event log: offsets hold, reopen and readers agree, dedup still works,
and a crash mid-erasure (a deterministic torn state, and SIGKILL at spread-out moments) leaves a
readable log that the next writer finishes erasing. Retention's gap segments keep offsets too."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bento.ingestion.consumers import Consumer, FileConsumerOffsets
from bento.ingestion.erasure import JOURNAL, find_user_lines, replace_with_gap, write_journal
from bento.ingestion.event_log import EventLog, EventLogReader, read_events
from bento.ingestion.segments import list_segments

ROOT = Path(__file__).resolve().parents[2]
# Kill moments as fractions of an uninterrupted erasure: the scan takes ~70%, journal and rewrite the rest.
KILL_FRACTIONS = (0.3, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.5)


def event(n: int, user: str | None = None) -> dict:
    return {
        "event_id": f"e{n}",
        "user_id": user or f"u{n % 3}",
        "item_id": f"i{n}",
        "event_type": "click",
        "timestamp": f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}.{n:06d}+00:00",
    }


def fill(directory: Path, n: int, segment_bytes: int = 4_000, batch: int = 20) -> list[dict]:
    """``n`` events in batches (a segment rotates after a batch that fills it)."""
    records = [event(i) for i in range(n)]
    with EventLog(directory, segment_bytes=segment_bytes) as log:
        for start in range(0, n, batch):
            log.append_many(records[start : start + batch])
    return records


def live(directory: Path) -> dict[int, dict]:
    reader = EventLogReader(directory)
    return dict(reader.read(0, reader.end_offset() + 1))


def test_erasure_keeps_offsets_survives_reopen_and_dedup_still_works(tmp_path: Path) -> None:
    records = fill(tmp_path, 300)
    assert len(list_segments(tmp_path)) > 3  # the user's lines are spread over many segments
    log = EventLog(tmp_path, segment_bytes=4_000)
    assert log.erase_user("u1") == 100
    assert log.erase_user("u1") == 0  # idempotent
    expected = {n: r for n, r in enumerate(records) if r["user_id"] != "u1"}
    assert dict(log.read(0, 1_000)) == expected  # every other record at its old offset
    assert log.end_offset() == 300
    again = log.append_many([event(1), {**event(1), "event_id": "new-id"}, event(0), event(300)])
    # an erased event's id is still a duplicate; its natural key (it names the user) is not kept
    assert [(r.duplicate, r.offset) for r in again] == [(True, 1), (False, 300), (True, 0), (False, 301)]
    log.close()

    reopened = EventLog(tmp_path, segment_bytes=4_000)
    assert reopened.torn_bytes_cut == 0
    assert reopened.append(event(4)).duplicate and reopened.append(event(1)).duplicate
    assert reopened.end_offset() == 302
    reopened.close()
    got = live(tmp_path)
    assert all(got[n] == r for n, r in expected.items())
    assert not any(r["user_id"] == "u1" and r["event_id"] != "new-id" for r in got.values())
    assert b'"u1"' not in b"".join(s.read_bytes() for s in list_segments(tmp_path)[:-1])
    assert [r["event_id"] for r in read_events(tmp_path)] == [r["event_id"] for r in got.values()]


def test_a_consumer_walks_past_a_run_of_erased_records(tmp_path: Path) -> None:
    records = [event(n, user="gone") for n in range(50)] + [event(50, user="kept")]
    with EventLog(tmp_path) as log:
        log.append_many(records)
        log.erase_user("gone")
    seen: list[int] = []
    consumer = Consumer(
        EventLogReader(tmp_path),
        FileConsumerOffsets(tmp_path / "consumers"),
        "test",
        lambda batch: seen.extend(o for o, _ in batch),
        batch_size=10,
    )
    assert consumer.drain() == 1 and seen == [50] and consumer.committed == 51


def test_a_torn_erasure_is_finished_on_open_not_cut(tmp_path: Path) -> None:
    records = fill(tmp_path, 120)
    segments = list_segments(tmp_path)
    targets = find_user_lines(segments, "u2")
    write_journal(tmp_path, targets)
    # the crash: half the tombstones written, the next one torn halfway (a power loss mid-write)
    for target in targets[: len(targets) // 2]:
        with open(tmp_path / target.segment, "r+b") as handle:
            os.pwrite(handle.fileno(), target.line, target.position)
    torn = targets[len(targets) // 2]
    with open(tmp_path / torn.segment, "r+b") as handle:
        os.pwrite(handle.fileno(), torn.line[: len(torn.line) // 2], torn.position)
    with EventLog(tmp_path, segment_bytes=4_000) as log:
        assert log.torn_bytes_cut == 0 and log.erasure_lines_replayed == len(targets)
        assert log.end_offset() == 120
    assert not (tmp_path / JOURNAL).exists()
    assert live(tmp_path) == {n: r for n, r in enumerate(records) if r["user_id"] != "u2"}


ERASER = """
import sys
from bento.ingestion.event_log import EventLog

log = EventLog(sys.argv[1], segment_bytes=200_000)
print("erasing", flush=True)
log.erase_user("u0")
print("done", flush=True)
"""


def _start_eraser(directory: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-c", ERASER, str(directory)],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None and process.stdout.readline() == b"erasing\n"
    return process


def test_sigkill_mid_erasure_leaves_a_readable_log_that_reopening_completes(tmp_path: Path) -> None:
    template = tmp_path / "template"
    records = fill(template, 30_000, segment_bytes=200_000, batch=1_000)
    timing = tmp_path / "timing"
    shutil.copytree(template, timing)
    process = _start_eraser(timing)
    started = time.perf_counter()
    process.communicate()
    full = time.perf_counter() - started
    outcomes = []
    for fraction in KILL_FRACTIONS:
        directory = tmp_path / f"kill-{fraction}"
        shutil.copytree(template, directory)
        process = _start_eraser(directory)
        time.sleep(full * fraction)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        journal_left = (directory / JOURNAL).exists()
        # readable as the kill left it, without a writer: every other user's record at its offset
        before = live(directory)
        assert all(before[n] == r for n, r in enumerate(records) if r["user_id"] != "u0")
        left = sum(r["user_id"] == "u0" for r in before.values())
        outcomes.append("mid-rewrite" if journal_left else "not begun" if left else "done")
        with EventLog(directory, segment_bytes=200_000) as log:
            assert log.torn_bytes_cut == 0 and log.end_offset() == len(records)
        erased = journal_left or not left
        expected = {n: r for n, r in enumerate(records) if not (erased and r["user_id"] == "u0")}
        assert live(directory) == expected  # all of the user's records gone, or (not begun) all there
    assert "not begun" in outcomes and "done" in outcomes, outcomes


def test_a_dropped_segment_keeps_every_later_offset(tmp_path: Path) -> None:
    records = fill(tmp_path, 200)
    first, second = list_segments(tmp_path)[:2]
    freed = replace_with_gap(first) + replace_with_gap(second)
    assert freed > 0
    got = live(tmp_path)
    assert got and min(got) > 0
    assert got == {n: r for n, r in enumerate(records) if n >= min(got)}
    with EventLog(tmp_path, segment_bytes=4_000) as log:
        assert log.end_offset() == 200 and dict(log.read(0, 1_000)) == got
        assert log.append(event(500)).offset == 200
