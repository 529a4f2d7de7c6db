"""The Lightning two-tower model (``training.retrieval``) behind the recommender interface.

It trains on the matrix's pairs as click events and keeps side features (category, title, profile)
from the world tables, so it is the same model the platform serves, evaluated on the protocol.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from training.config import RetrievalConfig
from training.recommenders.threads import torch_threads
from training.retrieval import train_retrieval


class TwoTowerRecommender:
    def __init__(
        self,
        users: pd.DataFrame,
        items: pd.DataFrame,
        user_ids: np.ndarray,
        item_ids: np.ndarray,
        config: RetrievalConfig | None = None,
        threads: int | None = 1,
        timestamps: sp.csr_matrix | None = None,
    ) -> None:
        self.users_frame = users[users["user_id"].astype(str).isin(set(map(str, user_ids)))]
        self.items_frame = items[items["item_id"].astype(str).isin(set(map(str, item_ids)))]
        self.user_ids = np.asarray(user_ids, dtype=object)
        self.item_ids = np.asarray(item_ids, dtype=object)
        self.config = config or RetrievalConfig()
        self.threads = threads  # small batches: more threads mostly wait on a shared CPU (threads.py)
        # [users, items] time of each pair (any superset of the fitted matrix): orders the user
        # tower's recent-items bag; looked up only for the pairs being fitted, so no test leaks in.
        self.timestamps = timestamps
        self.user_vectors = np.zeros((0, 0), dtype=np.float32)
        self.item_vectors = np.zeros((0, 0), dtype=np.float32)

    def fit(self, matrix: sp.csr_matrix) -> TwoTowerRecommender:
        coo = matrix.tocoo()
        when = (
            np.asarray(self.timestamps[coo.row, coo.col], dtype=np.float64).ravel()
            if self.timestamps is not None
            else np.zeros(coo.nnz)
        )
        events = pd.DataFrame(
            {
                "user_id": self.user_ids[coo.row],
                "item_id": self.item_ids[coo.col],
                "event_type": "click",
                "timestamp": pd.to_datetime(when, unit="s", utc=True),
            }
        )
        with torch_threads(self.threads):
            artifacts = train_retrieval(
                self.users_frame, self.items_frame, events, self.config, progress=False
            )
        user_rows = pd.Index(artifacts.user_ids).get_indexer(self.user_ids.astype(str))
        item_rows = pd.Index(artifacts.item_ids).get_indexer(self.item_ids.astype(str))
        if (user_rows < 0).any() or (item_rows < 0).any():
            raise ValueError("users or items of the matrix are missing from the world tables")
        self.user_vectors = artifacts.user_embeddings[user_rows]
        self.item_vectors = artifacts.item_embeddings[item_rows]
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return self.user_vectors[users] @ self.item_vectors.T

    def params(self) -> dict[str, Any]:
        keys = ("embedding_dim", "max_epochs", "batch_size", "lr", "temperature")
        return {k: getattr(self.config, k) for k in keys}
