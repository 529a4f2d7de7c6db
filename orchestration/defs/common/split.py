"""The time split every stage shares: features and models before ``cut``, labels after it."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from orchestration.defs.common.config import SPLIT, SplitConfig


@dataclass(frozen=True)
class TimeSplit:
    start: pd.Timestamp
    cut: pd.Timestamp
    end: pd.Timestamp

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({k: str(v) for k, v in vars(self).items()}))

    @classmethod
    def load(cls, path: Path) -> TimeSplit:
        raw = json.loads(path.read_text())
        return cls(**{k: pd.Timestamp(v) for k, v in raw.items()})


def time_split(timestamps: pd.Series, config: SplitConfig = SPLIT) -> TimeSplit:
    """``end`` is just after the last event so snapshots at ``end`` see every event.

    The label window is the configured share of the time span, within its bounds, widened when it
    would hold less than ``label_window_min_event_share`` of the events.
    """
    start, last = timestamps.min(), timestamps.max()
    end = last + pd.Timedelta(microseconds=1)
    window = (end - start) * config.label_window_fraction
    window = min(max(window, pd.Timedelta(config.min_label_window)), pd.Timedelta(config.max_label_window))
    stamps = pd.to_datetime(timestamps, utc=True)
    share_start = stamps.quantile(1 - config.label_window_min_event_share)
    window = max(window, end - share_start)
    return TimeSplit(start=start, cut=end - window, end=end)


def evaluation_users(users: Iterable[str], config: SplitConfig = SPLIT) -> set[str]:
    """The users kept out of ranker training so the label-window replay scores unseen people.

    A stable hash of the id, not a random draw: the same users are held out in every run and in
    both assets (training set and offline evaluation) without passing a list between them.
    """
    bound = config.evaluation_user_share * 2**32
    return {u for u in users if zlib.crc32(str(u).encode()) < bound}


def hidden_preferences(positives: pd.DataFrame, cut: pd.Timestamp, config: SplitConfig = SPLIT) -> np.ndarray:
    """Mask over ``positives`` (``user_id, item_id, timestamp`` rows): the preference holdout.

    Rows before ``cut`` of users with at least ``preference_min_items`` distinct items there, whose
    (user, item) pair hashes into ``preference_holdout_share``. The evaluation users' hidden pairs
    are the gate's second test; everyone else's are ranker rows. A stable hash, like
    ``evaluation_users``: every asset that fits at the cut hides the same pairs, in every run,
    without passing a list; all events of a hidden pair are hidden together.
    """
    if positives.empty or config.preference_holdout_share <= 0:
        return np.zeros(len(positives), dtype=bool)
    users = positives["user_id"].astype(str)
    held = (pd.to_datetime(positives["timestamp"], utc=True) < cut).to_numpy()
    pair = _pair(positives)
    enough = users[held][~pair[held].duplicated()].value_counts()
    held &= users.map(enough).fillna(0).to_numpy() >= config.preference_min_items
    hashed = pd.util.hash_array(pair.to_numpy(dtype=object), categorize=False)
    return held & (hashed < np.uint64(config.preference_holdout_share * 2.0**64))


def without_hidden(events: pd.DataFrame, cut: pd.Timestamp, config: SplitConfig = SPLIT) -> pd.DataFrame:
    """``events`` minus every event of a hidden preference pair (impressions included): what a
    model fitted at the cut may learn from."""
    positive = events[events["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))]
    hidden = positive[hidden_preferences(positive, cut, config)]
    if hidden.empty:
        return events
    pairs = _pair(hidden).unique()
    drop = _pair(events).isin(pairs).to_numpy() & (pd.to_datetime(events["timestamp"], utc=True) < cut)
    return events[~np.asarray(drop)]


def _pair(frame: pd.DataFrame) -> pd.Series:
    return frame["user_id"].astype(str) + "\x1f" + frame["item_id"].astype(str)
