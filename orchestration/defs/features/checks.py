"""Blocking data-quality check on the batch feature tables, before Feast registers or serves them."""

import dagster as dg
import pandas as pd

from orchestration.defs.common.resources import PlatformResource
from orchestration.defs.features.assets import batch_features
from orchestration.defs.quality.results import TableCheck, evaluate
from orchestration.defs.quality.suites import (
    item_stats_expectations,
    user_activity_expectations,
    user_profile_expectations,
    user_stats_expectations,
)
from orchestration.defs.quality.validation import validate

SUITES = {
    "user_stats": user_stats_expectations,
    "user_activity": user_activity_expectations,
    "user_profile": user_profile_expectations,
    "item_stats": item_stats_expectations,
}


@dg.asset_check(
    asset=batch_features,
    blocking=True,
    description="Great Expectations over user_stats, user_activity, user_profile and item_stats: keys, "
    "non-negative counts, rates in [0, 1], finite values, one row per entity and snapshot.",
)
def batch_features_quality(
    context: dg.AssetCheckExecutionContext, platform: PlatformResource
) -> dg.AssetCheckResult:
    paths = platform.settings.paths
    tables = []
    for name, expectations in SUITES.items():
        frame = pd.read_parquet(paths.features / f"{name}.parquet")
        tables.append(TableCheck(frame, validate(name, frame, expectations())))
    return evaluate(context, paths, tables)
