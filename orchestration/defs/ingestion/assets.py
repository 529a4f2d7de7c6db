"""Ingestion: the source world (demo or a real dataset), the archived event log, curated tables."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bento.catalogue.filter_store import read_catalogue_changes
from bento.ingestion.settings import load_ingestion_config
from contracts.schemas import EVENTS_SCHEMA, ITEMS_SCHEMA, MANIFEST_FILE, USERS_SCHEMA
from contracts.settings import SourceConfig
from contracts.sources import materialize_source
from contracts.world.io import WorldSummary, read_events, read_items, read_summary, read_users
from orchestration.defs.common.freshness import DAILY_LOOP, HOURLY_ARCHIVE
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.ingestion.archive import archive_event_log, archiver_progress, read_archive

GROUP = "ingestion"
ARCHIVE_DIR = "event_partitions"


class SourceWorldConfig(dg.Config):
    rebuild: bool = False  # regenerate / re-import even when a world from the same source exists


def _same_source(summary: WorldSummary, source: SourceConfig) -> bool:
    if summary.kind != source.kind:
        return False
    if source.kind == "demo":
        return summary.size == source.size and summary.seed == source.seed
    return summary.source_path == str(source.path)


@dg.asset(group_name=GROUP, key_prefix=GROUP)
def source_world(
    context: dg.AssetExecutionContext, config: SourceWorldConfig, platform: PlatformResource
) -> dg.MaterializeResult:
    """Users, catalogue and historical events from the demo generator or a real dataset.

    An existing world from the same source is reused (generation is deterministic by seed, an
    import by path); `rebuild` forces a fresh one.
    """
    settings = platform.settings
    world = settings.paths.world
    existing = read_summary(world) if (world / MANIFEST_FILE).exists() else None
    if existing is not None and not config.rebuild and _same_source(existing, settings.source):
        context.log.info(f"reusing world at {world}")
        summary = existing
    else:
        summary = materialize_source(settings.source, world, progress=platform.progress)
    meta = summary.model_dump(mode="json")
    return dg.MaterializeResult(metadata={k: _meta(v) for k, v in meta.items()})


def _meta(value: object) -> object:
    return value if isinstance(value, int | float | str | bool) else str(value)


def _write(frame: pd.DataFrame, schema: pa.Schema, path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False), tmp)
    tmp.replace(path)


@dg.asset(
    group_name=GROUP,
    key_prefix=GROUP,
    freshness_policy=HOURLY_ARCHIVE,
    description="Events the API acknowledged, moved from the event log into hourly Parquet partitions.",
)
def event_archive(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    paths = platform.settings.paths
    if load_ingestion_config().archiver.mode == "external":  # `python -m orchestration.archiver` drains it
        return external_archiver_progress(paths.event_log)
    run = archive_event_log(paths.event_log, paths.warehouse / ARCHIVE_DIR)
    context.log.info(f"archived {run.records} events into {run.files} partition files")
    return dg.MaterializeResult(
        metadata={
            "records": run.records,
            "files": run.files,
            "committed_offset": run.committed_offset,
            "lag": run.lag,
        }
    )


def external_archiver_progress(event_log: Path) -> dg.MaterializeResult:
    """The archiver runs as its own process: record how far it got; fail (and page) when the oldest
    event it has not archived is older than the archive's warn window, i.e. it stopped or lags."""
    committed, behind, oldest = archiver_progress(event_log)
    window = HOURLY_ARCHIVE.warn_window.to_timedelta()  # type: ignore[union-attr]
    if oldest is not None and datetime.now(UTC) - oldest > window:
        raise dg.Failure(
            f"the external archiver is {behind} events behind; the oldest is from {oldest.isoformat()}",
            metadata={"committed_offset": committed, "lag": behind},
        )
    return dg.MaterializeResult(
        metadata={"archiver": "external", "committed_offset": committed, "lag": behind}
    )


@dg.asset(
    group_name=GROUP,
    key_prefix=GROUP,
    deps=[source_world, event_archive],
    freshness_policy=DAILY_LOOP,
    description="All behaviour events: the source history plus the archived events the API "
    "acknowledged, deduplicated by event id.",
)
def events(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    paths = platform.settings.paths
    history = read_events(paths.world)  # users and items are read by their own assets
    live = read_archive(paths.warehouse / ARCHIVE_DIR)
    merged = pd.concat([history, live], ignore_index=True) if len(live) else history
    merged = merged.drop_duplicates("event_id", keep="first").sort_values("timestamp", kind="stable")
    _write(merged, EVENTS_SCHEMA, paths.warehouse / "events.parquet")
    counts = merged["event_type"].value_counts().to_dict()
    return dg.MaterializeResult(
        metadata={
            "rows": len(merged),
            "from_event_log": len(live),
            "first_event": str(merged["timestamp"].min()),
            "last_event": str(merged["timestamp"].max()),
            "event_types": dg.MetadataValue.json({k: int(v) for k, v in counts.items()}),
            "materialized_at": pd.Timestamp.now(tz=UTC).isoformat(),
        }
    )


def overlay_catalogue(items: pd.DataFrame, live: pd.DataFrame, removed: set[str]) -> pd.DataFrame:
    merged = pd.concat([items[~items["item_id"].isin(set(live["item_id"]))], live], ignore_index=True)
    return merged[~merged["item_id"].isin(removed)].reset_index(drop=True)


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[source_world], freshness_policy=DAILY_LOOP)
def catalogue(platform: PlatformResource) -> dg.MaterializeResult:
    """The item catalogue: category, brand, price, text, creation time, stock, sponsorship.

    The source's items, overlaid with what the catalogue API wrote since (created and updated items
    kept, deleted and policy-flagged items dropped), so retraining never forgets a live change.
    """
    paths = platform.settings.paths
    live, removed = read_catalogue_changes(paths.filter_store)
    items = overlay_catalogue(read_items(paths.world), live, removed)
    _write(items, ITEMS_SCHEMA, paths.warehouse / "items.parquet")
    return dg.MaterializeResult(
        metadata={
            "rows": len(items),
            "categories": int(items["category"].nunique()),
            "in_stock_share": float(items["in_stock"].mean()),
            "preview": dg.MetadataValue.json(items.head(5).astype(str).to_dict("records")),
        }
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[source_world], freshness_policy=DAILY_LOOP)
def users(platform: PlatformResource) -> dg.MaterializeResult:
    """User profiles: country, age bucket, device, segment."""
    paths = platform.settings.paths
    frame = read_users(paths.world)
    _write(frame, USERS_SCHEMA, paths.warehouse / "users.parquet")
    return dg.MaterializeResult(metadata={"rows": len(frame), "segments": int(frame["segment"].nunique())})
