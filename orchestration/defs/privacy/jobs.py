"""When privacy runs: erasure hourly and before features in the daily loop; retention daily."""

from collections.abc import Sequence

import dagster as dg

from orchestration.defs.privacy.assets import data_retention, user_erasure

FEATURES_KEY = dg.AssetKey(["features", "batch_features"])
TRUST_KEY = dg.AssetKey(["trust", "user_trust"])
AFTER_ERASURE = {FEATURES_KEY, TRUST_KEY}  # the first assets of the loop that read the events

erase_users = dg.define_asset_job("erase_users", selection=[user_erasure.key])
hourly_erasure = dg.ScheduleDefinition(job=erase_users, cron_schedule="20 * * * *", execution_timezone="UTC")
enforce_retention = dg.define_asset_job("enforce_retention", selection=[data_retention.key])
daily_retention = dg.ScheduleDefinition(
    job=enforce_retention, cron_schedule="30 2 * * *", execution_timezone="UTC"
)
# Retention deletes files other assets read: it runs on its own schedule, not inside the loop.
LOOP_SELECTION = dg.AssetSelection.all() - dg.AssetSelection.assets(data_retention)


def erasure_before_features(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """Make batch features and trust scores wait for the erasure sweep, so retraining never sees
    (and no trust table keeps) a forgotten user."""

    def add_dep(spec: dg.AssetSpec) -> dg.AssetSpec:
        return spec.merge_attributes(deps=[user_erasure.key]) if spec.key in AFTER_ERASURE else spec

    return [a.map_asset_specs(add_dep) if AFTER_ERASURE & set(a.keys) else a for a in assets]
