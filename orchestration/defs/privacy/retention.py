"""Retention: drop raw events past the raw horizon and feature rows past the aggregate horizon.

Which clock: with ``clock: data`` (the default) age is measured against the newest event the
platform holds (capped at the wall clock, so one event stamped in the future cannot age everything
else out). In a live system events keep arriving, so the data's clock is the wall clock give or
take the ingestion lag; but the demo world (and any replayed dataset) is stamped relative to a
fixed reference time, and measuring it against the wall clock would wipe it, or keep it forever.
The data's clock also means a stalled pipeline deletes nothing while nothing new arrives. Set
``clock: wall`` to age strictly by the calendar.

What goes: hourly event partitions whose hour ended before the raw horizon; local event log segments
whose newest record is older than it *and* that every consumer (the archiver included) has fully
consumed, replaced by a gap line so offsets stay valid (never the segment being written); and rows
of the offline feature sources older than the aggregate horizon, except each entity's newest row
(batch features age, they do not expire: it is still the entity's current value).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bento.ingestion.erasure import compaction_lock, count_offsets, replace_with_gap
from bento.ingestion.segments import GAP, decode_line, list_segments
from contracts.settings import PlatformPaths

PARTITIONS_DIR = "event_partitions"
HOUR = timedelta(hours=1)
FEATURE_TIMESTAMP = "event_timestamp"
ENTITY_COLUMNS = ("user_id", "item_id")


@dataclass
class RetentionReport:
    now: datetime
    partitions_dropped: list[str] = field(default_factory=list)
    segments_dropped: list[str] = field(default_factory=list)
    segments_kept_unconsumed: list[str] = field(default_factory=list)
    log_bytes_freed: int = 0
    feature_rows_dropped: dict[str, int] = field(default_factory=dict)


def _hour_of(partition: Path) -> datetime:
    return datetime.strptime(partition.name.split("=", 1)[1], "%Y-%m-%dT%H").replace(tzinfo=UTC)


def data_now(paths: PlatformPaths, clock: str, wall: datetime | None = None) -> datetime:
    """The moment ages are measured from (see the module docstring)."""
    wall = wall or datetime.now(UTC)
    if clock == "wall":
        return wall
    newest: list[datetime] = []
    events = paths.warehouse / "events.parquet"
    if events.exists():
        stamps = pq.ParquetFile(events).read(columns=["timestamp"]).column("timestamp")
        latest = pc.max(stamps).as_py()
        if latest is not None:
            newest.append(pd.Timestamp(latest).tz_convert(UTC).to_pydatetime())
    partitions = list((paths.warehouse / PARTITIONS_DIR).glob("hour=*"))
    if partitions:
        newest.append(max(_hour_of(p) for p in partitions) + HOUR)
    return min(max(newest), wall) if newest else wall


def drop_partitions(root: Path, horizon: datetime) -> list[str]:
    dropped = []
    for partition in sorted(root.glob("hour=*")):
        if _hour_of(partition) + HOUR <= horizon:
            shutil.rmtree(partition)
            dropped.append(partition.name)
    return dropped


def _consumed_offset(log_dir: Path) -> int:
    """The lowest committed offset of any consumer (0 if none ever committed: nothing is consumed)."""
    offsets = [json.loads(p.read_text())["offset"] for p in (log_dir / "consumers").glob("*.json")]
    return min(offsets, default=0)


def _newest_record(segment: Path) -> tuple[datetime | None, bool]:
    """The newest record time in a segment, and whether the segment is already a gap."""
    newest: datetime | None = None
    with open(segment, "rb") as handle:
        for line in handle:
            record = decode_line(line)
            if record is None:
                break
            if GAP in record:
                return None, True
            if "timestamp" in record:
                stamp = datetime.fromisoformat(record["timestamp"])
                newest = stamp if newest is None else max(newest, stamp)
    return newest, False


def drop_log_segments(log_dir: Path, horizon: datetime, report: RetentionReport) -> None:
    segments = list_segments(log_dir)
    if len(segments) < 2:
        return
    consumed = _consumed_offset(log_dir)
    with compaction_lock(log_dir):
        end = 0
        for segment in segments[:-1]:  # the last one is being written
            end += count_offsets(segment)
            newest, is_gap = _newest_record(segment)
            if is_gap or newest is None or newest > horizon:
                continue
            if end > consumed:
                report.segments_kept_unconsumed.append(segment.name)
                continue
            report.log_bytes_freed += replace_with_gap(segment)
            report.segments_dropped.append(segment.name)


def drop_old_feature_rows(features_dir: Path, horizon: datetime) -> dict[str, int]:
    dropped: dict[str, int] = {}
    for path in sorted(features_dir.glob("*.parquet")):
        frame = pd.read_parquet(path)
        entity = next((c for c in ENTITY_COLUMNS if c in frame.columns), None)
        if FEATURE_TIMESTAMP not in frame.columns or entity is None or frame.empty:
            continue
        stamps = pd.to_datetime(frame[FEATURE_TIMESTAMP], utc=True)
        newest = stamps.groupby(frame[entity]).transform("max")
        keep = (stamps >= pd.Timestamp(horizon)) | (stamps == newest)
        if not keep.all():
            tmp = path.with_name(f".{path.name}.retention.tmp")
            frame[keep.to_numpy()].to_parquet(tmp, index=False)
            tmp.replace(path)
            dropped[path.stem] = int((~keep).sum())
    return dropped


def apply_retention(
    paths: PlatformPaths, raw: timedelta, aggregates: timedelta, clock: str, wall: datetime | None = None
) -> RetentionReport:
    report = RetentionReport(now=data_now(paths, clock, wall))
    report.partitions_dropped = drop_partitions(paths.warehouse / PARTITIONS_DIR, report.now - raw)
    if paths.event_log.exists():
        drop_log_segments(paths.event_log, report.now - raw, report)
    if paths.features.exists():
        report.feature_rows_dropped = drop_old_feature_rows(paths.features, report.now - aggregates)
    return report
