"""Freshness policies with the design's targets: a derived asset older than these means the
feedback loop is stale. WARN windows are the target cadence plus slack for the run itself; FAIL
windows are the design's PAGE thresholds where it names one (batch pipeline and serving model:
48 h). The freshness daemon records the state; ``loop_health_alerts`` turns WARN into a WARN alert
and FAIL into a PAGE.

``DAILY_LOOP`` is the default the asset decorators carry; ``BY_ASSET`` overrides it per asset, so
the windows live in this one file (``with_design_freshness`` applies them to the definitions).
"""

from collections.abc import Sequence
from datetime import timedelta

import dagster as dg

from orchestration.defs.common.config import FRESHNESS

DAILY_LOOP = dg.FreshnessPolicy.time_window(
    fail_window=FRESHNESS.fail_after, warn_window=FRESHNESS.warn_after
)

# The archiver runs hourly: two missed runs warn, six fail (the near-line loop is stale).
HOURLY_ARCHIVE = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=6), warn_window=timedelta(hours=2)
)
# Trending is refreshed every 5 minutes (design part 3, "sliding window").
LIVE_TRENDING = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(minutes=30), warn_window=timedelta(minutes=5, seconds=30)
)
# Batch features: a day (plus an hour for the run); not rebuilt for 48 h is a PAGE (design part 9).
BATCH_FEATURES = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=48), warn_window=timedelta(hours=25)
)
# Fallback lists: 24 h; they ship in the nightly bundle.
FALLBACK_LISTS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=48), warn_window=timedelta(hours=24)
)
# The serving model: SLI 4, "< 48 hours"; older is a PAGE.
SERVING_MODEL = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=48), warn_window=timedelta(hours=26)
)

BY_ASSET: dict[str, dg.FreshnessPolicy] = {
    "ingestion/event_archive": HOURLY_ARCHIVE,
    "candidate_generation/live_trending": LIVE_TRENDING,
    "features/batch_features": BATCH_FEATURES,
    "features/feature_registry": BATCH_FEATURES,
    "features/online_features": BATCH_FEATURES,
    "serving/fallback_lists": FALLBACK_LISTS,
    "serving/serving_bundle": SERVING_MODEL,
    "serving/production_model": SERVING_MODEL,
}


def with_design_freshness(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The assets with ``BY_ASSET``'s policy wherever it names one."""

    def apply(spec: dg.AssetSpec) -> dg.AssetSpec:
        policy = BY_ASSET.get(spec.key.to_user_string())
        return spec if policy is None else spec.replace_attributes(freshness_policy=policy)

    return [a.map_asset_specs(apply) for a in assets]
