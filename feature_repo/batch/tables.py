"""Every batch feature table, as of the given snapshots: what `features/batch_features` writes."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from feature_repo.batch.item_features import item_stats
from feature_repo.batch.user_features import user_activity, user_profile, user_stats


def batch_feature_tables(
    events: pd.DataFrame,
    items: pd.DataFrame,
    users: pd.DataFrame,
    snapshots: Sequence[pd.Timestamp],
    start: pd.Timestamp,
) -> dict[str, pd.DataFrame]:
    """Feast offline sources by name; ``start`` is when the data begins (profiles and zero rows)."""
    return {
        "user_stats": user_stats(events, items, snapshots, users["user_id"], start),
        "user_activity": user_activity(events, snapshots, users["user_id"], start),
        "user_profile": user_profile(users, valid_from=start),
        "item_stats": item_stats(events, items, snapshots),
    }
