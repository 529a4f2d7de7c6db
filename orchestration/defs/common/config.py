"""Pipeline knobs with their defaults in one place (assets read them, never literals)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel


class SplitConfig(BaseModel):
    """The label window: the last slice of time, used for ranker labels and offline evaluation.

    Models and features see only what happened before it, so training is point-in-time correct.
    """

    label_window_fraction: float = 0.12
    min_label_window: timedelta = timedelta(hours=12)
    max_label_window: timedelta = timedelta(days=14)


class RetrievalServingConfig(BaseModel):
    candidates_cf: int = 300
    candidates_popular: int = 200
    candidates_item_to_item: int = 100  # co-interaction and content, each (as config/surfaces.yaml)
    eval_users: int = 2_000
    ks: tuple[int, ...] = (10, 20)


class FallbackConfig(BaseModel):
    global_size: int = 500
    segment_size: int = 200
    trending_size: int = 300
    new_arrivals_size: int = 100


class FreshnessConfig(BaseModel):
    """Alert windows: the loop is stale when a derived asset is older than these."""

    warn_after: timedelta = timedelta(hours=26)
    fail_after: timedelta = timedelta(hours=48)


SPLIT = SplitConfig()
RETRIEVAL = RetrievalServingConfig()
FALLBACKS = FallbackConfig()
FRESHNESS = FreshnessConfig()
