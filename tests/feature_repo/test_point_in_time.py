"""Feast historical retrieval is point-in-time correct over the batch snapshots."""

from __future__ import annotations

import pandas as pd

from contracts.settings import load_settings
from feature_repo.store import open_store
from orchestration.defs.common.split import TimeSplit


def test_rows_before_the_end_snapshot_never_see_it(tiny_platform) -> None:
    settings = load_settings()
    split = TimeSplit.load(settings.paths.features / "time_split.json")
    stats = pd.read_parquet(settings.paths.features / "user_stats.parquet")
    stamps = pd.to_datetime(stats["event_timestamp"], utc=True)
    at_cut = stats[stamps == split.cut].set_index("user_id")["user_clicks_30d"]
    at_end = stats[stamps == split.end].set_index("user_id")["user_clicks_30d"]
    changed = (at_end.reindex(at_cut.index) != at_cut).loc[lambda s: s].index[:20]
    assert len(changed) > 0, "the tiny world should change some users between snapshots"

    between = split.cut + (split.end - split.cut) / 2
    entity_df = pd.DataFrame({"user_id": list(changed), "event_timestamp": [between] * len(changed)})
    store = open_store(settings)
    got = store.get_historical_features(entity_df=entity_df, features=["user_stats:user_clicks_30d"]).to_df()
    got = got.set_index("user_id")["user_clicks_30d"]
    assert (got.reindex(changed) == at_cut.reindex(changed)).all(), (
        "a training row saw features from its future"
    )


def test_online_store_serves_the_latest_snapshot(tiny_platform) -> None:
    settings = load_settings()
    split = TimeSplit.load(settings.paths.features / "time_split.json")
    stats = pd.read_parquet(settings.paths.features / "item_stats.parquet")
    latest = stats[pd.to_datetime(stats["event_timestamp"], utc=True) == split.end].head(5)
    store = open_store(settings)
    online = store.get_online_features(
        features=["item_stats:item_popularity"], entity_rows=[{"item_id": i} for i in latest["item_id"]]
    ).to_dict()
    assert online["item_popularity"] == latest["item_popularity"].tolist()
