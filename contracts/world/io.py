"""Reading and writing a world directory: the one place that knows the on-disk layout.

The generator and every dataset adapter write through here and every consumer reads through here,
so the Parquet files always carry exactly the schemas of :mod:`contracts.schemas`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pydantic import BaseModel

from contracts.schemas import (
    EVENT_TYPES,
    EVENTS_DIR,
    EVENTS_SCHEMA,
    ITEMS_FILE,
    ITEMS_SCHEMA,
    MANIFEST_FILE,
    USERS_FILE,
    USERS_SCHEMA,
)

EVENTS_PART_ROWS = 5_000_000  # adapters split events into part files of at most this many rows
ID_DIGITS = 7  # u0000001, i0000001
EVENT_ID_DIGITS = 10  # e0000000001


@dataclass
class WorldTables:
    """A whole world in memory (fine for demo-sized worlds and real datasets; not for ``large``)."""

    users: pd.DataFrame
    items: pd.DataFrame
    events: pd.DataFrame


class WorldSummary(BaseModel):
    """What a world directory holds; written next to the tables as ``world.json``."""

    kind: str  # demo | movielens | interactions | custom
    size: str | None = None
    seed: int | None = None
    source_path: str | None = None
    n_users: int
    n_items: int
    n_events: int
    n_event_files: int
    start_time: datetime | None  # demo: the window [end - days, end); real data: first and last event
    end_time: datetime | None
    event_counts: dict[str, int]


def to_arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """A frame as an Arrow table of exactly ``schema`` (column order, types, no pandas metadata)."""
    missing = [name for name in schema.names if name not in frame.columns]
    if missing:
        raise ValueError(f"missing columns {missing}; expected {schema.names}")
    columns = {}
    for name in schema.names:
        column = frame[name]
        if pa.types.is_timestamp(schema.field(name).type):
            column = pd.to_datetime(column, utc=True).dt.floor("us").dt.as_unit("us")
        columns[name] = column
    table = pa.Table.from_pandas(pd.DataFrame(columns), schema=schema, preserve_index=False)
    return table.replace_schema_metadata(None)


def id_digits(total: int) -> int:
    return max(ID_DIGITS, len(str(total)))


def prefixed_ids(prefix: str, first: int, n: int, digits: int) -> pa.Array:
    """``u0000001``-style ids numbering rows ``first .. first + n - 1`` from 1, zero-padded to ``digits``."""
    numbers = pc.cast(pa.array(np.arange(first + 1, first + n + 1, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, digits, "0"), "")


def write_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def events_part_path(out_dir: Path, index: int) -> Path:
    return Path(out_dir) / EVENTS_DIR / f"part-{index:05d}.parquet"


def count_event_types(counts: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Event counts keyed in :data:`EVENT_TYPES` order (then any others), so world.json is stable."""
    total: dict[str, int] = {}
    for event_type, n in counts:
        total[event_type] = total.get(event_type, 0) + int(n)
    order = {name: i for i, name in enumerate(EVENT_TYPES)}
    return dict(sorted(total.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def write_summary(out_dir: Path, summary: WorldSummary) -> None:
    (Path(out_dir) / MANIFEST_FILE).write_text(summary.model_dump_json(indent=2) + "\n")


def read_summary(world_dir: Path) -> WorldSummary:
    return WorldSummary.model_validate(json.loads((Path(world_dir) / MANIFEST_FILE).read_text()))


def write_tables(
    out_dir: Path,
    users: pd.DataFrame,
    items: pd.DataFrame,
    events: pd.DataFrame,
    *,
    kind: str = "custom",
    source_path: str | None = None,
) -> WorldSummary:
    """Write in-memory tables as a world directory (events split into parts) and its summary."""
    out_dir = Path(out_dir)
    write_parquet(to_arrow(users, USERS_SCHEMA), out_dir / USERS_FILE)
    write_parquet(to_arrow(items, ITEMS_SCHEMA), out_dir / ITEMS_FILE)
    events = events.sort_values("timestamp", kind="stable")
    n_parts = max(1, -(-len(events) // EVENTS_PART_ROWS))
    for part in range(n_parts):
        chunk = events.iloc[part * EVENTS_PART_ROWS : (part + 1) * EVENTS_PART_ROWS]
        write_parquet(to_arrow(chunk, EVENTS_SCHEMA), events_part_path(out_dir, part))
    times = events["timestamp"]
    summary = WorldSummary(
        kind=kind,
        source_path=source_path,
        n_users=len(users),
        n_items=len(items),
        n_events=len(events),
        n_event_files=n_parts,
        start_time=times.min().to_pydatetime() if len(events) else None,
        end_time=times.max().to_pydatetime() if len(events) else None,
        event_counts=count_event_types(events["event_type"].value_counts().items()),
    )
    write_summary(out_dir, summary)
    return summary


def read_users(world_dir: Path) -> pd.DataFrame:
    return pq.read_table(Path(world_dir) / USERS_FILE, schema=USERS_SCHEMA).to_pandas()


def read_items(world_dir: Path) -> pd.DataFrame:
    return pq.read_table(Path(world_dir) / ITEMS_FILE, schema=ITEMS_SCHEMA).to_pandas()


def events_dataset(world_dir: Path) -> ds.Dataset:
    """All event part files as one Arrow dataset (lazy; filters and projections are pushed down)."""
    return ds.dataset(Path(world_dir) / EVENTS_DIR, format="parquet", schema=EVENTS_SCHEMA)


def _utc(moment: datetime) -> datetime:
    """Naive bounds are taken as UTC, like every timestamp in a world."""
    stamp = pd.Timestamp(moment)
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")).to_pydatetime()


def read_events(
    world_dir: Path,
    columns: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pd.DataFrame:
    """Events with ``since <= timestamp < until`` (either bound optional), in file order."""
    condition = None
    if since is not None:
        condition = ds.field("timestamp") >= _utc(since)
    if until is not None:
        upper = ds.field("timestamp") < _utc(until)
        condition = upper if condition is None else condition & upper
    return events_dataset(world_dir).to_table(columns=columns, filter=condition).to_pandas()


def read_world(world_dir: Path) -> WorldTables:
    return WorldTables(read_users(world_dir), read_items(world_dir), read_events(world_dir))
