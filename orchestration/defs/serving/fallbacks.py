"""Pre-computed lists for the fallback stack and the non-personal retrieval sources (pure)."""

from __future__ import annotations

import pandas as pd

from contracts.funnel_config import FallbackListsConfig
from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from contracts.trust import event_trust


def fallback_lists(
    events: pd.DataFrame,
    items: pd.DataFrame,
    users: pd.DataFrame,
    item_stats: pd.DataFrame,
    config: FallbackListsConfig,
) -> dict[str, object]:
    """Global popular, trending, new arrivals and per-segment popular lists of in-stock items."""
    stock = item_stats[item_stats["item_in_stock"]]
    popular = stock.sort_values(["item_popularity", "item_id"], ascending=[False, True])
    trending = stock[stock["item_popularity"] > 0].sort_values(
        ["item_trending", "item_id"], ascending=[False, True]
    )
    in_stock_items = items[items["in_stock"]]
    newest = in_stock_items.sort_values(["created_at", "item_id"], ascending=[False, True])

    weights = events["event_type"].map(POSITIVE_EVENT_WEIGHTS)
    engaged = events.assign(weight=weights * event_trust(events))[weights.notna()]  # trust-weighted
    engaged = engaged[engaged["item_id"].isin(set(stock["item_id"]))]
    engaged = engaged.merge(users[["user_id", "segment"]], on="user_id", how="inner")
    by_segment = (
        engaged.groupby(["segment", "item_id"])["weight"]
        .sum()
        .reset_index()
        .sort_values(["segment", "weight", "item_id"], ascending=[True, False, True])
    )
    segments = {
        segment: group["item_id"].head(config.segment_size).tolist()
        for segment, group in by_segment.groupby("segment")
    }
    return {
        "popular": popular["item_id"].head(config.global_size).tolist(),
        "trending": trending["item_id"].head(config.trending_size).tolist(),
        "new_arrivals": newest["item_id"].head(config.new_arrivals_size).tolist(),
        "segments": segments,
    }
