"""Trust checks: advisory (WARN), never blocking. A farm should be reviewed by a person, and the
loop must keep training (with the farm down-weighted) while they do."""

import dagster as dg
import pandas as pd

from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.trust.assets import review_queue, user_trust
from orchestration.defs.trust.review_queue import open_flags, read_queue
from orchestration.defs.trust.store import user_trust_path
from training.trust.config import load_trust_config


@dg.asset_check(asset=review_queue, name="review_queue_empty")
def review_queue_empty(platform: PlatformResource) -> dg.AssetCheckResult:
    """Warns while any item flagged for manipulation waits for a reviewer."""
    pending = open_flags(read_queue(platform.settings.paths))
    return dg.AssetCheckResult(
        passed=pending.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "open": len(pending),
            "items": dg.MetadataValue.json(
                pending[["item_id", "signal", "reasons"]].astype(str).head(50).to_dict("records")
            ),
        },
    )


@dg.asset_check(asset=user_trust, name="down_weighted_share")
def down_weighted_share(platform: PlatformResource) -> dg.AssetCheckResult:
    """Warns when more than ``max_down_weighted_share`` of accounts are down-weighted: an attack at
    scale, or thresholds that no longer fit the traffic (the population moved)."""
    limit = load_trust_config().max_down_weighted_share
    table = pd.read_parquet(user_trust_path(platform.settings.paths), columns=["weight"])
    share = float((table["weight"] < 1.0).mean()) if len(table) else 0.0
    return dg.AssetCheckResult(
        passed=share <= limit,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"down_weighted_account_share": round(share, 5), "limit": limit},
    )
