"""Freshness policies: a derived asset older than these windows means the feedback loop is stale."""

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
