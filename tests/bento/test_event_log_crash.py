"""Kill a writer process with SIGKILL under load, restart it, and prove the log kept its promises:
every acknowledged event is there exactly once, client retries (same id or a new id) are counted
once, and a torn tail is detected and cut."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bento.ingestion.event_log import EventLog
from bento.ingestion.segments import decode_line, natural_key

ROOT = Path(__file__).resolve().parents[2]
BATCH = 50
KILL_DELAYS_S = (0.0, 0.0007, 0.0013, 0.0021, 0.0034)  # after the last ack read: spread the kills

# argv: directory, first sequence number, id tag. Appends batches forever; after each append_many
# returns (fsync'd) it prints "<event_id> <seq> <duplicate>" per record, so stdout holds only acks.
# Each batch also resends its first record (same id) and, after the first batch, the previous
# record under a new id (a client retry with a new id: same natural key).
WRITER = """
import sys
from bento.ingestion.event_log import EventLog

directory, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
start = n
log = EventLog(directory, segment_bytes=100_000)  # small: kills also land around rotations


def record(seq, event_id):
    return {"event_id": event_id, "user_id": f"u{seq % 7}", "item_id": f"i{seq}", "event_type": "click",
            "timestamp": f"2026-01-01T00:00:00.{seq:06d}+00:00", "seq": seq, "pad": "x" * 300}


while True:
    records = [record(seq, f"{tag}{seq}") for seq in range(n, n + BATCH)]
    records.append(records[0])
    if n > start:
        records.append(record(n - 1, f"{tag}-retry{n - 1}"))
    results = log.append_many(records)
    acks = (f"{r.event_id} {rec['seq']} {int(r.duplicate)}\\n" for r, rec in zip(results, records))
    sys.stdout.write("".join(acks))
    sys.stdout.flush()
    n += BATCH
""".replace("BATCH", str(BATCH))


def kill_under_load(
    directory: Path, first_seq: int, tag: str, acks_wanted: int, delay: float
) -> list[tuple[str, int, bool]]:
    """Run the writer until it has acknowledged ``acks_wanted`` new events, SIGKILL it, return its acks."""
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(directory), str(first_seq), tag],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    lines: list[bytes] = []
    fresh = 0
    try:
        while fresh < acks_wanted:
            line = process.stdout.readline()
            assert line, "the writer exited early"
            lines.append(line)
            fresh += line.endswith(b" 0\n")
        time.sleep(delay)  # let it run on, so the kill lands at an arbitrary point of an append
    finally:
        os.kill(process.pid, signal.SIGKILL)  # no cleanup, no flush: whatever was mid-flight stays torn
    rest = process.stdout.read()
    process.wait()
    lines += rest.splitlines(keepends=True)
    acks = []
    for line in lines:
        if line.endswith(b"\n"):  # a line cut by the kill was acknowledged, but we cannot read its id
            event_id, seq, duplicate = line.decode().split()
            acks.append((event_id, int(seq), duplicate == "1"))
    return acks


def tail_is_torn(directory: Path) -> bool:
    segment = sorted(directory.glob("segment-*.log"))[-1]
    data = segment.read_bytes()
    if not data:
        return False
    last = data.rsplit(b"\n", 2)
    return not data.endswith(b"\n") or decode_line(last[-2] + b"\n") is None


def verify(directory: Path, acks: list[tuple[str, int, bool]]) -> list[dict]:
    """Every acknowledged event present exactly once; the log holds seqs 0..n-1 once each, in order."""
    log = EventLog(directory)
    records = [record for _, record in log.read(0, log.end_offset() + 1)]
    log.close()
    ids = [r["event_id"] for r in records]
    assert len(ids) == len(set(ids)), "an event id appears twice"
    assert len({natural_key(r) for r in records}) == len(records), "a natural key appears twice"
    seqs = [r["seq"] for r in records]
    assert seqs == list(range(len(seqs))), "the log is not the writers' sequence, in order, without gaps"
    present = set(ids)
    for event_id, seq, duplicate in acks:
        assert seq < len(seqs), f"acknowledged event {event_id} (seq {seq}) is missing"
        if not duplicate:
            assert event_id in present, f"acknowledged event {event_id} is missing"
    return records


def test_sigkill_under_load_loses_no_acknowledged_event_and_counts_each_once(tmp_path: Path) -> None:
    acks: list[tuple[str, int, bool]] = []
    next_seq = 0
    for round_number, delay in enumerate(KILL_DELAYS_S):
        new_acks = kill_under_load(tmp_path, next_seq, f"r{round_number}-", acks_wanted=600, delay=delay)
        assert sum(not duplicate for _, _, duplicate in new_acks) >= 600
        acks += new_acks
        if not tail_is_torn(tmp_path):  # the kill fell between writes: tear it as a kill mid-write would
            segment = sorted(tmp_path.glob("segment-*.log"))[-1]
            with segment.open("ab") as handle:
                handle.write(b'1234abcd {"event_id": "torn-by-the-kill", "user_id": "u1", "it')
        for expect_cut in (True, False):  # cut on the first reopen, and for good
            log = EventLog(tmp_path)
            assert (log.torn_bytes_cut > 0) is expect_cut
            log.close()
        records = verify(tmp_path, acks)
        # restart a little before the last acknowledged event: those resends are client retries with
        # new ids, and anything written but never acknowledged must not be written twice either
        next_seq = max(seq for _, seq, _ in acks) + 1 - 10
        assert len(records) >= next_seq + 10
