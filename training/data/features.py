"""Users and items -> integer feature tensors for the two towers.

One featurizer is fitted at training time and saved with the artifacts, so serving and
``embed_new_items`` encode a new catalogue row exactly as training did (no skew). A user is their
id, profile and recent items (``RECENT_KEY``): the latest distinct items they engaged with, so a
user the id table barely knows still gets a vector that reflects their taste.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from training.config import RetrievalConfig
from training.data.vocab import UNKNOWN_INDEX, IdVocab

USER_KEYS = ("user_idx", "country", "age_bucket", "device", "segment")
ITEM_KEYS = ("item_idx", "category", "brand", "price_bucket", "title_tokens")
RECENT_KEY = "recent_items"  # [n, recent_items] item-vocabulary indices, newest first, 0-padded
USER_PROFILE_COLUMNS = ("country", "age_bucket", "device", "segment")
ITEM_SIDE_COLUMNS = ("category", "brand")

_TOKEN = re.compile(r"[a-z0-9]+")


def price_buckets(price: pd.Series | np.ndarray, config: RetrievalConfig) -> np.ndarray:
    """Log-scale price bucket; 0 is "price unknown" (NaN) so missing prices get their own row."""
    values = pd.to_numeric(pd.Series(np.asarray(price)), errors="coerce").to_numpy(np.float64)
    edges = np.geomspace(config.min_price, config.max_price, config.price_buckets - 1)
    buckets = np.searchsorted(edges, np.clip(np.nan_to_num(values, nan=0.0), 0.0, None), side="right") + 1
    return np.where(np.isfinite(values), buckets, 0).astype(np.int64)


def hash_title_tokens(titles: pd.Series, config: RetrievalConfig) -> np.ndarray:
    """Titles -> [n, max_title_tokens] hashed token ids, 0-padded (EmbeddingBag padding_idx=0).

    crc32 rather than ``hash()`` because Python salts string hashes per process.
    """
    out = np.zeros((len(titles), config.max_title_tokens), dtype=np.int64)
    modulus = config.title_hash_buckets - 1
    for row, title in enumerate(titles.fillna("").astype(str).str.lower()):
        tokens = _TOKEN.findall(title)[: config.max_title_tokens]
        for col, token in enumerate(tokens):
            out[row, col] = 1 + zlib.crc32(token.encode()) % modulus
    return out


@dataclass
class RetrievalFeaturizer:
    """Vocabularies for ids and categorical side features, fitted on the training world."""

    config: RetrievalConfig
    user_vocab: IdVocab
    item_vocab: IdVocab
    side_vocabs: dict[str, IdVocab]

    @classmethod
    def fit(
        cls, users: pd.DataFrame, items: pd.DataFrame, user_ids: pd.Series, item_ids: pd.Series,
        config: RetrievalConfig,
    ) -> RetrievalFeaturizer:
        """Id vocabularies hold only ids with training pairs; everyone else uses the unknown row."""
        side = {c: IdVocab.from_values(users[c]) for c in USER_PROFILE_COLUMNS}
        side |= {c: IdVocab.from_values(items[c]) for c in ITEM_SIDE_COLUMNS}
        return cls(config, IdVocab.from_values(user_ids), IdVocab.from_values(item_ids), side)

    def cardinalities(self) -> dict[str, int]:
        """Embedding-table sizes the model is built with."""
        sizes = {"user_idx": self.user_vocab.size, "item_idx": self.item_vocab.size}
        sizes |= {c: v.size for c, v in self.side_vocabs.items()}
        sizes["price_bucket"] = self.config.price_buckets + 1
        sizes["title_tokens"] = self.config.title_hash_buckets
        return sizes

    def user_arrays(self, users: pd.DataFrame) -> dict[str, np.ndarray]:
        arrays = {"user_idx": self.user_vocab.encode(users["user_id"])}
        for column in USER_PROFILE_COLUMNS:
            values = users[column] if column in users else pd.Series([None] * len(users))
            arrays[column] = self.side_vocabs[column].encode(values)
        return arrays

    def item_arrays(self, items: pd.DataFrame) -> dict[str, np.ndarray]:
        arrays = {"item_idx": self.item_vocab.encode(items["item_id"])}
        for column in ITEM_SIDE_COLUMNS:
            values = items[column] if column in items else pd.Series([None] * len(items))
            arrays[column] = self.side_vocabs[column].encode(values)
        price = items["price"] if "price" in items else pd.Series([np.nan] * len(items))
        arrays["price_bucket"] = price_buckets(price, self.config)
        title = items["title"] if "title" in items else pd.Series([""] * len(items))
        arrays["title_tokens"] = hash_title_tokens(title.reset_index(drop=True), self.config)
        return arrays

    def recent_item_array(self, users: pd.DataFrame, events: pd.DataFrame | None) -> np.ndarray:
        """Each user's latest ``recent_items`` distinct positive items in ``events``, newest first."""
        width = self.config.recent_items
        out = np.full((len(users), width), UNKNOWN_INDEX, dtype=np.int64)
        if events is None or events.empty or width == 0:
            return out
        positive = events[events["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))]
        latest = (
            positive.sort_values("timestamp", ascending=False, kind="stable")
            .drop_duplicates(["user_id", "item_id"])
            .groupby("user_id", sort=False)
            .head(width)
        )
        rows = pd.Index(users["user_id"].astype(str)).get_indexer(latest["user_id"].astype(str))
        known = rows >= 0
        latest = latest[known]
        slots = latest.groupby("user_id", sort=False).cumcount().to_numpy()
        out[rows[known], slots] = self.item_vocab.encode(latest["item_id"])
        return out

    def users(self, users: pd.DataFrame, events: pd.DataFrame | None = None) -> dict[str, torch.Tensor]:
        """User tensors; ``events`` (as of when the vectors are for) fill the recent items."""
        arrays = self.user_arrays(users) | {RECENT_KEY: self.recent_item_array(users, events)}
        return {k: torch.from_numpy(v) for k, v in arrays.items()}

    def items(self, items: pd.DataFrame) -> dict[str, torch.Tensor]:
        return {k: torch.from_numpy(v) for k, v in self.item_arrays(items).items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "user_vocab": self.user_vocab.to_json(),
            "item_vocab": self.item_vocab.to_json(),
            "side_vocabs": {k: v.to_json() for k, v in self.side_vocabs.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RetrievalFeaturizer:
        return cls(
            RetrievalConfig(**data["config"]),
            IdVocab.from_json(data["user_vocab"]),
            IdVocab.from_json(data["item_vocab"]),
            {k: IdVocab.from_json(v) for k, v in data["side_vocabs"].items()},
        )
