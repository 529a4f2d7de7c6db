"""Catalogue writes: every change reaches the filter store, the online item features and the index.

A deleted item's online feature rows are deleted with it (``bento.privacy.online``).

The filter store is written first and synchronously (a deleted or out-of-stock item must not be
served on the next request); then the item's online features are rewritten through Feast and, for a
new or re-described item, its embedding is computed from its side features by the trained item
tower and added to the FAISS index, so it is retrievable the day it arrives.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from feast import FeatureStore

from bento.bundle import ServingBundle
from bento.catalogue.filter_store import FilterStore
from bento.errors import UnknownItemError
from bento.features import OnlineFeatures
from bento.privacy.online import delete_online_item
from contracts.api import ItemAck, ItemIn, ItemUpdate
from contracts.features import ITEM_STATS_VIEW
from training.retrieval import RetrievalArtifacts, embed_new_items

log = logging.getLogger(__name__)
DESCRIBING_FIELDS = ("category", "brand", "title", "price")  # a change to these re-embeds the item


class CatalogueWriter:
    def __init__(
        self, filters: FilterStore, bundle: ServingBundle, features: OnlineFeatures, store: FeatureStore
    ) -> None:
        self.filters, self.bundle, self.features, self.store = filters, bundle, features, store
        self._encoder: RetrievalArtifacts | None = None

    def upsert(self, item: ItemIn) -> ItemAck:
        existed = self.filters.get(item.item_id) is not None
        row = item.model_dump()
        row["created_at"] = item.created_at or datetime.now(UTC)
        self.filters.upsert(row)
        indexed = self._index({**row, "policy_flag": None})
        self._write_online(row)
        return ItemAck(item_id=item.item_id, status="updated" if existed else "created", indexed=indexed)

    def update(self, change: ItemUpdate) -> ItemAck:
        # None means "not given" (BentoML hands every field over, so exclude_unset cannot tell).
        fields = change.model_dump(exclude_none=True, exclude={"item_id"})
        if "policy_flag" in fields:
            fields["policy_flag"] = fields["policy_flag"] or None
        if not self.filters.update(change.item_id, fields):
            raise UnknownItemError(f"item_id {change.item_id!r} is not in the catalogue")
        current = self.filters.get(change.item_id)
        assert current is not None
        indexed = self._index(current) if set(fields) & set(DESCRIBING_FIELDS) else False
        self._write_online(current)
        return ItemAck(item_id=change.item_id, status="updated", indexed=indexed)

    def delete(self, item_id: str) -> ItemAck:
        if not self.filters.delete(item_id):
            raise UnknownItemError(f"item_id {item_id!r} is not in the catalogue")
        self.bundle.drop_item(item_id)
        self.features.invalidate_items([item_id])
        # Its online features go now; the daily ``privacy/item_purge`` catches any a materialization
        # wrote back since (and any a failed call here left).
        delete_online_item(self.store, item_id)
        return ItemAck(item_id=item_id, status="deleted", indexed=False)

    def _index(self, row: dict[str, Any]) -> bool:
        """Embed the item from its side features and make it retrievable now."""
        frame = pd.DataFrame([{**row, "created_at": pd.Timestamp(row["created_at"])}])
        vector = embed_new_items(self._item_encoder(), frame, side_features_only=True)[0].astype(np.float32)
        attributes = {k: row[k] for k in ("category", "brand", "title", "price", "in_stock", "sponsored")}
        self.bundle.put_item(row["item_id"], attributes, vector)
        return True

    def _item_encoder(self) -> RetrievalArtifacts:
        if self._encoder is None:  # loaded on the first write: most processes never need the model
            self._encoder = RetrievalArtifacts.load(Path(self.bundle.root) / "retrieval")
        return self._encoder

    def _write_online(self, row: dict[str, Any]) -> None:
        """Rewrite the item's online features: new attributes over its last behaviour statistics."""
        item_id = row["item_id"]
        current = self.features.items([item_id]).iloc[0].to_dict()  # read through Feast, not the table
        defaults = self._population_rates()
        stats = {
            "item_popularity": current.get("item_popularity") or 0.0,
            "item_ctr": current.get("item_ctr") or defaults["item_ctr"],
            "item_conversion": current.get("item_conversion") or defaults["item_conversion"],
            "item_trending": current.get("item_trending") or 0.0,
        }
        online = {
            "item_id": item_id,
            "event_timestamp": datetime.now(UTC),
            **stats,
            "item_price": np.nan if row.get("price") is None else float(row["price"]),
            "item_category": str(row["category"]),
            "item_brand": str(row["brand"]),
            "item_created_ts": pd.Timestamp(row["created_at"]).timestamp(),
            "item_in_stock": bool(row["in_stock"]),
            "item_sponsored": bool(row["sponsored"]),
        }
        self.store.write_to_online_store(ITEM_STATS_VIEW, pd.DataFrame([online]))
        self.features.refresh_items([item_id])  # the next request ranks it on what was just written

    def _population_rates(self) -> dict[str, float]:
        """Engagement priors for a brand-new item: the average over the popular list."""
        popular = self.features.items(self.bundle.lists.get("popular", [])[:200])
        return {
            name: float(pd.to_numeric(popular[name], errors="coerce").mean()) if len(popular) else 0.0
            for name in ("item_ctr", "item_conversion")
        }
