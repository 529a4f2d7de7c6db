"""User behaviour and profile features, computed as of given snapshot times (point-in-time)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from contracts.features import (
    ACTIVITY_WINDOW_DAYS,
    USER_ACTIVITY_FEATURES,
    USER_DEFAULTS,
    USER_STATS_FEATURES,
    activity_feature,
)
from contracts.schemas import EVENT_TYPES, POSITIVE_EVENT_WEIGHTS
from feature_repo.batch.windows import WINDOWS, FeatureWindows


def _window(events: pd.DataFrame, as_of: pd.Timestamp, length: pd.Timedelta) -> pd.DataFrame:
    ts = events["timestamp"]
    return events[(ts < as_of) & (ts >= as_of - length)]


def user_stats_at(
    events: pd.DataFrame, items: pd.DataFrame, as_of: pd.Timestamp, windows: FeatureWindows = WINDOWS
) -> pd.DataFrame:
    """One row per user active before ``as_of``; only events strictly before it are used."""
    long = _window(events, as_of, pd.Timedelta(windows.long))
    short = _window(events, as_of, pd.Timedelta(windows.short))
    kinds = long["event_type"]
    frame = pd.DataFrame(
        {
            "user_events_7d": short.groupby("user_id").size(),
            "user_clicks_30d": (kinds == "click").groupby(long["user_id"]).sum(),
            "user_purchases_30d": (kinds == "purchase").groupby(long["user_id"]).sum(),
            "impressions": (kinds == "impression").groupby(long["user_id"]).sum(),
        }
    ).fillna(0)
    if frame.empty:
        return _empty_user_stats()
    global_ctr = frame["user_clicks_30d"].sum() / max(frame["impressions"].sum(), 1.0)
    prior = windows.rate_prior_weight
    frame["user_ctr_30d"] = (frame["user_clicks_30d"] + prior * min(global_ctr, 1.0)) / (
        np.maximum(frame["impressions"], frame["user_clicks_30d"]) + prior
    )

    positive = long[kinds.isin(list(POSITIVE_EVENT_WEIGHTS))]
    engaged = positive.merge(items[["item_id", "category", "price"]], on="item_id", how="left")
    prices = engaged.groupby("user_id")["price"]
    frame["user_avg_price"] = prices.mean()
    frame["user_price_p25"] = prices.quantile(windows.price_band[0])
    frame["user_price_p75"] = prices.quantile(windows.price_band[1])
    top_cats, top_shares = _top_categories(engaged, windows.top_categories)
    frame["user_top_categories"] = top_cats
    frame["user_top_category_shares"] = top_shares
    frame["user_top_categories"] = frame["user_top_categories"].apply(_as_list)
    frame["user_top_category_shares"] = frame["user_top_category_shares"].apply(_as_list)
    frame = frame.drop(columns=["impressions"]).reset_index(names="user_id")
    frame["event_timestamp"] = as_of
    for name in ("user_events_7d", "user_clicks_30d", "user_purchases_30d"):
        frame[name] = frame[name].astype("int64")
    return frame


def _top_categories(engaged: pd.DataFrame, k: int) -> tuple[pd.Series, pd.Series]:
    if engaged.empty:
        return pd.Series(dtype=object), pd.Series(dtype=object)
    counts = engaged.groupby(["user_id", "category"]).size().rename("n").reset_index()
    counts["share"] = counts["n"] / counts.groupby("user_id")["n"].transform("sum")
    counts = counts.sort_values(["user_id", "share", "category"], ascending=[True, False, True])
    top = counts.groupby("user_id").head(k)
    grouped = top.groupby("user_id")
    return grouped["category"].agg(list), grouped["share"].agg(lambda s: [float(x) for x in s])


def _as_list(value: object) -> list:
    return list(value) if isinstance(value, list | tuple | np.ndarray) else []


def _empty_user_stats() -> pd.DataFrame:
    return pd.DataFrame(columns=["user_id", *USER_STATS_FEATURES, "event_timestamp"])


def user_stats(
    events: pd.DataFrame,
    items: pd.DataFrame,
    snapshots: Sequence[pd.Timestamp],
    users: pd.Series,
    start: pd.Timestamp,
) -> pd.DataFrame:
    """Stacked snapshots, so historical retrieval picks the latest one before each training row.

    Every user also gets an all-zero row at ``start``: a user with no activity before a snapshot
    then joins as "nothing yet" instead of being dropped by the point-in-time join.
    """
    birth = pd.DataFrame({"user_id": users.drop_duplicates().to_numpy()})
    for name in USER_STATS_FEATURES:
        default = USER_DEFAULTS[name]
        birth[name] = [default] * len(birth) if isinstance(default, list) else default
    birth["event_timestamp"] = start
    stacked = [birth, *(user_stats_at(events, items, ts) for ts in snapshots)]
    return pd.concat(stacked, ignore_index=True)


def user_activity_at(events: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Counts per event type over each activity window, from events strictly before ``as_of``."""
    longest = _window(events, as_of, pd.Timedelta(days=max(ACTIVITY_WINDOW_DAYS)))
    columns: dict[str, pd.Series] = {}
    for days in ACTIVITY_WINDOW_DAYS:
        recent = longest[longest["timestamp"] >= as_of - pd.Timedelta(days=days)]
        counts = recent.groupby(["user_id", "event_type"]).size().unstack(fill_value=0)
        for kind in EVENT_TYPES:
            columns[activity_feature(kind, days)] = (
                counts[kind] if kind in counts else pd.Series(dtype="int64")
            )
    frame = pd.DataFrame(columns, columns=list(USER_ACTIVITY_FEATURES)).fillna(0).astype("int64")
    frame = frame.reset_index(names="user_id")
    frame["event_timestamp"] = as_of
    return frame


def user_activity(
    events: pd.DataFrame, snapshots: Sequence[pd.Timestamp], users: pd.Series, start: pd.Timestamp
) -> pd.DataFrame:
    """Stacked activity snapshots with an all-zero row per user at ``start`` (see ``user_stats``)."""
    birth = pd.DataFrame({"user_id": users.drop_duplicates().to_numpy()})
    for name in USER_ACTIVITY_FEATURES:
        birth[name] = 0
    birth["event_timestamp"] = start
    stacked = [birth, *(user_activity_at(events, ts) for ts in snapshots)]
    return pd.concat(stacked, ignore_index=True)


def user_profile(users: pd.DataFrame, valid_from: pd.Timestamp) -> pd.DataFrame:
    """Profile attributes, valid from the start of the data (they describe the user, not behaviour)."""
    profile = users[["user_id", "country", "age_bucket", "device", "segment"]].copy()
    profile["event_timestamp"] = valid_from
    return profile
