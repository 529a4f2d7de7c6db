"""A click farm to inject into a world's tables: fresh accounts bursting clicks on one target item.

What the trust tests attack the platform with. Each account signs up shortly before the burst,
clicks the target many times within a minute or two, clicks the same few popular cover items (to
attach the target to them in collaborative lists) and buys the target; it logs no impressions and
no reads, as a script posting events straight to the API would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class BotFarm:
    accounts: int = 30
    target_clicks: int = 40
    cover_clicks: int = 3
    purchases: int = 2
    burst_seconds: float = 90.0
    hours_before_end: float = 2.0
    seed: int = 11
    prefix: str = "bot"

    def user_ids(self) -> list[str]:
        return [f"{self.prefix}{i:04d}" for i in range(self.accounts)]

    def events(self, target: str, cover: list[str], end: pd.Timestamp) -> pd.DataFrame:
        """The farm's events, shaped like the world's (``event_id`` prefixed ``bot``)."""
        rng = np.random.default_rng(self.seed)
        rows = []
        for user in self.user_ids():
            start = end - pd.Timedelta(hours=self.hours_before_end)
            start += pd.Timedelta(seconds=rng.uniform(0, 600))
            plan = (
                [(target, "click")] * self.target_clicks
                + [(item, "click") for item in cover for _ in range(self.cover_clicks)]
                + [(target, "purchase")] * self.purchases
            )
            offsets = np.sort(rng.uniform(0, self.burst_seconds, size=len(plan)))
            for (item, kind), offset in zip(plan, offsets, strict=True):
                rows.append((user, item, kind, start + pd.Timedelta(seconds=float(offset))))
        frame = pd.DataFrame(rows, columns=["user_id", "item_id", "event_type", "timestamp"])
        return frame.assign(
            event_id=[f"{self.prefix}-e{i:07d}" for i in range(len(frame))],
            surface="home_feed",
            position=np.int32(-1),
            session_id=frame["user_id"] + "-s0",
            device="mobile",
            value=np.nan,
        )

    def users(self, end: pd.Timestamp, template: pd.DataFrame) -> pd.DataFrame:
        """Fresh profiles (signed up an hour before the burst), shaped like ``template``."""
        base = template.iloc[[0] * self.accounts].reset_index(drop=True).copy()
        base["user_id"] = self.user_ids()
        base["signup_ts"] = end - pd.Timedelta(hours=self.hours_before_end + 1)
        return base


def inject(
    events: pd.DataFrame,
    users: pd.DataFrame,
    farm: BotFarm,
    target: str,
    cover: list[str],
    end: pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The world's events and users with the farm's added (events sorted by time, like the
    warehouse); ``end`` (default: the latest event) is what the burst is timed against."""
    end = pd.to_datetime(events["timestamp"], utc=True).max() if end is None else end
    fake = farm.events(target, cover, end)[list(events.columns)].astype(events.dtypes.to_dict())
    merged = pd.concat([events, fake], ignore_index=True).sort_values("timestamp", kind="stable")
    profiles = farm.users(end, users)[list(users.columns)].astype(users.dtypes.to_dict())
    return merged.reset_index(drop=True), pd.concat([users, profiles], ignore_index=True)
