"""The time split every stage shares: features and models before ``cut``, labels after it."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

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
