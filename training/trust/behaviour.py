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


def _pairs(events: pd.DataFrame) -> pd.DataFrame:
    """``user``, ``pair`` (an int64 key of user and item), ``kind``, ``seconds`` per event: integer
    keys, because grouping millions of (user, item) string pairs is what would cost the time."""
    user_codes, users = pd.factorize(events["user_id"].astype(str))
    item_codes, items = pd.factorize(events["item_id"].astype(str))
    n_items = np.int64(max(len(items), 1))
    return pd.DataFrame(
        {
            "user": np.asarray(users, dtype=object)[user_codes],
            "pair": user_codes.astype(np.int64) * n_items + item_codes,
            "kind": events["event_type"].astype(str).to_numpy(),
            "seconds": _seconds(events["timestamp"]),
        }
    )


def click_quality(events: pd.DataFrame, config: ClickQualityConfig) -> pd.DataFrame:
    """Per clicking user: ``clicks``, ``blind_share`` (no impression of the item at or before the
    click), ``unread_share`` (no view/dwell on it within the read window after). A share is NaN
    where the source does not log that evidence for enough accounts to judge by it."""
    pairs = _pairs(events)
    clicks = pairs[pairs["kind"] == "click"].reset_index(drop=True)
    if clicks.empty:
        return pd.DataFrame(columns=["clicks", "blind_share", "unread_share"], dtype=float)
    seen = pairs[pairs["kind"] == "impression"]
    first_seen = seen.groupby("pair")["seconds"].min()
    first = clicks["pair"].map(first_seen).to_numpy()
    blind = np.isnan(first) | (first > clicks["seconds"].to_numpy())
    read = pairs[pairs["kind"].isin(list(config.after_click))]
    unread = _unread(clicks, read, config.read_within_seconds)
    per_user = pd.DataFrame({"user_id": clicks["user"], "blind": blind, "unread": unread})
    grouped = per_user.groupby("user_id")
    out = pd.DataFrame(
        {
            "clicks": grouped.size(),
            "blind_share": grouped["blind"].mean(),
            "unread_share": grouped["unread"].mean(),
        }
    )
    clicking = set(out.index)
    if _coverage(seen["user"], clicking) < config.min_coverage:
        out["blind_share"] = np.nan  # the source logs no impressions: blindness says nothing
    if _coverage(read["user"], clicking) < config.min_coverage:
        out["unread_share"] = np.nan
    return out


def _coverage(users_with_evidence: pd.Series, clicking: set[str]) -> float:
    if not clicking:
        return 0.0
    return len(clicking & set(users_with_evidence.unique())) / len(clicking)


def _unread(clicks: pd.DataFrame, read: pd.DataFrame, within_seconds: float) -> np.ndarray:
    """Whether each click (in ``clicks``' order) has no view/dwell on its item within the window."""
    if read.empty:
        return np.ones(len(clicks), dtype=bool)
    left = clicks[["pair", "seconds"]].assign(row=np.arange(len(clicks)))
    left = left.sort_values("seconds", kind="stable")
    right = read[["pair", "seconds"]].assign(read_at=read["seconds"])
    right = right.sort_values("seconds", kind="stable")
    matched = pd.merge_asof(
        left, right, on="seconds", by="pair", direction="forward", tolerance=float(within_seconds)
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
