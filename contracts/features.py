"""Feature names and the one function that turns raw features into ranker inputs.

Training and serving both call :func:`ranker_inputs` on raw feature columns (a frame in training,
arrays and request constants in serving), so the model sees the same transformation offline and
online (no train/serve skew by construction).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from contracts.cross_features import category_affinity, last_category_match, session_category_share
from contracts.list_features import LIST_INPUTS, LIST_SCORES, list_relative
from contracts.raw_columns import Raw, constant, is_column, numbers, per_row, row_count, strings
from contracts.schemas import DEVICES, EVENT_TYPES

FEAST_PROJECT: Final = "reco"
USER_ENTITY: Final = "user_id"
ITEM_ENTITY: Final = "item_id"

USER_STATS_VIEW: Final = "user_stats"
USER_ACTIVITY_VIEW: Final = "user_activity"
USER_PROFILE_VIEW: Final = "user_profile"
ITEM_STATS_VIEW: Final = "item_stats"
USER_SESSION_VIEW: Final = "user_session"
SESSION_PUSH_SOURCE: Final = "user_session_push"

RETRIEVAL_SERVICE: Final = "retrieval_v1"
RANKING_SERVICE: Final = "ranking_v1"

USER_STATS_FEATURES: Final = (
    "user_events_7d",
    "user_clicks_30d",
    "user_purchases_30d",
    "user_ctr_30d",
    "user_avg_price",
    "user_price_p25",
    "user_price_p75",
    "user_top_categories",
    "user_top_category_shares",
)
# Behaviour counts per event type over the last 1, 7 and 30 days: short windows say what the user
# is doing now, long ones what they usually do.
ACTIVITY_WINDOW_DAYS: Final = (1, 7, 30)


def activity_feature(event_type: str, days: int) -> str:
    return f"user_{event_type}_{days}d"


USER_ACTIVITY_FEATURES: Final = tuple(
    activity_feature(kind, days) for kind in EVENT_TYPES for days in ACTIVITY_WINDOW_DAYS
)
USER_PROFILE_FEATURES: Final = ("country", "age_bucket", "device", "segment")
ITEM_STATS_FEATURES: Final = (
    "item_popularity",
    "item_ctr",
    "item_conversion",
    "item_trending",
    "item_price",
    "item_category",
    "item_brand",
    "item_created_ts",
    "item_in_stock",
    "item_sponsored",
)
SESSION_FEATURES: Final = (
    "session_item_ids",
    "session_categories",
    "session_last_category",
    "session_clicks",
    "session_events",
    "session_log_offset",
)
SESSION_HISTORY_LENGTH: Final = 10

# Population defaults for entities never seen (batch features age; they never fall back silently).
USER_DEFAULTS: Final[dict[str, object]] = {
    "user_events_7d": 0,
    "user_clicks_30d": 0,
    "user_purchases_30d": 0,
    "user_ctr_30d": 0.0,
    "user_avg_price": float("nan"),
    "user_price_p25": float("nan"),
    "user_price_p75": float("nan"),
    "user_top_categories": [],
    "user_top_category_shares": [],
    **dict.fromkeys(USER_ACTIVITY_FEATURES, 0),
}
SESSION_DEFAULTS: Final[dict[str, object]] = {
    "session_item_ids": [],
    "session_categories": [],
    "session_last_category": "",
    "session_clicks": 0,
    "session_events": 0,
    # Offset of the last log record folded in: a redelivered record (at-least-once) is skipped.
    "session_log_offset": -1,
}

RANKER_INPUTS: Final = (
    "log_user_events_7d",
    "log_user_clicks_30d",
    "log_user_purchases_30d",
    "user_ctr_30d",
    "log_user_click_1d",
    "log_user_skip_7d",
    "log_user_purchase_7d",
    "item_popularity",
    "item_ctr",
    "item_conversion",
    "item_trending",
    "log_item_price",
    "log_item_age_days",
    "item_sponsored",
    "category_affinity",
    "price_fit",
    "session_last_category_match",
    "session_category_share",
    "log_session_clicks",
    "retrieval_score",
    "co_interaction_score",
    "content_similarity",
    "item_knn_score",
    "als_score",
    "ease_score",
    "hour_sin",
    "hour_cos",
    *(f"device_{d}" for d in DEVICES),
    *LIST_INPUTS,
)

SECONDS_PER_DAY: Final = 86_400.0


def _price_fit(price: np.ndarray, mean: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """0 inside the user's usual price band, minus the log distance to it outside.

    The band is the 25th-75th percentile of prices the user engaged with; with no band yet, the
    distance to their mean price; with neither (or an unpriced item), neutral 0.
    """
    log_price = np.log1p(price)
    has_band = np.isfinite(low) & np.isfinite(high) & (high >= low) & (low >= 0)
    below = np.log1p(np.nan_to_num(low, nan=0.0).clip(min=0)) - log_price
    above = log_price - np.log1p(np.nan_to_num(high, nan=0.0).clip(min=0))
    band_fit = -np.clip(np.maximum(below, above), 0.0, None)
    has_mean = np.isfinite(mean) & (mean > 0)
    mean_fit = -np.abs(log_price - np.log1p(np.nan_to_num(mean, nan=0.0).clip(min=0)))
    fit = np.where(has_band, band_fit, np.where(has_mean, mean_fit, 0.0))
    return np.where(price > 0, fit, 0.0)


def ranker_inputs(raw: Raw) -> np.ndarray:
    """Raw per-candidate feature columns -> float32 matrix in ``RANKER_INPUTS`` order.

    ``raw`` has one row per (user, candidate item) with the user, item and session feature
    columns above plus ``retrieval_score`` (two-tower affinity), each item-to-item source's score
    (``co_interaction_score``, ``content_similarity``, ``item_knn_score``, ``als_score``, ``ease_score``:
    ``training.candidates.cross_scores``),
    ``now_ts`` (seconds), ``hour_of_day`` and ``device``. Rows are one candidate list (a request)
    unless ``list_id`` says otherwise (``contracts.list_features``). Missing values become neutral
    numbers; the result never contains NaN or inf.

    ``raw`` is a DataFrame (training) or a mapping of column name to a NumPy array per row, where a
    value that is not an array (a user's feature, the request's hour) holds for every row
    (serving: no frame per request). Both give the same matrix (``contracts.raw_columns``).
    """
    n = row_count(raw)
    col = lambda name, default=0.0: numbers(raw, name, n, default)  # noqa: E731
    price = col("item_price", 0.0).clip(min=0.0)
    price_fit = _price_fit(
        price, col("user_avg_price", np.nan), col("user_price_p25", np.nan), col("user_price_p75", np.nan)
    )
    age_days = np.clip((col("now_ts") - col("item_created_ts")) / SECONDS_PER_DAY, 0.0, None)
    categories = strings(raw, "item_category", n)
    top, shares = per_row(raw, "user_top_categories", n), per_row(raw, "user_top_category_shares", n)
    if (top is None) != (shares is None):  # one list per row and one for all: cross them per row
        top = top if top is not None else [constant(raw, "user_top_categories")] * n
        shares = shares if shares is not None else [constant(raw, "user_top_category_shares")] * n
    hour = col("hour_of_day", 12.0)
    device = strings(raw, "device", n)
    scores = {
        "retrieval_score": col("retrieval_score"),
        "item_knn_score": col("item_knn_score").clip(0, 1),
        "als_score": col("als_score").clip(-1, 2),
        "ease_score": col("ease_score").clip(-1, 1),
    }
    groups = pd.factorize(raw["list_id"])[0] if "list_id" in raw and is_column(raw["list_id"]) else None
    columns = [
        np.log1p(col("user_events_7d").clip(min=0)),
        np.log1p(col("user_clicks_30d").clip(min=0)),
        np.log1p(col("user_purchases_30d").clip(min=0)),
        col("user_ctr_30d").clip(0, 1),
        np.log1p(col("user_click_1d").clip(min=0)),
        np.log1p(col("user_skip_7d").clip(min=0)),
        np.log1p(col("user_purchase_7d").clip(min=0)),
        col("item_popularity"),
        col("item_ctr").clip(0, 1),
        col("item_conversion").clip(0, 1),
        col("item_trending"),
        np.log1p(price),
        np.log1p(age_days),
        col("item_sponsored").astype(bool).astype(np.float64),
        category_affinity(
            top,
            shares,
            constant(raw, "user_top_categories"),
            constant(raw, "user_top_category_shares"),
            categories,
        ),
        price_fit,
        last_category_match(strings(raw, "session_last_category", n), categories),
        session_category_share(
            per_row(raw, "session_categories", n), constant(raw, "session_categories"), categories
        ),
        np.log1p(col("session_clicks").clip(min=0)),
        scores["retrieval_score"],
        col("co_interaction_score").clip(min=0),
        col("content_similarity").clip(-1, 1),
        scores["item_knn_score"],
        scores["als_score"],
        scores["ease_score"],
        np.sin(2 * np.pi * hour / 24.0),
        np.cos(2 * np.pi * hour / 24.0),
        *((device == d).astype(np.float64) for d in DEVICES),
        *list_relative({name: scores[name] for name in LIST_SCORES}, groups),
    ]
    matrix = (
        np.column_stack(columns).astype(np.float32) if n else np.zeros((0, len(RANKER_INPUTS)), np.float32)
    )
    return np.nan_to_num(matrix, nan=0.0, posinf=0.0, neginf=0.0)
