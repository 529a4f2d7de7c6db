"""The archiver consumer: hourly partitions, committed offsets, no copies on re-delivery."""

from __future__ import annotations

from pathlib import Path

import pytest

from bento.ingestion.event_log import EventLog
from orchestration.defs.ingestion import archive
from orchestration.defs.ingestion.archive import archive_event_log, read_archive


def _event(n: int, hour: int) -> dict:
    return {
        "event_id": f"e{n}",
        "user_id": f"u{n % 3}",
        "item_id": f"i{n}",
        "event_type": "click",
        "timestamp": f"2026-03-01T{hour:02d}:{n % 60:02d}:00+00:00",
    }


def test_events_land_in_hourly_partitions_once(tmp_path: Path) -> None:
    log_dir, root = tmp_path / "log", tmp_path / "archive"
    with EventLog(log_dir) as log:
        log.append_many([_event(n, 10) for n in range(5)] + [_event(n, 11) for n in range(5, 8)])
    run = archive_event_log(log_dir, root)
    assert (run.records, run.committed_offset, run.lag) == (8, 8, 0)
    assert sorted(p.name for p in root.iterdir()) == ["hour=2026-03-01T10", "hour=2026-03-01T11"]
    assert archive_event_log(log_dir, root).records == 0, "a second run finds nothing new"
    with EventLog(log_dir) as log:
        log.append(_event(9, 12))
    assert archive_event_log(log_dir, root).records == 1
    frame = read_archive(root)
    assert sorted(frame["event_id"]) == sorted([f"e{n}" for n in range(8)] + ["e9"])
    assert str(frame["timestamp"].dt.tz) == "UTC"


def test_a_crash_before_commit_redelivers_without_copies(tmp_path: Path, monkeypatch) -> None:
    log_dir, root = tmp_path / "log", tmp_path / "archive"
    with EventLog(log_dir) as log:
        log.append_many([_event(n, 10) for n in range(6)])
    original = archive.write_hourly

    def crash_after_writing(batch, out):
        original(batch, out)
        raise RuntimeError("killed before the offset commit")

    monkeypatch.setattr(archive, "write_hourly", crash_after_writing)
    with pytest.raises(RuntimeError):
        archive_event_log(log_dir, root)
    monkeypatch.setattr(archive, "write_hourly", original)
    run = archive_event_log(log_dir, root)
    assert run.records == 6, "the uncommitted batch comes again"
    files = list(root.glob("hour=*/*.parquet"))
    assert len(files) == 1, "the re-delivered batch overwrote its own file"
    assert len(read_archive(root)) == 6


def test_the_archiver_process_drains_the_log_and_the_job_records_its_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Production profile: `python -m orchestration.archiver` consumes; the asset only reports, and
    fails once the oldest unarchived event is older than the archive's warn window."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import dagster as dg

    from contracts.settings import REPO_ROOT
    from orchestration.defs.common.resources import PlatformResource
    from orchestration.defs.ingestion.assets import ARCHIVE_DIR, event_archive

    home = tmp_path / "home"
    config = tmp_path / "ingestion.yaml"
    config.write_text("archiver: {mode: external, poll_interval_s: 0.1}\n")
    with EventLog(home / "event_log") as log:
        log.append_many([_event(n, 10) for n in range(4)])
    env = {**os.environ, "RECO_HOME": str(home), "RECO_INGESTION_CONFIG": str(config)}
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestration.archiver"],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    try:
        while archive.archiver_progress(home / "event_log")[1] > 0:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the archiver never drained the log"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "stopped at offset 4" in output
    assert sorted(read_archive(home / "warehouse" / ARCHIVE_DIR)["event_id"]) == [f"e{n}" for n in range(4)]

    monkeypatch.setenv("RECO_INGESTION_CONFIG", str(config))
    platform = PlatformResource(home=str(home), progress=False)
    result = dg.materialize([event_archive], resources={"platform": platform})
    [materialized] = result.asset_materializations_for_node("ingestion__event_archive")
    assert materialized.metadata["archiver"].value == "external"
    assert materialized.metadata["lag"].value == 0
    with EventLog(home / "event_log") as log:
        log.append(_event(9, 12))  # the archiver is stopped; this event is months old
    stale = dg.materialize([event_archive], resources={"platform": platform}, raise_on_error=False)
    assert not stale.success
    assert archive.archiver_progress(home / "event_log")[:2] == (4, 1), "the job itself consumed nothing"
