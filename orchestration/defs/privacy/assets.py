"""Privacy: apply erasure requests offline, check their deadline, purge deleted items' online
features, and enforce retention."""

from datetime import UTC, datetime

import dagster as dg

from bento.catalogue.filter_store import read_deleted_items
from bento.privacy.ledger import ErasureLedger, ledger_path
from bento.privacy.online import delete_online_item, delete_online_user
from orchestration.defs.common.freshness import DAILY_LOOP, HOURLY_ARCHIVE
from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.features.assets import online_features
from orchestration.defs.ingestion.assets import event_archive, events, users
from orchestration.defs.privacy.config import load_retention_config
from orchestration.defs.privacy.retention import apply_retention
from orchestration.defs.privacy.scrub import scrub_home

GROUP = "privacy"


def _ledger(platform: PlatformResource) -> ErasureLedger:
    return ErasureLedger(ledger_path(platform.settings.paths.home))


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[events, users], freshness_policy=HOURLY_ARCHIVE)
def user_erasure(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Apply pending "forget this user" requests everywhere offline, then mark them done.

    Runs after the warehouse tables are rebuilt and before batch features (so training never sees a
    forgotten user), and hourly on its own. Requests are marked done only after every place is clean.
    """
    ledger = _ledger(platform)
    pending = ledger.pending_offline()
    users_to_erase = {erasure.user_id for erasure in pending}
    counts = scrub_home(platform.settings.paths.home, users_to_erase)
    online = 0
    if users_to_erase:  # serving deleted them already; a materialization since may have re-added them
        store = platform.feature_store()
        online = sum(delete_online_user(store, user) for user in sorted(users_to_erase))
    for erasure in pending:
        ledger.mark_offline_done(erasure.request_id, {**counts, "online_feature_rows": online})
    context.log.info(f"erased {len(users_to_erase)} users offline: {counts}")
    return dg.MaterializeResult(
        metadata={
            "requests_applied": len(pending),
            "rows_dropped": sum(counts.values()),
            "online_feature_rows_deleted": online,
            "rows_dropped_by_place": dg.MetadataValue.json(counts),
        }
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[online_features], freshness_policy=DAILY_LOOP)
def item_purge(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Delete the online feature rows of every item the catalogue API deleted.

    Serving deletes them with the item; this runs after each materialization of the online store,
    which writes rows from the batch snapshot and never removes any, so a deleted item's features
    are gone within a day of the delete whatever happened in between.
    """
    paths = platform.settings.paths
    deleted = read_deleted_items(paths.filter_store)
    rows = 0
    if deleted:
        store = platform.feature_store()
        rows = sum(delete_online_item(store, item) for item in sorted(deleted))
    context.log.info(f"purged {rows} online feature rows of {len(deleted)} deleted items")
    return dg.MaterializeResult(metadata={"deleted_items": len(deleted), "online_feature_rows_deleted": rows})


@dg.asset_check(asset=user_erasure, name="erasure_deadline")
def erasure_deadline(platform: PlatformResource) -> dg.AssetCheckResult:
    """Fails while any request has been pending offline for longer than the configured deadline."""
    deadline = load_retention_config().erasure_deadline
    now = datetime.now(UTC)
    pending = _ledger(platform).pending_offline()
    overdue = [e for e in pending if now - e.requested_at > deadline]
    return dg.AssetCheckResult(
        passed=not overdue,
        metadata={
            "pending": len(pending),
            "overdue": len(overdue),
            "deadline_hours": deadline.total_seconds() / 3600,
            "overdue_requests": dg.MetadataValue.json([e.request_id for e in overdue]),
        },
    )


@dg.asset(group_name=GROUP, key_prefix=GROUP, deps=[event_archive], freshness_policy=DAILY_LOOP)
def data_retention(context: dg.AssetExecutionContext, platform: PlatformResource) -> dg.MaterializeResult:
    """Drop raw events past the raw horizon and feature rows past the aggregate horizon
    (``config/retention.yaml``; which clock ages them: see ``privacy.retention``)."""
    config = load_retention_config()
    report = apply_retention(platform.settings.paths, config.raw_events, config.aggregates, config.clock)
    context.log.info(f"retention as of {report.now}: {report}")
    return dg.MaterializeResult(
        metadata={
            "measured_from": report.now.isoformat(),
            "clock": config.clock,
            "partitions_dropped": len(report.partitions_dropped),
            "segments_dropped": dg.MetadataValue.json(report.segments_dropped),
            "segments_kept_unconsumed": dg.MetadataValue.json(report.segments_kept_unconsumed),
            "log_bytes_freed": report.log_bytes_freed,
            "feature_rows_dropped": dg.MetadataValue.json(report.feature_rows_dropped),
        }
    )
