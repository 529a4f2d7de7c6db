"""Per-account behaviour signals from the event table alone: how fast, how blind, how young.

Each is a plain count or share per user, vectorised over all events (no per-user Python loop);
:mod:`training.trust.score` turns them into severities against the population.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from training.trust.config import ClickQualityConfig

POSITIVE = list(POSITIVE_EVENT_WEIGHTS)


def _seconds(stamps: pd.Series) -> np.ndarray:
    return pd.to_datetime(stamps, utc=True).dt.as_unit("us").astype("int64").to_numpy() / 1e6


def peak_in_window(events: pd.DataFrame, window_seconds: float) -> pd.Series:
    """Most engagements each user made within any ``window_seconds`` (users with none: absent)."""
    positive = events[events["event_type"].isin(POSITIVE)]
    if positive.empty:
        return pd.Series(dtype=np.int64)
    codes, users = pd.factorize(positive["user_id"].astype(str))
    t = _seconds(positive["timestamp"])
    t = t - t.min()
    span = float(t.max()) + 2.0 * window_seconds  # users laid end to end, never within a window
    line = codes * span + t
    order = np.argsort(line, kind="stable")
    line = line[order]
    ahead = np.searchsorted(line, line + window_seconds, side="left") - np.arange(len(line))
    peak = pd.Series(ahead).groupby(codes[order]).max()
    return pd.Series(peak.to_numpy(), index=users[peak.index], dtype=np.int64)


def _clicks(events: pd.DataFrame) -> pd.DataFrame:
    clicks = events.loc[events["event_type"] == "click", ["user_id", "item_id", "timestamp"]]
    return clicks.assign(
        user_id=clicks["user_id"].astype(str),
        item_id=clicks["item_id"].astype(str),
        timestamp=pd.to_datetime(clicks["timestamp"], utc=True),
    )


def click_quality(events: pd.DataFrame, config: ClickQualityConfig) -> pd.DataFrame:
    """Per clicking user: ``clicks``, ``blind_share`` (no impression of the item at or before the
    click), ``unread_share`` (no view/dwell on it within the read window after). A share is NaN
    where the source does not log that evidence for enough accounts to judge by it."""
    clicks = _clicks(events).reset_index(drop=True)
    if clicks.empty:
        return pd.DataFrame(columns=["clicks", "blind_share", "unread_share"], dtype=float)
    seen = events.loc[events["event_type"] == "impression", ["user_id", "item_id", "timestamp"]]
    first_seen = (
        seen.assign(user_id=seen["user_id"].astype(str), item_id=seen["item_id"].astype(str))
        .groupby(["user_id", "item_id"])["timestamp"]
        .min()
        .rename("first_seen")
    )
    joined = clicks.join(first_seen, on=["user_id", "item_id"])
    first = pd.to_datetime(joined["first_seen"], utc=True)
    blind = (first.isna() | (first > joined["timestamp"])).to_numpy()
    unread = _unread(clicks, events, config)
    per_user = pd.DataFrame({"user_id": clicks["user_id"], "blind": blind, "unread": unread})
    grouped = per_user.groupby("user_id")
    out = pd.DataFrame(
        {
            "clicks": grouped.size(),
            "blind_share": grouped["blind"].mean(),
            "unread_share": grouped["unread"].mean(),
        }
    )
    clicking = set(out.index)
    if _coverage(seen["user_id"], clicking) < config.min_coverage:
        out["blind_share"] = np.nan  # the source logs no impressions: blindness says nothing
    read = events[events["event_type"].isin(list(config.after_click))]
    if _coverage(read["user_id"], clicking) < config.min_coverage:
        out["unread_share"] = np.nan
    return out


def _coverage(users_with_evidence: pd.Series, clicking: set[str]) -> float:
    if not clicking:
        return 0.0
    return len(clicking & set(users_with_evidence.astype(str).unique())) / len(clicking)


def _unread(clicks: pd.DataFrame, events: pd.DataFrame, config: ClickQualityConfig) -> np.ndarray:
    """Whether each click (in ``clicks``' order) has no view/dwell on its item within the window."""
    after = events["event_type"].isin(list(config.after_click))
    read = events.loc[after, ["user_id", "item_id", "timestamp"]]
    if read.empty:
        return np.ones(len(clicks), dtype=bool)
    read = pd.DataFrame(
        {
            "key": read["user_id"].astype(str) + "\x00" + read["item_id"].astype(str),
            "timestamp": pd.to_datetime(read["timestamp"], utc=True),
        }
    )
    read["read_at"] = read["timestamp"]
    left = pd.DataFrame(
        {
            "row": np.arange(len(clicks)),
            "key": clicks["user_id"] + "\x00" + clicks["item_id"],
            "timestamp": clicks["timestamp"],
        }
    ).sort_values("timestamp", kind="stable")
    matched = pd.merge_asof(
        left,
        read.sort_values("timestamp", kind="stable"),
        on="timestamp",
        by="key",
        direction="forward",
        tolerance=pd.Timedelta(seconds=config.read_within_seconds),
    )
    unread = np.ones(len(clicks), dtype=bool)
    unread[matched["row"].to_numpy()] = matched["read_at"].isna().to_numpy()
    return unread


def early_engagements(events: pd.DataFrame, users: pd.DataFrame | None, hours: int) -> pd.Series:
    """Engagements in each account's first ``hours``; the start is sign-up, or the first event when
    that is earlier or sign-up is unknown. Accounts older than the data have none in view."""
    positive = events[events["event_type"].isin(POSITIVE)]
    if positive.empty:
        return pd.Series(dtype=np.int64)
    user = positive["user_id"].astype(str)
    stamps = pd.to_datetime(positive["timestamp"], utc=True)
    first_event = stamps.groupby(user).min()
    start = first_event
    if users is not None and "signup_ts" in users and len(users):
        signup = pd.Series(
            pd.to_datetime(users["signup_ts"], utc=True).to_numpy(), index=users["user_id"].astype(str)
        )
        signup = signup[~signup.index.duplicated()].reindex(first_event.index)
        start = pd.concat([first_event, signup], axis=1).min(axis=1)
    age = stamps - user.map(start)
    early = (age >= pd.Timedelta(0)) & (age < pd.Timedelta(hours=hours))
    counts = early.groupby(user).sum().astype(np.int64)
    return counts
