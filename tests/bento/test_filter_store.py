"""The filter store: availability changes visible at once, across connections; changes feed the
daily catalogue rebuild."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bento.catalogue.filter_store import FilterStore, read_catalogue_changes
from orchestration.defs.ingestion.assets import overlay_catalogue


def catalogue(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(n)],
            "category": ["books"] * n,
            "brand": ["b"] * n,
            "title": [f"title {k}" for k in range(n)],
            "price": [10.0] * n,
            "created_at": [pd.Timestamp("2026-01-01", tz="UTC")] * n,
            "in_stock": [True, True, True, False],
            "sponsored": [False] * n,
        }
    )


def test_unavailable_follows_writes_from_any_connection(tmp_path: Path) -> None:
    path = tmp_path / "filters.db"
    writer, reader = FilterStore(path), FilterStore(path)
    writer.seed(catalogue().set_index("item_id"))
    assert reader.unavailable() == {"i3"}
    writer.delete("i0")
    writer.update("i1", {"policy_flag": "recalled"})
    assert reader.unavailable() == {"i0", "i1", "i3"}
    assert writer.unavailable() == {"i0", "i1", "i3"}
    writer.update("i3", {"in_stock": True})
    assert reader.unavailable() == {"i0", "i1"}


def test_seeding_again_keeps_api_writes(tmp_path: Path) -> None:
    store = FilterStore(tmp_path / "filters.db")
    store.seed(catalogue().set_index("item_id"))
    store.delete("i0")
    store.seed(catalogue().set_index("item_id"))  # a restart with the same bundle
    assert "i0" in store.unavailable()
    assert not store.update("i0", {"price": 1.0}), "a deleted item cannot be updated"
    assert not store.delete("missing")


def test_daily_catalogue_keeps_created_and_drops_deleted_items(tmp_path: Path) -> None:
    path = tmp_path / "filters.db"
    store = FilterStore(path)
    base = catalogue()
    store.seed(base.set_index("item_id"))
    store.upsert(
        {
            "item_id": "new",
            "category": "toys",
            "brand": "x",
            "title": "a toy",
            "price": 5.0,
            "created_at": pd.Timestamp("2026-02-01", tz="UTC"),
            "in_stock": True,
            "sponsored": False,
        }
    )
    store.update("i2", {"price": 99.0})
    store.delete("i0")
    live, removed = read_catalogue_changes(path)
    merged = overlay_catalogue(base, live, removed).set_index("item_id")
    assert "new" in merged.index and "i0" not in merged.index
    assert merged.loc["i2", "price"] == 99.0
    assert merged.loc["new", "category"] == "toys"
    assert len(merged) == 4
