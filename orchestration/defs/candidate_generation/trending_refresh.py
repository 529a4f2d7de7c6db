"""Trending every 5 minutes (the design's cadence): the daily list is up to a day old, and a
4-hour window must not be.

Every 5 minutes this job recomputes trending from the
recent hourly partitions plus the warehouse events (deduplicated by event id) as of the latest
event, and replaces ``artifacts/live_candidates/trending.json`` atomically (write, fsync,
``os.replace``) for a running server to pick up. Only the baseline period is read, so the cost
does not grow with history. Events count with their account's trust weight, scored on this window
as well as daily (``trust.live``), so a farm that starts between daily runs cannot trend either.
"""

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq

from contracts.settings import PlatformPaths
from orchestration.defs.common.freshness import LIVE_TRENDING
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.warehouse import read_table, table_path
from orchestration.defs.ingestion.assets import ARCHIVE_DIR
from orchestration.defs.trust.live import with_window_trust
from training.candidates.trending import TRENDING_FILE, trending_lists
from training.config import TrendingConfig

REFRESH_CRON = "*/5 * * * *"
# What the job updates, as an asset: its freshness (5 minutes) is watched like every other one.
live_trending = dg.AssetSpec(
    key=["candidate_generation", "live_trending"],
    group_name="candidate_generation",
    deps=[["ingestion", "event_archive"], ["ingestion", "catalogue"], ["trust", "user_trust"]],
    description="Trending lists over the recent archive, published for the running service "
    "(artifacts/live_candidates/trending.json); updated by the trending_refresh job.",
    freshness_policy=LIVE_TRENDING,
)
COLUMNS = ["event_id", "user_id", "item_id", "event_type", "timestamp"]


def live_candidates_dir(paths: PlatformPaths) -> Path:
    return paths.live_candidates


def recent_events(paths: PlatformPaths, since: pd.Timestamp) -> pd.DataFrame:
    """Warehouse and archived events at or after ``since``, each event once."""
    frames = []
    if table_path(paths, "events").exists():
        stored = read_table(paths, "events", COLUMNS)
        frames.append(stored[stored["timestamp"] >= since])
    first_hour = f"hour={since.strftime('%Y-%m-%dT%H')}"
    for part in sorted((paths.warehouse / ARCHIVE_DIR).glob("hour=*/*.parquet")):
        if part.parent.name >= first_hour:
            present = set(pq.read_schema(part).names)  # older partitions may lack a column
            frames.append(pd.read_parquet(part, columns=[c for c in COLUMNS if c in present]))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    merged = pd.concat(frames, ignore_index=True).drop_duplicates("event_id", keep="first")
    merged["timestamp"] = pd.to_datetime(merged["timestamp"], utc=True)
    return merged[merged["timestamp"] >= since]


def refresh_trending(paths: PlatformPaths, config: TrendingConfig | None = None) -> dict[str, Any]:
    """Recompute and publish trending as of the latest event; returns what was published."""
    config = config or TrendingConfig()
    latest = recent_events(paths, pd.Timestamp.now(tz="UTC") - timedelta(days=config.baseline_days))
    if latest.empty:  # quiet (or historical demo data): anchor the window at the newest event stored
        newest = read_table(paths, "events", ["timestamp"])["timestamp"].max()
        latest = recent_events(paths, newest - timedelta(days=config.baseline_days))
    items = read_table(paths, "items", ["item_id", "category"])
    lists = trending_lists(with_window_trust(paths, latest), items, None, config)
    out = live_candidates_dir(paths)
    out.mkdir(parents=True, exist_ok=True)
    tmp = lists.save(out / ".next")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, out / TRENDING_FILE)
    return {
        "as_of": lists.as_of,
        "overall": len(lists.overall),
        "categories": len(lists.by_category),
        "events": len(latest),
        "path": str(out / TRENDING_FILE),
        "top": json.dumps(lists.overall[:10]),
    }


@dg.op(description="Recompute trending from the latest hourly partitions; replace the live list atomically.")
def refresh_trending_list(context: dg.OpExecutionContext, platform: PlatformResource) -> dg.Output[None]:
    result = refresh_trending(platform.settings.paths)
    context.log.info(f"trending as of {result['as_of']}: {result['overall']} items")
    context.log_event(dg.AssetMaterialization(asset_key=live_trending.key, metadata=result))
    return dg.Output(None, metadata=result)


@dg.job(description="Trending refresh every 5 minutes between daily runs (sliding window over the archive).")
def trending_refresh() -> None:
    refresh_trending_list()


trending_refresh_schedule = dg.ScheduleDefinition(
    job=trending_refresh, cron_schedule=REFRESH_CRON, execution_timezone="UTC"
)
