"""Retention on a small home whose data is stamped in the past (like the demo world): old partitions,
consumed old log segments and old feature rows go; recent ones, unconsumed segments and each entity's
newest feature row stay; offsets survive."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd

from bento.ingestion.event_log import EventLog, EventLogReader
from bento.ingestion.segments import list_segments
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.ingestion.archive import archive_event_log
from orchestration.defs.privacy.assets import data_retention

DAY = pd.Timedelta(days=1)
END = pd.Timestamp("2025-01-01T00:00:00Z")  # far in the past: the wall clock would drop everything


def _event(n: int, at: pd.Timestamp) -> dict:
    return {
        "event_id": f"e{n}",
        "user_id": f"u{n % 2}",
        "item_id": f"i{n}",
        "event_type": "click",
        "timestamp": at.isoformat(),
    }


def test_retention_drops_old_raw_events_and_rows_and_keeps_recent_ones(tmp_path: Path) -> None:
    log_dir, warehouse, features = tmp_path / "event_log", tmp_path / "warehouse", tmp_path / "features"
    old = [_event(n, END - 200 * DAY + pd.Timedelta(minutes=n)) for n in range(40)]
    recent = [_event(n, END - 10 * DAY + pd.Timedelta(minutes=n)) for n in range(40, 80)]
    with EventLog(log_dir, segment_bytes=2_000) as log:
        for start in range(0, 80, 10):
            log.append_many((old + recent)[start : start + 10])
    archive_event_log(log_dir, warehouse / "event_partitions")  # the archiver consumed everything
    with EventLog(log_dir, segment_bytes=2_000) as log:
        log.append_many([_event(n, END - 300 * DAY) for n in range(80, 90)])  # old, not yet archived
    features.mkdir()
    stamps = [END - 1000 * DAY, END - 900 * DAY, END - 10 * DAY]
    stats = pd.DataFrame({"user_id": ["a", "a", "b"], "event_timestamp": stamps, "clicks": [1, 2, 3]})
    stats.loc[1, "user_id"] = "b"  # a: one row, 1000 days old (its newest); b: 900 and 10 days old
    stats.to_parquet(features / "user_stats.parquet", index=False)
    segments_before = len(list_segments(log_dir))

    platform = PlatformResource(home=str(tmp_path), progress=False)
    result = dg.materialize([data_retention], resources={"platform": platform})
    assert result.success
    meta = result.asset_materializations_for_node("privacy__data_retention")[0].metadata

    hours = sorted(p.name for p in (warehouse / "event_partitions").iterdir())
    assert hours and all(h >= f"hour={(END - 11 * DAY):%Y-%m-%d}" for h in hours)
    assert meta["partitions_dropped"].value > 0
    assert meta["measured_from"].value.startswith("2024-12")  # the data's clock, not today
    dropped = meta["segments_dropped"].value
    assert dropped and len(list_segments(log_dir)) == segments_before
    reader = EventLogReader(log_dir)
    assert reader.end_offset() == 90  # offsets kept: dropped segments stand in as gaps
    live = dict(reader.read(0, 100))
    assert all(live[n] == r for n, r in enumerate(recent, start=40))
    assert not any(n < 40 for n in live if live[n]["event_id"] in {r["event_id"] for r in old})
    assert all(n in live for n in range(80, 90))  # old but never consumed: kept for the archiver
    kept = pd.read_parquet(features / "user_stats.parquet")
    assert sorted(zip(kept["user_id"], kept["clicks"], strict=True)) == [("a", 1), ("b", 3)]
    with EventLog(log_dir, segment_bytes=2_000) as log:  # the writer reopens over the gaps
        assert log.end_offset() == 90 and log.append(_event(99, END)).offset == 90
