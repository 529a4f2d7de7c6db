"""Features: batch feature tables (Feast offline sources), registry and online materialization."""

import dagster as dg
import pandas as pd

from feature_repo.batch.tables import batch_feature_tables
from feature_repo.store import apply_definitions
from orchestration.defs.common.freshness import DAILY_LOOP
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.common.split import TimeSplit, time_split
from orchestration.defs.common.warehouse import read_table
from orchestration.defs.ingestion.assets import catalogue, events, users
from orchestration.defs.trust.assets import user_trust
from orchestration.defs.trust.store import with_trust

GROUP = "features"
SPLIT_FILE = "time_split.json"


def load_split(platform: PlatformResource) -> TimeSplit:
    return TimeSplit.load(platform.settings.paths.features / SPLIT_FILE)


@dg.asset(
    group_name=GROUP,
    key_prefix=GROUP,
    deps=[events, catalogue, users, user_trust],
    freshness_policy=DAILY_LOOP,
)
def batch_features(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """User behaviour, user profile and item statistics, snapshotted at the label cut and at the end.

    Two snapshots keep training point-in-time correct (rows after the cut join the cut snapshot)
    while serving reads the latest one. Item statistics count events with their trust weight.
    """
    paths = platform.settings.paths
    ev = with_trust(paths, read_table(paths, "events"))
    items = read_table(paths, "items")
    users = read_table(paths, "users")
    split = time_split(ev["timestamp"])
    snapshots = [split.cut, split.end]
    paths.features.mkdir(parents=True, exist_ok=True)
    split.save(paths.features / SPLIT_FILE)

    tables = batch_feature_tables(ev, items, users, snapshots, split.start)
    for name, frame in tables.items():
        frame.to_parquet(paths.features / f"{name}.parquet", index=False)
        context.log.info(f"{name}: {len(frame)} rows")
    return dg.MaterializeResult(
        metadata={
            **{f"{name}_rows": len(frame) for name, frame in tables.items()},
            "label_cut": str(split.cut),
            "snapshot_end": str(split.end),
        }
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[batch_features], freshness_policy=DAILY_LOOP)
def feature_registry(platform: PlatformResource) -> dg.MaterializeResult:
    """`feast apply`: entities, views, the session push source and the feature services."""
    store = platform.feature_store()
    views = apply_definitions(store, platform.settings.paths.features)
    services = [s.name for s in store.list_feature_services()]
    return dg.MaterializeResult(
        metadata={
            "feature_views": dg.MetadataValue.json(views),
            "feature_services": dg.MetadataValue.json(services),
        }
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[feature_registry], freshness_policy=DAILY_LOOP)
def online_features(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Materialize the latest batch snapshot into the online store the service reads."""
    split = load_split(platform)
    store = platform.feature_store()
    views = [v.name for v in store.list_feature_views() if v.stream_source is None]
    started = pd.Timestamp.now(tz="UTC")
    store.materialize(
        start_date=(split.start - pd.Timedelta(days=1)).to_pydatetime(),
        end_date=(split.end + pd.Timedelta(seconds=1)).to_pydatetime(),
        feature_views=views,
    )
    seconds = (pd.Timestamp.now(tz="UTC") - started).total_seconds()
    context.log.info(f"materialized {views} in {seconds:.1f}s")
    return dg.MaterializeResult(metadata={"views": dg.MetadataValue.json(views), "seconds": seconds})
