"""Positive (user, item, weight) pairs with side features for the two-tower model.

Events become implicit feedback through ``POSITIVE_EVENT_WEIGHTS``; repeated interactions with
one item add up (capped) so a purchase-after-click counts more than a glance, without letting a
single heavy user dominate the loss.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader

from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from training.config import RetrievalConfig
from training.data.features import RECENT_KEY, RetrievalFeaturizer
from training.data.loaders import ColumnBatchDataset, batch_loader, seeded_split
from training.data.vocab import UNKNOWN_INDEX

log = logging.getLogger(__name__)


def positive_pairs(users: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame, max_weight: float) -> pd.DataFrame:
    """Aggregate positive events into unique pairs of row positions in ``users``/``items``.

    Events whose user or item is missing from the tables are dropped: they have no side features.
    """
    positive = events[events["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))]
    user_rows = pd.Index(users["user_id"]).get_indexer(positive["user_id"])
    item_rows = pd.Index(items["item_id"]).get_indexer(positive["item_id"])
    weights = positive["event_type"].map(POSITIVE_EVENT_WEIGHTS).to_numpy(np.float64)
    known = (user_rows >= 0) & (item_rows >= 0)
    if (~known).any():
        log.warning("dropping %d positive events with unknown user or item", int((~known).sum()))
    key = user_rows[known].astype(np.int64) * len(items) + item_rows[known]
    unique, inverse = np.unique(key, return_inverse=True)
    summed = np.bincount(inverse, weights=weights[known], minlength=len(unique))
    return pd.DataFrame(
        {
            "user_row": unique // max(len(items), 1),
            "item_row": unique % max(len(items), 1),
            "weight": np.minimum(summed, max_weight).astype(np.float32),
        }
    )


class RetrievalDataModule(pl.LightningDataModule):
    """Owns featurization, the seeded train/val split and the loaders for the two-tower model."""

    def __init__(
        self, users: pd.DataFrame, items: pd.DataFrame, events: pd.DataFrame, config: RetrievalConfig | None = None
    ) -> None:
        super().__init__()
        self.config = config or RetrievalConfig()
        # Last row wins for duplicated ids, matching an upserted catalogue.
        self.users = users.drop_duplicates("user_id", keep="last").reset_index(drop=True)
        self.items = items.drop_duplicates("item_id", keep="last").reset_index(drop=True)
        self.events = events
        self.featurizer: RetrievalFeaturizer | None = None
        self.train_set: ColumnBatchDataset | None = None
        self.val_set: ColumnBatchDataset | None = None
        self.item_log_q: np.ndarray | None = None
        self.n_pairs = 0

    def setup(self, stage: str | None = None) -> None:
        """Idempotent: ``train_retrieval`` calls it early to size the model, then Lightning again."""
        if self.featurizer is not None:
            return
        cfg = self.config
        pairs = positive_pairs(self.users, self.items, self.events, cfg.max_pair_weight)
        if pairs.empty:
            raise ValueError("no positive events between known users and items: nothing to train on")
        self.n_pairs = len(pairs)
        self.featurizer = RetrievalFeaturizer.fit(
            self.users, self.items,
            self.users["user_id"].iloc[np.unique(pairs["user_row"])],
            self.items["item_id"].iloc[np.unique(pairs["item_row"])],
            cfg,
        )
        # In-batch negatives are drawn in proportion to how often an item appears in the pairs:
        # that frequency is the sampling probability the logQ correction subtracts.
        counts = np.bincount(pairs["item_row"], minlength=len(self.items)).astype(np.float64)
        self.item_log_q = np.log(np.maximum(counts, 1.0) / len(pairs)).astype(np.float32)

        user_rows = torch.from_numpy(pairs["user_row"].to_numpy(np.int64))
        item_rows = torch.from_numpy(pairs["item_row"].to_numpy(np.int64))
        user_tensors = self.featurizer.users(self.users, self.events)
        columns = {k: v.index_select(0, user_rows) for k, v in user_tensors.items()}
        columns |= {k: v.index_select(0, item_rows) for k, v in self.featurizer.items(self.items).items()}
        # The pair's own item leaves the user's bag: otherwise the tower learns "in the bag" and
        # nothing about what a user will engage with next.
        recent = columns[RECENT_KEY]
        columns[RECENT_KEY] = recent.masked_fill(recent == columns["item_idx"].unsqueeze(1), UNKNOWN_INDEX)
        columns["weight"] = torch.from_numpy(pairs["weight"].to_numpy(np.float32))
        columns["log_q"] = torch.from_numpy(self.item_log_q).index_select(0, item_rows)
        everything = ColumnBatchDataset(columns)
        train_rows, val_rows = seeded_split(len(pairs), cfg.val_fraction, cfg.seed)
        self.train_set = everything.subset(train_rows)
        self.val_set = everything.subset(val_rows)

    def train_dataloader(self) -> DataLoader:
        assert self.train_set is not None, "call setup() first"
        return batch_loader(
            self.train_set, self.config.batch_size, shuffle=True, drop_last=True, seed=self.config.seed
        )

    def val_dataloader(self) -> DataLoader:
        assert self.val_set is not None, "call setup() first"
        return batch_loader(self.val_set, self.config.batch_size, shuffle=False)

    def model_kwargs(self) -> dict[str, object]:
        """Table sizes and hyperparameters ``TwoTowerModel`` is built from."""
        assert self.featurizer is not None, "call setup() first"
        names = ("embedding_dim", "hidden_dim", "side_dim", "title_dim", "temperature", "logq_correction",
                 "id_dropout", "lr", "weight_decay")
        config = self.config.to_dict()
        return {"cardinalities": self.featurizer.cardinalities(), **{k: config[k] for k in names}}
