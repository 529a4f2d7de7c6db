"""A deleted item's online features are purged by the daily loop, whatever wrote them back."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from bento.catalogue.filter_store import FilterStore, read_deleted_items
from orchestration.defs.privacy.assets import item_purge


def _popularity(platform, item: str) -> float | None:
    rows = platform.feature_store().get_online_features(
        features=["item_stats:item_popularity"], entity_rows=[{"item_id": item}]
    )
    return rows.to_dict()["item_popularity"][0]


def test_the_purge_deletes_only_deleted_items_online_rows(tiny_platform) -> None:
    platform, _ = tiny_platform
    paths = platform.settings.paths
    catalogue = pd.read_parquet(paths.artifacts / "staging" / "catalogue.parquet").set_index("item_id")
    deleted, kept = (str(item) for item in catalogue.index[-2:])
    assert _popularity(platform, deleted) is not None and _popularity(platform, kept) is not None
    filters = FilterStore(paths.filter_store)
    filters.seed(catalogue)  # as the service does at start-up (idempotent)
    row = filters.get(deleted)
    assert row is not None
    try:
        # Deleted as the API deletes, but its online row left behind (as a materialization since
        # the delete would write it back from the batch snapshot).
        assert filters.delete(deleted)
        assert deleted in read_deleted_items(paths.filter_store)
        result = dg.materialize([item_purge], resources={"platform": platform})
        assert result.success
        meta = result.asset_materializations_for_node("privacy__item_purge")[0].metadata
        assert meta["deleted_items"].value >= 1 and meta["online_feature_rows_deleted"].value > 0
        assert _popularity(platform, deleted) is None
        assert _popularity(platform, kept) is not None, "live items keep their features"
    finally:
        filters.upsert(row)  # the shared tiny world gets its item back
        filters.close()
