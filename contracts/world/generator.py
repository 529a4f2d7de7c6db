"""Generate the deterministic demo world, streamed chunk by chunk so ``large`` fits in memory.

Same ``(seed, size, end_time)`` -> byte-identical Parquet files: every random draw comes from a
stream keyed by (seed, purpose, chunk), and chunks are written in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from tqdm import tqdm

from contracts.schemas import ITEMS_FILE, USERS_FILE, USERS_SCHEMA
from contracts.settings import WorldSize
from contracts.world.behaviour import chunk_events
from contracts.world.catalog import make_catalog, make_users, rng_for, user_tastes
from contracts.world.io import WorldSummary, count_event_types, events_part_path, write_parquet, write_summary
from contracts.world.sizes import MICROS, SECONDS_PER_DAY, WorldSpec, spec_for

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def default_end_time() -> datetime:
    """Now, floored to the hour: worlds generated within the same hour are identical."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def _window(spec: WorldSpec, end_time: datetime | None) -> tuple[datetime, int, int]:
    end = default_end_time() if end_time is None else end_time
    if end.tzinfo is None:
        raise ValueError("end_time must be timezone-aware (UTC)")
    end = end.astimezone(UTC)
    end_us = (end - _EPOCH) // timedelta(microseconds=1)
    return end, end_us - spec.days * SECONDS_PER_DAY * MICROS, end_us


def generate_world(
    out_dir: Path,
    size: WorldSize,
    seed: int,
    end_time: datetime | None = None,
    progress: bool = True,
) -> WorldSummary:
    """Write users, items, events (one part file per chunk of users) and world.json into ``out_dir``.

    Events lie in ``[end_time - spec.days, end_time)``; ``end_time`` defaults to the current hour.
    """
    spec = spec_for(size)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    end, start_us, end_us = _window(spec, end_time)
    catalog = make_catalog(spec, seed, start_us, end_us)
    write_parquet(catalog.table, out_dir / ITEMS_FILE)

    n_events = 0
    counts: list[tuple[str, int]] = []
    bar = tqdm(total=spec.n_users, desc=f"world {size}", unit="user", disable=not progress)
    with pq.ParquetWriter(out_dir / USERS_FILE, USERS_SCHEMA) as users_writer:
        for chunk in range(spec.n_chunks):
            users = make_users(spec, seed, chunk, catalog.centroids, start_us, end_us)
            users_writer.write_table(users.table)
            events = chunk_events(
                rng_for(seed, "events", chunk), spec, catalog, users, start_us, end_us, n_events
            )
            write_parquet(events, events_part_path(out_dir, chunk))
            n_events += events.num_rows
            types = events.column("event_type").value_counts()
            counts += [(kv["values"].as_py(), kv["counts"].as_py()) for kv in types]
            bar.update(users.table.num_rows)
            bar.set_postfix(events=n_events)
            del users, events
    bar.close()
    summary = WorldSummary(
        kind="demo",
        size=size,
        seed=seed,
        n_users=spec.n_users,
        n_items=spec.n_items,
        n_events=n_events,
        n_event_files=spec.n_chunks,
        start_time=end - timedelta(days=spec.days),
        end_time=end,
        event_counts=count_event_types(counts),
    )
    write_summary(out_dir, summary)
    return summary


@dataclass(frozen=True)
class LatentTruth:
    """The hidden model of a demo world, rows aligned with items.parquet and users.parquet."""

    item_vectors: np.ndarray
    item_category: np.ndarray  # index into latent.CATEGORY_NAMES
    user_vectors: np.ndarray
    user_category_weights: np.ndarray  # users x categories, rows sum to 1


def latent_truth(size: WorldSize, seed: int) -> LatentTruth:
    """Recompute the true tastes behind a generated world, to score models against real affinity."""
    spec = spec_for(size)
    catalog = make_catalog(
        spec, seed, 0, spec.days * SECONDS_PER_DAY * MICROS
    )  # tastes do not depend on time
    vectors, weights = [], []
    for chunk in range(spec.n_chunks):
        n = min(spec.users_per_chunk, spec.n_users - chunk * spec.users_per_chunk)
        w, _, v = user_tastes(spec, seed, chunk, n, catalog.centroids)
        vectors.append(v)
        weights.append(w)
    return LatentTruth(catalog.vectors, catalog.category, np.concatenate(vectors), np.concatenate(weights))
