"""Item popularity, engagement rates, trend and catalogue attributes as of snapshot times.

Counts are trust-weighted (``contracts.trust``): a farm's clicks barely move an item's popularity,
click-through or conversion, which the popular fallback list and the ranker read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from contracts.trust import event_trust
from feature_repo.batch.windows import WINDOWS, FeatureWindows


def item_stats_at(
    events: pd.DataFrame, items: pd.DataFrame, as_of: pd.Timestamp, windows: FeatureWindows = WINDOWS
) -> pd.DataFrame:
    """One row per catalogue item that exists at ``as_of`` (items with no events get priors)."""
    ts = events["timestamp"]
    long = events[(ts < as_of) & (ts >= as_of - pd.Timedelta(windows.long))]
    trust = pd.Series(event_trust(long), index=long.index)  # low-trust accounts barely count
    weight = long["event_type"].map(POSITIVE_EVENT_WEIGHTS).fillna(0.0) * trust
    kinds = long["event_type"]
    grouped = {
        "engagement": weight.groupby(long["item_id"]).sum(),
        "impressions": ((kinds == "impression") * trust).groupby(long["item_id"]).sum(),
        "clicks": ((kinds == "click") * trust).groupby(long["item_id"]).sum(),
        "purchases": ((kinds == "purchase") * trust).groupby(long["item_id"]).sum(),
    }
    recent_mask = long["timestamp"] >= as_of - pd.Timedelta(windows.trending)
    week_mask = long["timestamp"] >= as_of - pd.Timedelta(windows.short)
    grouped["recent"] = weight[recent_mask].groupby(long.loc[recent_mask, "item_id"]).sum()
    grouped["week"] = weight[week_mask].groupby(long.loc[week_mask, "item_id"]).sum()

    catalogue = items[items["created_at"] < as_of].set_index("item_id")
    stats = pd.DataFrame(grouped).reindex(catalogue.index).fillna(0.0)
    prior = windows.rate_prior_weight
    global_ctr = min(stats["clicks"].sum() / max(stats["impressions"].sum(), 1.0), 1.0)
    global_cvr = min(stats["purchases"].sum() / max(stats["clicks"].sum(), 1.0), 1.0)
    days_per_week = windows.short / windows.trending

    frame = pd.DataFrame(index=catalogue.index)
    frame["item_popularity"] = np.log1p(stats["engagement"])
    frame["item_ctr"] = (stats["clicks"] + prior * global_ctr) / (
        np.maximum(stats["impressions"], stats["clicks"]) + prior
    )
    frame["item_conversion"] = (stats["purchases"] + prior * global_cvr) / (
        np.maximum(stats["clicks"], stats["purchases"]) + prior
    )
    frame["item_trending"] = np.log((stats["recent"] + 1.0) / (stats["week"] / days_per_week + 1.0))
    frame["item_price"] = catalogue["price"].astype("float64")
    frame["item_category"] = catalogue["category"].astype(str)
    frame["item_brand"] = catalogue["brand"].astype(str)
    frame["item_created_ts"] = catalogue["created_at"].map(pd.Timestamp.timestamp).astype("float64")
    frame["item_in_stock"] = catalogue["in_stock"].astype(bool)
    frame["item_sponsored"] = catalogue["sponsored"].astype(bool)
    frame = frame.reset_index(names="item_id")
    frame["event_timestamp"] = as_of
    return frame


def item_stats(events: pd.DataFrame, items: pd.DataFrame, snapshots: Sequence[pd.Timestamp]) -> pd.DataFrame:
    return pd.concat([item_stats_at(events, items, ts) for ts in snapshots], ignore_index=True)
