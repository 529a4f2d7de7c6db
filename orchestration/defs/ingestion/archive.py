"""The archiver: a consumer of the event log that writes hourly Parquet partitions.

It commits its offset only after a batch's files are written, so a crash re-delivers the batch;
files are named by the batch's first offset, so a re-delivered batch overwrites its own files
instead of adding copies (and readers deduplicate by event id all the same).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bento.ingestion.consumers import offsets_for, run_consumer
from bento.ingestion.log_backend import open_event_source
from contracts.schemas import EVENTS_SCHEMA, NO_POSITION, UNKNOWN

ARCHIVER = "archiver"
BATCH_SIZE = 50_000
DEFAULTS: dict[str, Any] = {
    "surface": UNKNOWN,
    "session_id": UNKNOWN,
    "device": UNKNOWN,
    "position": NO_POSITION,
    "value": 0.0,
}


@dataclass(frozen=True)
class ArchiveRun:
    records: int
    files: int
    committed_offset: int
    lag: int


def to_events_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Log records in the world's event layout (EVENTS_SCHEMA), defaults filled."""
    if not records:
        return pa.Table.from_pylist([], schema=EVENTS_SCHEMA).to_pandas()
    frame = pd.DataFrame.from_records(records)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    for column, default in DEFAULTS.items():
        frame[column] = frame[column].fillna(default) if column in frame else default
    frame["position"] = frame["position"].astype("int32")
    frame["value"] = frame["value"].astype("float64")
    return frame[EVENTS_SCHEMA.names]


def write_hourly(batch: list[tuple[int, dict[str, Any]]], root: Path) -> int:
    """One file per (hour, batch): ``hour=YYYY-MM-DDTHH/offsets-<first offset>.parquet``."""
    frame = to_events_frame([record for _, record in batch])
    first = batch[0][0]
    written = 0
    for hour, group in frame.groupby(frame["timestamp"].dt.floor("h")):
        path = root / f"hour={hour:%Y-%m-%dT%H}" / f"offsets-{first:012d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        pq.write_table(pa.Table.from_pandas(group, schema=EVENTS_SCHEMA, preserve_index=False), tmp)
        tmp.replace(path)
        written += 1
    return written


def archive_event_log(log_target: str | Path, root: Path, batch_size: int = BATCH_SIZE) -> ArchiveRun:
    """Move everything the log holds beyond the archiver's committed offset into partitions."""
    source = open_event_source(log_target)
    files = 0

    def handle(batch: list[tuple[int, dict[str, Any]]]) -> None:
        nonlocal files
        files += write_hourly(batch, root)

    try:
        offsets = offsets_for(source)
        before = offsets.get(ARCHIVER)
        consumer = run_consumer(source, offsets, ARCHIVER, handle, batch_size=batch_size)
        return ArchiveRun(consumer.committed - before, files, consumer.committed, consumer.lag())
    finally:
        source.close()


def run_archiver(
    log_target: str | Path, root: Path, stop: threading.Event, poll_interval_s: float, batch_size: int
) -> int:
    """The archiver as a long-running consumer (its own process); returns its committed offset."""
    source = open_event_source(log_target)

    def handle(batch: list[tuple[int, dict[str, Any]]]) -> None:
        write_hourly(batch, root)

    try:
        offsets = offsets_for(source)
        consumer = run_consumer(
            source,
            offsets,
            ARCHIVER,
            handle,
            batch_size=batch_size,
            stop=stop,
            poll_interval=poll_interval_s,
        )
        return consumer.committed
    finally:
        source.close()


def archiver_progress(log_target: str | Path) -> tuple[int, int, datetime | None]:
    """(committed offset, events behind, timestamp of the oldest event not archived yet)."""
    if isinstance(log_target, Path) and not log_target.exists():
        return 0, 0, None
    source = open_event_source(log_target)
    try:
        committed = offsets_for(source).get(ARCHIVER)
        behind = max(0, source.end_offset() - committed)
        pending = source.read(committed, 1)
    finally:
        source.close()
    oldest = datetime.fromisoformat(pending[0][1]["timestamp"]).astimezone(UTC) if pending else None
    return committed, behind, oldest


def read_archive(root: Path) -> pd.DataFrame:
    """Every archived event, deduplicated by event id (a re-delivered batch is counted once)."""
    parts = sorted(root.glob("hour=*/*.parquet"))
    if not parts:
        return pa.Table.from_pylist([], schema=EVENTS_SCHEMA).to_pandas()
    frame = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    return frame.drop_duplicates("event_id", keep="first")
