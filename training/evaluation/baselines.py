"""Baselines every learned recommender must beat, and an embedding recommender to compare."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from contracts.schemas import POSITIVE_EVENT_WEIGHTS
from training.evaluation.holdout import items_by_user


class PopularityRecommender:
    """Most-interacted items (by positive event weight), minus what the user already has."""

    def __init__(self) -> None:
        self.ranking: list[str] = []
        self.seen: dict[str, set[str]] = {}

    def fit(self, train_events: pd.DataFrame) -> PopularityRecommender:
        positive = train_events[train_events["event_type"].isin(list(POSITIVE_EVENT_WEIGHTS))]
        weight = positive["event_type"].map(POSITIVE_EVENT_WEIGHTS)
        totals = weight.groupby(positive["item_id"]).sum()
        # Ties broken by id so the ranking is deterministic.
        frame = totals.rename("w").reset_index().sort_values(["w", "item_id"], ascending=[False, True])
        self.ranking = frame["item_id"].astype(str).tolist()
        self.seen = items_by_user(train_events)
        return self

    def recommend(self, user_ids: list[str], k: int) -> list[list[str]]:
        out = []
        for user in user_ids:
            seen = self.seen.get(user, set())
            picks: list[str] = []
            for item in self.ranking:
                if item not in seen:
                    picks.append(item)
                    if len(picks) == k:
                        break
            out.append(picks)
        return out

    __call__ = recommend


class EmbeddingRecommender:
    """Exact inner-product top-k over user/item embeddings, excluding each user's seen items."""

    def __init__(
        self,
        user_ids: Sequence[str],
        user_embeddings: np.ndarray,
        item_ids: Sequence[str],
        item_embeddings: np.ndarray,
        seen: dict[str, set[str]] | None = None,
    ) -> None:
        self.user_row = {u: i for i, u in enumerate(user_ids)}
        self.user_embeddings = np.asarray(user_embeddings, dtype=np.float32)
        self.item_ids = np.asarray(list(item_ids), dtype=object)
        self.item_row = {item: i for i, item in enumerate(self.item_ids)}
        self.item_embeddings = np.asarray(item_embeddings, dtype=np.float32)
        self.seen = seen or {}

    def recommend(self, user_ids: list[str], k: int) -> list[list[str]]:
        out: list[list[str]] = []
        for user in user_ids:
            row = self.user_row.get(user)
            if row is None:
                out.append([])
                continue
            scores = self.item_embeddings @ self.user_embeddings[row]
            seen_rows = [self.item_row[i] for i in self.seen.get(user, ()) if i in self.item_row]
            scores[seen_rows] = -np.inf
            top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
            top = top[np.argsort(-scores[top], kind="stable")]
            top = top[np.isfinite(scores[top])]
            out.append([str(i) for i in self.item_ids[top]])
        return out

    __call__ = recommend
