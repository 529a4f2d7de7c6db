"""The serving bundle: every artifact one model version needs, loaded once at start-up."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from training.index.faiss_index import ItemIndex


@dataclass
class ServingBundle:
    """Read-only state of one model version (the ranker itself lives in the Ranker service)."""

    root: Path
    model_version: str
    user_positions: dict[str, int]
    user_embeddings: np.ndarray
    item_positions: pd.Series  # item_id -> row of item_embeddings
    item_embeddings: np.ndarray
    index: ItemIndex
    catalogue: pd.DataFrame  # indexed by item_id
    history: dict[str, set[str]]
    lists: dict[str, list[str]]
    segment_lists: dict[str, list[str]]

    @classmethod
    def load(cls, root: Path) -> ServingBundle:
        retrieval = root / "retrieval"
        user_ids = json.loads((retrieval / "user_ids.json").read_text())
        item_ids = json.loads((retrieval / "item_ids.json").read_text())
        fallbacks = json.loads((root / "fallbacks.json").read_text())
        history = pd.read_parquet(root / "history.parquet")
        return cls(
            root=root,
            model_version=json.loads((root / "bundle.json").read_text())["model_version"],
            user_positions={u: i for i, u in enumerate(user_ids)},
            user_embeddings=np.load(retrieval / "user_embeddings.npy"),
            item_positions=pd.Series(np.arange(len(item_ids)), index=item_ids),
            item_embeddings=np.load(retrieval / "item_embeddings.npy"),
            index=ItemIndex.load(root / "index"),
            catalogue=pd.read_parquet(root / "catalogue.parquet").set_index("item_id"),
            history=history.groupby("user_id")["item_id"].agg(set).to_dict(),
            lists={k: v for k, v in fallbacks.items() if k != "segments"},
            segment_lists=fallbacks.get("segments", {}),
        )

    def user_vector(self, user_id: str) -> np.ndarray | None:
        pos = self.user_positions.get(user_id)
        return None if pos is None else self.user_embeddings[pos]

    def item_vectors(self, item_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of ``item_ids`` and a mask of which ones are known."""
        positions = self.item_positions.reindex(item_ids).to_numpy(dtype=float)
        known = ~np.isnan(positions)
        vectors = np.zeros((len(item_ids), self.item_embeddings.shape[1]), np.float32)
        vectors[known] = self.item_embeddings[positions[known].astype(int)]
        return vectors, known

    def unavailable(self) -> set[str]:
        return set(self.catalogue.index[~self.catalogue["in_stock"].astype(bool)])
