"""Freshness policies: a derived asset older than these windows means the feedback loop is stale."""

import dagster as dg

from orchestration.defs.common.config import FRESHNESS

DAILY_LOOP = dg.FreshnessPolicy.time_window(
    fail_window=FRESHNESS.fail_after, warn_window=FRESHNESS.warn_after
)
